import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db";
import { loadConfig } from "../../src/env";
import { createLogger } from "../../src/lib/logger";
import { CORS_EXPOSED } from "../../src/middleware/edge";
import { HealthSchema } from "../../src/schemas/health";
import { type RunningServer, startServer } from "../../src/server";
import { driveClock, eventually, FakeClock } from "../helpers/clock";
import { expectSchema } from "../helpers/schemas";
import {
  childEnv,
  databaseKinds,
  emptyPgliteTemplate,
  freePort,
  freshDatabaseEnv,
  ROOT,
  waitForHealthy,
} from "./helpers";

// The initialised PGlite directory the fresh databases are copied from, made before the first test needs it.
beforeAll(async () => {
  await emptyPgliteTemplate();
});

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

type DatabaseEnv = Awaited<ReturnType<typeof freshDatabaseEnv>>;

async function freshDatabase(kind: "pglite" | "postgres"): Promise<DatabaseEnv> {
  const db = await freshDatabaseEnv(kind);
  cleanups.push(db.cleanup);
  return db;
}

/** A real server on port 0; on a fresh database unless `db` names one (to restart on the same data). */
async function start(
  kind: "pglite" | "postgres",
  env: Record<string, string> = {},
  db?: DatabaseEnv,
  overrides: Parameters<typeof startServer>[2] = {},
) {
  db ??= await freshDatabase(kind);
  const config = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    RECONCILER_INTERVAL_MS: "0",
    ...db.env,
    ...env,
  });
  const server = await startServer(config, createLogger({ level: "silent" }), overrides);
  cleanups.push(() => server.stop());
  return server;
}

async function signInAnonymous(server: RunningServer) {
  const res = await fetch(`${server.url}/api/auth/sign-in/anonymous`, {
    method: "POST",
    headers: { origin: "http://localhost:3000" },
  });
  expect(res.status).toBe(200);
  const token = res.headers.get("set-auth-token");
  expect(token).toBeTruthy();
  return { authorization: `Bearer ${token}` };
}

describe.each(databaseKinds())("a real listening server on %s", (kind) => {
  test("starts on port 0, migrates, serves /health; stop() lets an in-flight request finish, then refuses connections and closes the database", async () => {
    // The sandbox (and Prefer: wait) read this clock: the slow request below lasts exactly as long as the test says.
    const clock = new FakeClock();
    // Only the sleeps this test is about are on that clock: the sandbox's completion and the request's wait. The
    // server's background loops (the asset runner, the webhook sender) would sleep on it too, and driveClock, which
    // moves time whenever anything sleeps, then moved it on while the request was in real I/O: on a slow database
    // round trip, past the sandbox's delay while the sync slot was taken and on to the request's deadline (seen in
    // CI: "processing"). In their place, background work that says when stop() stopped it.
    let backgroundStopped = false;
    const lifecycle = {
      start() {},
      stop: async () => {
        backgroundStopped = true;
      },
    };
    const server = await start(kind, { SANDBOX_DELAY_MS: "3000" }, undefined, { clock, lifecycle });
    expect(server.port).toBeGreaterThan(0);
    expect(server.deps.database.kind).toBe(kind);

    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(expectSchema(HealthSchema, await health.json()).checks.database.status).toBe("up");

    // A slow request: wait for a sandbox prediction that finishes after SANDBOX_DELAY_MS.
    const auth = await signInAnonymous(server);
    const created = await fetch(`${server.url}/api/predictions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ brandName: "Acme" }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    let inFlightSettled = false;
    // Background loops (the webhook sender) sleep on the same clock: count only the request's wait.
    const sleepersBefore = clock.waiting;
    const inFlight = fetch(`${server.url}/api/predictions/${id}`, {
      headers: { ...auth, prefer: "wait=20" },
    }).finally(() => {
      inFlightSettled = true;
    });
    // Stop only once the request is inside the app (waiting for the prediction), not before it arrives.
    await eventually(() => clock.waiting > sleepersBefore && server.inFlight() === 1);
    expect(server.inFlight()).toBe(1);

    const stopping = server.stop();
    // Still held after stop(): it ends when the prediction does, not when the server stops.
    for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
    expect(inFlightSettled).toBe(false);
    // Then time passes past SANDBOX_DELAY_MS (one provider check a second) and the prediction succeeds.
    const res = await driveClock(clock, inFlight);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; status: string };
    expect(body.id).toBe(id);
    expect(body.status).toBe("succeeded");
    await stopping;
    expect(inFlightSettled).toBe(true);
    expect(backgroundStopped).toBe(true);

    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
    await expect(server.deps.database.ping()).rejects.toThrow();
  });

  test("ADMIN_EMAILS promotes an account that existed before it was listed, at the next start", async () => {
    const db = await freshDatabase(kind);
    const signUp = async (server: RunningServer, email: string) => {
      const res = await fetch(`${server.url}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { origin: "http://localhost:3000", "content-type": "application/json" },
        body: JSON.stringify({ email, password: "correct-horse-battery", name: "Boss" }),
      });
      expect(res.status).toBe(200);
      return { authorization: `Bearer ${res.headers.get("set-auth-token")}` };
    };
    const users = (server: RunningServer, headers: Record<string, string>) =>
      fetch(`${server.url}/api/admin/users`, { headers }).then((r) => r.status);

    const before = await start(kind, {}, db);
    const boss = await signUp(before, "boss@example.com");
    const clerk = await signUp(before, "clerk@example.com");
    expect(await users(before, boss)).toBe(403);
    await before.stop();

    const after = await start(kind, { ADMIN_EMAILS: "Boss@Example.com, nobody@example.com" }, db);
    expect(await users(after, boss)).toBe(200);
    expect(await users(after, clerk)).toBe(403);
  });

  test("MIGRATE_ON_START=false on an empty database creates no tables; npm run db:migrate does", async () => {
    const db = await freshDatabase(kind);
    const noMigrations = { MIGRATE_ON_START: "false" };
    const tables = async (server: RunningServer) =>
      (
        await queryRows<{ name: string }>(
          server.deps.db,
          sql`select table_name as name from information_schema.tables where table_schema = 'public'`,
        )
      ).map((r) => r.name);

    const before = await start(kind, noMigrations, db);
    expect((await fetch(`${before.url}/health`)).status).toBe(200);
    expect(await tables(before)).toEqual([]);
    await before.stop();

    const migrate = spawnSync(process.execPath, ["scripts/migrate.ts"], {
      cwd: ROOT,
      env: childEnv(db.env),
      encoding: "utf8",
      timeout: 25_000,
    });
    expect(migrate.stderr).toBe("");
    expect(migrate.status).toBe(0);
    expect(migrate.stdout).toContain(kind === "postgres" ? "PostgreSQL" : "PGlite");
    // DATABASE_URL never appears in the script's output.
    if (db.env.DATABASE_URL) expect(migrate.stdout).not.toContain(db.env.DATABASE_URL);

    const after = await start(kind, noMigrations, db);
    expect(await tables(after)).toEqual(expect.arrayContaining(["user", "session", "credit_account", "prediction"]));
    const anon = await fetch(`${after.url}/api/auth/sign-in/anonymous`, {
      method: "POST",
      headers: { origin: "http://localhost:3000" },
    });
    expect(anon.status).toBe(200);
    await after.stop();
  });
});

