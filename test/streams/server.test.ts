import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import { connectPostgres } from "../../src/db";
import { loadConfig } from "../../src/env";
import { createLogger } from "../../src/lib/logger";
import { type RunningServer, startServer } from "../../src/server";
import { startTcpProxy } from "../fakes/tcp-proxy";
import { startWebhookReceiver } from "../fakes/webhook-receiver";
import { createTestApp } from "../helpers/app";
import { testDatabaseUrl } from "../helpers/db";
import { readSse } from "../helpers/sse";
import { databaseKinds, emptyPgliteTemplate, freshDatabaseEnv } from "../server/helpers";

/**
 * Streams and the sandbox's completion against a started server over real HTTP: the walkthrough's webhook steps see
 * `completed` within 2 s of the prediction finishing (nobody polls, the reconciler is off), shutdown ends open
 * streams at once, and a database cut mid-stream never loses the final state.
 */

beforeAll(async () => {
  await emptyPgliteTemplate();
});

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function start(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    RECONCILER_INTERVAL_MS: "0",
    ...env,
  });
  const server = await startServer(config, createLogger({ level: "silent" }));
  cleanups.push(() => server.stop());
  return server;
}

async function database(kind: "pglite" | "postgres") {
  const db = await freshDatabaseEnv(kind);
  cleanups.push(db.cleanup);
  return db.env;
}

async function signUp(server: RunningServer) {
  const res = await fetch(`${server.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: "http://localhost:3000" },
    body: JSON.stringify({
      email: `u-${crypto.randomUUID()}@example.com`,
      password: "correct-horse-battery",
      name: "U",
    }),
  });
  expect(res.status).toBe(200);
  return { authorization: `Bearer ${res.headers.get("set-auth-token")}` };
}

async function call(
  server: RunningServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

for (const kind of databaseKinds()) {
  describe(`on ${kind}`, () => {
    test("README step 7: a sandbox prediction's `completed` webhook arrives within 2 s of it finishing", async () => {
      const receiver = await startWebhookReceiver();
      cleanups.push(() => receiver.close());
      const server = await start({ ...(await database(kind)), SANDBOX_DELAY_MS: "1500" });
      const user = await signUp(server);
      const key = await call(server, "POST", "/api/auth/api-key/create", user, { name: "readme" });
      const headers = { "x-api-key": key.body.key as string };
      const secret = await call(server, "GET", "/api/webhooks/secret", headers);
      expect(secret.status).toBe(200);
      const created = await call(server, "POST", "/api/predictions", headers, {
        brandName: "Acme Coffee",
        webhook: receiver.url,
        webhookEvents: ["start", "completed"],
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      // Nobody polls the prediction: only the sandbox's own announcement can finish it.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !receiver.receiptsFor(id).some((r) => r.body.includes('"prediction.completed"')))
        await Bun.sleep(25);
      const receipts = receiver.receiptsFor(id).map((r) => ({ r, event: JSON.parse(r.body) }));
      expect(receipts.map((x) => x.event.type)).toEqual(["prediction.start", "prediction.completed"]);
      const completed = receipts[1];
      if (!completed) throw new Error("no completed");
      expect(completed.event.data.status).toBe("succeeded");
      const finishedAt = Date.parse(completed.event.data.completedAt);
      expect(completed.r.at - finishedAt).toBeLessThan(2000);
      // …and it finished about when the sandbox said it would, not when a reconciler came by.
      expect(finishedAt - Date.parse(created.body.createdAt)).toBeLessThan(1500 + 1500);
      new Webhook(secret.body.key as string).verify(completed.r.body, completed.r.headers);
      const deliveries = await call(server, "GET", `/api/predictions/${id}/webhook-deliveries`, headers);
      expect(deliveries.body.data.map((d: { event: string; status: string }) => [d.event, d.status])).toContainEqual([
        "completed",
        "succeeded",
      ]);
    }, 30_000);

    test("a stream on a sandbox prediction: status, then done when the sandbox finishes; shutdown ends open streams", async () => {
      const server = await start({ ...(await database(kind)), SANDBOX_DELAY_MS: "500" });
      const user = await signUp(server);
      const created = await call(server, "POST", "/api/predictions", user, { brandName: "Acme" });
      const stream = readSse(await fetch(`${server.url}${created.body.urls.stream}`, { headers: user }));
      expect(stream.status).toBe(200);
      expect((await stream.nextEvent()).event).toBe("status");
      const done = await stream.nextEvent(5000);
      expect(done.event).toBe("done");
      expect(JSON.parse(done.data ?? "{}").status).toBe("succeeded");
      await stream.ended;

      // A prediction that takes long: its stream stays open until the server stops, which ends it at once.
      const slow = await start({ ...(await database(kind)), SANDBOX_DELAY_MS: "600000" });
      const other = await signUp(slow);
      const longer = await call(slow, "POST", "/api/predictions", other, { brandName: "Slow" });
      const open = readSse(await fetch(`${slow.url}${longer.body.urls.stream}`, { headers: other }));
      expect((await open.nextEvent()).event).toBe("status");
      const started = performance.now();
      await slow.stop();
      expect(performance.now() - started).toBeLessThan(3000);
      await open.ended;
      expect(open.events.at(-1)?.retry).toBeGreaterThan(0);
    }, 30_000);
  });
}

describe.skipIf(!testDatabaseUrl())("a database cut mid-stream (PostgreSQL)", () => {
  test("the stream delivers the final state once the database is back, or ends so a resume gets it; never hangs", async () => {
    const env = await database("postgres");
    const direct = new URL(env.DATABASE_URL as string);
    const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    cleanups.push(() => proxy.close());
    const server = await start({
      ...env,
      DATABASE_URL: proxy.url(env.DATABASE_URL as string),
      DATABASE_CONNECT_TIMEOUT_MS: "1000",
      SANDBOX_DELAY_MS: "600000",
    });
    // Another instance on the same database that the cut does not reach: it makes the change meanwhile.
    const handle = connectPostgres({ url: env.DATABASE_URL as string, poolMax: 4 });
    const other = await createTestApp({ database: handle, env: { SANDBOX_DELAY_MS: "600000" } });
    cleanups.push(async () => {
      await other.close();
      await handle.close();
    });
    const user = await signUp(server);
    const p = await call(server, "POST", "/api/predictions", user, { brandName: "Acme" });
    const stream = readSse(await fetch(`${server.url}${p.body.urls.stream}`, { headers: user }));
    const first = await stream.nextEvent();
    expect(first.event).toBe("status");

    proxy.cut();
    await Bun.sleep(300);
    const canceled = await other.json("POST", p.body.urls.cancel, { headers: user });
    expect(canceled.status).toBe(200);
    await Bun.sleep(700);
    proxy.restore();

    let done: { event?: string; data?: string } | undefined;
    try {
      for (;;) {
        const e = await stream.nextEvent(15_000);
        if (e.event === "done") {
          done = e;
          break;
        }
      }
    } catch {
      // The stream ended (with a retry hint) instead: a resume must get the final state at once.
      const retry = stream.events.find((e) => e.retry !== undefined);
      expect(retry).toBeDefined();
      const resumed = readSse(
        await fetch(`${server.url}${p.body.urls.stream}`, { headers: { ...user, "last-event-id": first.id ?? "" } }),
      );
      done = await resumed.nextEvent(10_000);
    }
    expect(done?.event).toBe("done");
    expect(JSON.parse(done?.data ?? "{}").status).toBe("canceled");
  }, 60_000);
});
