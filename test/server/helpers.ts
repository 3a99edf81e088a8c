import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connectPglite } from "../../src/db";
import { createPostgresDatabase, pgliteDump, testDatabaseUrl } from "../helpers/db";

export const ROOT = join(import.meta.dir, "..", "..");

export type DatabaseKind = "pglite" | "postgres";

/** The database kinds to run real-server tests on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const databaseKinds = (): DatabaseKind[] => (testDatabaseUrl() ? ["pglite", "postgres"] : ["pglite"]);

let emptyPglite: Promise<string> | undefined;

/**
 * A PGlite data directory that PGlite has initialised and that holds no table: opening a new directory runs
 * PGlite's initdb (seconds of CPU), so it is unpacked once per test process from the kept "empty" dump and copied
 * for each use.
 */
export function emptyPgliteTemplate(): Promise<string> {
  emptyPglite ??= (async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "logo-srv-template-")), "pglite");
    await (await connectPglite(dir, await pgliteDump("empty"))).close();
    process.once("exit", () => rmSync(dirname(dir), { recursive: true, force: true }));
    return dir;
  })();
  return emptyPglite;
}

/**
 * Environment for a server process or startServer on an EMPTY database of the given kind: a copy of an
 * initialised PGlite directory with no tables, or a new PostgreSQL database (dropped by cleanup). Nothing is
 * migrated here.
 */
export async function freshDatabaseEnv(kind: DatabaseKind) {
  const dir = mkdtempSync(join(tmpdir(), "logo-srv-"));
  if (kind === "pglite") {
    await cp(await emptyPgliteTemplate(), join(dir, "pglite"), { recursive: true });
    return {
      env: { PGLITE_DIR: join(dir, "pglite") } as Record<string, string>,
      async cleanup() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const { url, drop } = await createPostgresDatabase(testDatabaseUrl() as string);
  return {
    env: { DATABASE_URL: url, PGLITE_DIR: join(dir, "unused") } as Record<string, string>,
    async cleanup() {
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port that was free a moment ago (for child processes that must be told their port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Polls url until it answers 200, or the process exits, or the attempts run out. */
export async function waitForHealthy(url: string, exited: () => boolean, attempts = 1200): Promise<Response> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    if (exited()) throw new Error("the server process exited before it became healthy");
    try {
      const res = await fetch(url);
      if (res.status === 200) return res;
      last = res.status;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(25);
  }
  throw new Error(`not healthy: ${String(last)}`);
}

/** Minimal env for a child process: PATH/HOME plus the given variables (never the parent's secrets). */
export function childEnv(vars: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn", ...vars };
}

export interface ChildServer {
  base: string;
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The server as a child process (`command args`, e.g. bun src/index.ts or node dist/index.js) on a fresh database
 * of `kind` and a free port on 127.0.0.1, its public URL its own; healthy before this returns, or the error carries
 * its output. `cleanups` gets the database and a stop (SIGTERM, then SIGKILL after 5 s).
 */
export async function startChildServer(opts: {
  command: string;
  args: string[];
  kind: DatabaseKind;
  /** The server's settings beyond its database, port and URL; given the database's own and the port. */
  env: (databaseEnv: Record<string, string>, port: number) => Record<string, string>;
  cleanups: Array<() => Promise<void>>;
}): Promise<ChildServer> {
  const db = await freshDatabaseEnv(opts.kind);
  opts.cleanups.push(db.cleanup);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(opts.command, opts.args, {
    cwd: ROOT,
    env: childEnv({
      ...db.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      // The sandbox's image URLs are built from the public URL: make them point at this server.
      BETTER_AUTH_URL: base,
      ...opts.env(db.env, port),
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );
  opts.cleanups.push(async () => {
    if (!exited) child.kill("SIGTERM");
    await Promise.race([exit, Bun.sleep(5000).then(() => child.kill("SIGKILL"))]);
  });
  try {
    await waitForHealthy(`${base}/health`, () => exited);
  } catch (err) {
    throw new Error(`${String(err)}\n--- server output ---\n${output}`);
  }
  return { base, child, output: () => output, exit };
}