/**
 * `npm run start:node` as a child process. It is spawned when the file starts (below), so Node and tsx boot while
 * the in-process servers above are tested; its test then finds it up, or waits for it.
 */
async function spawnNodeServer() {
  const db = await freshDatabaseEnv("pglite");
  cleanups.push(db.cleanup);
  const port = await freePort();
  const child = spawn("node", ["--import", "tsx", "src/index.ts"], {
    cwd: ROOT,
    env: childEnv({
      ...db.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      RECONCILER_INTERVAL_MS: "0",
      LOG_LEVEL: "info",
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const node = {
    child,
    port,
    output: "",
    exitCode: undefined as number | null | undefined,
    exitSignal: null as string | null,
  };
  child.stdout.on("data", (d) => {
    node.output += d;
  });
  child.stderr.on("data", (d) => {
    node.output += d;
  });
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      node.exitCode = code;
      node.exitSignal = signal;
      resolve();
    }),
  );
  cleanups.push(async () => {
    if (node.exitCode === undefined) child.kill("SIGKILL");
  });
  return { node, exited };
}
let nodeServer: ReturnType<typeof spawnNodeServer> | undefined;
beforeAll(async () => {
  nodeServer = spawnNodeServer();
  // errors surface in the test that awaits it
  nodeServer.catch(() => undefined);
});

describe("npm run start:node (Node 20 + tsx)", () => {
  test("serves /health and exits 0 on SIGTERM", async () => {
    const { node, exited } = await (nodeServer ?? spawnNodeServer());
    try {
      const res = await waitForHealthy(`http://127.0.0.1:${node.port}/health`, () => node.exitCode !== undefined);
      expect(expectSchema(HealthSchema, await res.json()).checks.provider.status).toBe("sandbox");
      // The headers every answer carries are set on Node's outgoing message (src/middleware/edge.ts): on a route's
      // JSON, on a refusal with RateLimit-*, and on Better Auth's own Response.
      const base = `http://127.0.0.1:${node.port}`;
      const origin = "http://localhost:5173";
      const answers = [
        await fetch(`${base}/health`, { headers: { origin, "x-request-id": "node-check-1" } }),
        await fetch(`${base}/api/credits`, { headers: { origin } }),
        await fetch(`${base}/api/auth/get-session`, { headers: { origin } }),
        // Better Auth's bearer plugin names its own exposed header (set-auth-token) on a sign-in's Response.
        await fetch(`${base}/api/auth/sign-in/anonymous`, { method: "POST", headers: { origin } }),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 401, 200, 200]);
      expect(answers[0]?.headers.get("x-request-id")).toBe("node-check-1");
      for (const a of answers) {
        expect(a.headers.get("x-request-id")).toMatch(/^[\w=-]{1,200}$/);
        expect(a.headers.get("strict-transport-security")).toBe("max-age=15552000; includeSubDomains");
        expect(a.headers.get("x-content-type-options")).toBe("nosniff");
        expect(a.headers.get("access-control-allow-origin")).toBe(origin);
        expect(a.headers.get("vary")).toBe("Origin");
        // What a page may read is the same list as on Bun, on every answer.
        expect(a.headers.get("access-control-expose-headers")?.split(",")).toEqual(CORS_EXPOSED);
        await a.arrayBuffer();
      }
      expect(answers[1]?.headers.get("ratelimit-limit")).toMatch(/^\d+$/);
      const noOrigin = await fetch(`${base}/health`);
      expect(noOrigin.headers.get("access-control-allow-credentials")).toBeNull();
      await noOrigin.arrayBuffer();
      node.child.kill("SIGTERM");
      await exited;
      expect({ exitCode: node.exitCode, exitSignal: node.exitSignal }).toEqual({ exitCode: 0, exitSignal: null });
      expect(node.output).toContain("shutting down");
      expect(node.output).toContain("stopped");
    } catch (err) {
      node.child.kill("SIGKILL");
      throw new Error(`${String(err)}\n--- server output ---\n${node.output}`);
    }
  });
});
