import { afterAll } from "bun:test";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app";
import { createAuth } from "../../src/auth/instance";
import { createSessionCache } from "../../src/auth/session-cache";
import { createLogoApiClient } from "../../src/client";
import type { DatabaseHandle } from "../../src/db";
import type { Deps } from "../../src/deps";
import { buildDeps } from "../../src/deps";
import { loadConfig } from "../../src/env";
import { systemClock } from "../../src/lib/clock";
import { createLogger } from "../../src/lib/logger";
import { createReconcilerLifecycle } from "../../src/services/reconciler";
import { createTestDatabase, ledgerViolations } from "./db";
import { memoizedScrypt } from "./password";
import { readBody } from "./schemas";

export interface TestAppOptions {
  env?: Record<string, string>;
  overrides?: Partial<Deps>;
  /** reuse a database (e.g. two app instances on one database) */
  database?: DatabaseHandle;
}

/**
 * The real app on a fresh database, driven through its fetch handler. Outside services are
 * reached over HTTP (fakes on 127.0.0.1), never by replacing our own modules.
 */
export async function createTestApp(opts: TestAppOptions = {}) {
  const database = opts.database ?? (await createTestDatabase());
  // Each app stores output images in its own temporary directory, removed on close.
  const storageDir = join(tmpdir(), `logo-test-files-${crypto.randomUUID()}`);
  const config = loadConfig({
    STORAGE_DIR: storageDir,
    NODE_ENV: "test",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    BETTER_AUTH_URL: "http://localhost:3000",
    RATE_LIMIT_STRICT_PER_MIN: "10000",
    RATE_LIMIT_MODERATE_PER_MIN: "10000",
    RATE_LIMIT_POLL_PER_MIN: "10000",
    RECONCILER_INTERVAL_MS: "0",
    // Every in-process request comes from one address (127.0.0.1): tests that sign up many users keep their
    // welcome credits; test/auth/edges.test.ts runs the budget at its production default.
    FREE_CREDITS_PER_ADDRESS_PER_DAY: "1000000",
    ...opts.env,
  });
  const logger = createLogger({ level: config.LOG_LEVEL });
  // Better Auth on the same terms as buildDeps gives it, but with its scrypt memoized (see memoizedScrypt).
  const sessionCache = opts.overrides?.sessionCache ?? createSessionCache(config.SESSION_CACHE_TTL_MS);
  const auth = createAuth({
    config,
    db: database.db,
    logger: opts.overrides?.logger ?? logger,
    sessionCache,
    clock: opts.overrides?.clock ?? systemClock,
    passwordHasher: memoizedScrypt,
  });
  const deps = buildDeps(config, database, logger, { sessionCache, auth, ...opts.overrides });
  deps.lifecycle ??= config.RECONCILER_INTERVAL_MS > 0 ? createReconcilerLifecycle(deps) : undefined;
  const app = createApp(deps);
  const fetch = async (input: Request | string, init?: RequestInit) =>
    app.fetch(typeof input === "string" ? new Request(new URL(input, "http://localhost:3000"), init) : input);
  const client = createLogoApiClient({ baseUrl: "http://localhost:3000", fetch: async (r) => app.fetch(r) });

  let n = 0;
  /**
   * Registers a user through Better Auth and returns its bearer token and id. `headers` carries a
   * guest's credentials (its bearer `headers` or `{ cookie }`) to sign up from that guest session.
   */
  async function signUp(
    opts: { email?: string; password?: string; name?: string; headers?: Record<string, string> } = {},
  ) {
    const email = opts.email ?? `user${++n}-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const res = await fetch("/api/auth/sign-up/email", {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://localhost:3000", ...opts.headers },
      body: JSON.stringify({
        email,
        password: opts.password ?? "correct-horse-battery",
        name: opts.name ?? "Test User",
      }),
    });
    if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
    return sessionOf(res);
  }

  async function signInAnonymous() {
    const res = await fetch("/api/auth/sign-in/anonymous", {
      method: "POST",
      headers: { origin: "http://localhost:3000" },
    });
    if (res.status !== 200) throw new Error(`anonymous sign-in failed: ${res.status} ${await res.text()}`);
    return sessionOf(res);
  }

  async function sessionOf(res: Response) {
    const token = res.headers.get("set-auth-token");
    const body = (await res.json()) as { user: { id: string; email: string } };
    if (!token) throw new Error("no set-auth-token header");
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    return {
      token,
      cookie,
      userId: body.user.id,
      email: body.user.email,
      headers: { authorization: `Bearer ${token}` },
    };
  }

  return {
    app,
    deps,
    db: database.db,
    database,
    config,
    fetch,
    client,
    signUp,
    signInAnonymous,
    /** JSON request helper: returns status, headers and parsed body. */
    async json(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}) {
      const res = await fetch(path, {
        method,
        headers: { ...(opts.body !== undefined ? { "content-type": "application/json" } : {}), ...opts.headers },
        body:
          opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
      });
      const body = await readBody(res);
      return { status: res.status, headers: res.headers, body };
    },
    ledgerViolations: () => ledgerViolations(database.db),
    /** Stops background work, checks balance = sum(ledger) for every user, and drops the database. */
    async close() {
      deps.streams.closeAll();
      await deps.lifecycle?.stop();
      // Its own connection (PostgreSQL) or listen (PGlite): closed before the database is dropped.
      await deps.changes.stop();
      await deps.assetRunner.close();
      deps.eventLoopLag.close();
      // Every test file gets the ledger invariant checked, whether or not it asks (a test that closed
      // the database on purpose cannot be checked, and says so by the query failing).
      const violations = await ledgerViolations(database.db).catch(() => []);
      if (!opts.database) await database.close();
      await rm(storageDir, { recursive: true, force: true });
      if (violations.length)
        throw new Error(`ledger invariant broken (balance != sum of ledger): ${JSON.stringify(violations)}`);
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/**
 * For a test file that makes apps test by test: the returned function makes one (as createTestApp) and every
 * app it made is closed after the file's tests, newest first.
 */
export function appsClosedAfterAll(): (opts?: TestAppOptions) => Promise<TestApp> {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close();
  });
  return async (opts = {}) => {
    const a = await createTestApp(opts);
    apps.push(a);
    return a;
  };
}
