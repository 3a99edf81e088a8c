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
