import { afterAll, describe, expect, test } from "bun:test";
import { createServer, connect as tcpConnect } from "node:net";
import pg from "pg";
import { isDatabaseUnavailable } from "../../src/db/outage";
import { loadConfig } from "../../src/env";
import { createLogger } from "../../src/lib/logger";
import { ErrorSchema } from "../../src/schemas/common";
import { type RunningServer, startServer } from "../../src/server";
import { startTcpProxy, type TcpProxy } from "../fakes/tcp-proxy";
import { ledgerViolations, testDatabaseUrl } from "../helpers/db";
import { expectSchema } from "../helpers/schemas";
import { freshDatabaseEnv } from "./helpers";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe("isDatabaseUnavailable", () => {
  const wrapped = (cause: unknown) => Object.assign(new Error("Failed query: select 1"), { cause });
  test("connection refusals, resets, terminations, timeouts and server shutdowns are outages, also when wrapped", () => {
    for (const err of [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      new Error("Connection terminated unexpectedly"),
      new Error("Connection terminated due to connection timeout"),
      new Error("timeout exceeded when trying to connect"),
      new Error("Query read timeout"),
      new Error("Client has encountered a connection error and is not queryable"),
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
      Object.assign(new Error("the database system is starting up"), { code: "57P03" }),
      Object.assign(new Error("connection failure"), { code: "08006" }),
    ]) {
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect(isDatabaseUnavailable(wrapped(wrapped(err)))).toBe(true);
    }
  });
  test("query errors and other failures are not", () => {
    for (const err of [
      Object.assign(new Error('duplicate key value violates unique constraint "x"'), { code: "23505" }),
      Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" }),
      Object.assign(new Error('relation "x" does not exist'), { code: "42P01" }),
      new TypeError("Cannot read properties of undefined"),
      "a string",
      null,
    ])
      expect(isDatabaseUnavailable(err)).toBe(false);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(isDatabaseUnavailable(loop)).toBe(false);
  });
});

/** An echo server behind the proxy: what each mode does to bytes and connections, without a database. */
describe("the TCP proxy", () => {
  async function echoBehindProxy() {
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const address = echo.address();
    const proxy = await startTcpProxy({
      host: "127.0.0.1",
      port: typeof address === "object" && address ? address.port : 0,
    });
    cleanups.push(async () => {
      await proxy.close();
      await new Promise((r) => echo.close(r));
    });
    return proxy;
  }
  function open(proxy: TcpProxy) {
    const socket = tcpConnect(proxy.port, "127.0.0.1");
    const received: string[] = [];
    let closed = false;
    socket.on("data", (d) => received.push(d.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      closed = true;
    });
    return { socket, text: () => received.join(""), closed: () => closed };
  }
  const until = async (cond: () => boolean, ms = 2000) => {
    const end = performance.now() + ms;
    while (!cond() && performance.now() < end) await Bun.sleep(5);
    return cond();
  };

  test("pass forwards; partition holds bytes on open and new connections and restore delivers them", async () => {
    const proxy = await echoBehindProxy();
    const a = open(proxy);
    a.socket.write("one");
    expect(await until(() => a.text() === "one")).toBe(true);
    proxy.partition();
    a.socket.write("two");
    const b = open(proxy);
    b.socket.write("three");
    expect(await until(() => a.text() !== "one" || b.text() !== "", 300)).toBe(false);
    expect(a.closed() || b.closed()).toBe(false);
    proxy.restore();
    expect(await until(() => a.text() === "onetwo" && b.text() === "three")).toBe(true);
  });

  test("cut closes open connections and refuses new ones until restored", async () => {
    const proxy = await echoBehindProxy();
    const a = open(proxy);
    a.socket.write("x");
    expect(await until(() => a.text() === "x")).toBe(true);
    proxy.cut();
    expect(await until(a.closed)).toBe(true);
    const b = open(proxy);
    expect(await until(b.closed)).toBe(true);
    proxy.restore();
    const c = open(proxy);
    c.socket.write("y");
    expect(await until(() => c.text() === "y")).toBe(true);
    expect(proxy.openConnections()).toBe(1);
  });
});

// The outage itself needs a PostgreSQL server to put the proxy in front of; CI runs it there.
if (testDatabaseUrl()) {
  describe("a real server on PostgreSQL through a proxy that is cut, then partitioned", () => {
    test("every request answers 503 + Retry-After in time during each outage, all is 2xx again within 5 s, the reconciler resumes, the ledger holds", async () => {
      await outageScenario();
    });
  });
}

const CONNECT_TIMEOUT_MS = 1000;
const OUTAGE_MS = 3000;

interface Sample {
  what: string;
  started: number;
  ended: number;
  status: number;
  retryAfter: string | null;
  code?: string;
}

async function outageScenario() {
  const database = await freshDatabaseEnv("postgres");
  cleanups.push(database.cleanup);
  const direct = new URL(database.env.DATABASE_URL as string);
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  cleanups.push(() => proxy.close());
  const config = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    ...database.env,
    DATABASE_URL: proxy.url(database.env.DATABASE_URL as string),
    DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    DATABASE_POOL_MAX: "10",
    RECONCILER_INTERVAL_MS: "200",
    PREDICTION_STALE_AFTER_MS: "300",
    SANDBOX_DELAY_MS: "400",
    // A prediction charged just before the cut whose provider id could not be recorded is failed and
    // refunded by the reconciler at its deadline: short here, so the test sees it happen.
    PREDICTION_DEADLINE_MS: "3000",
    SIGNUP_CREDITS: "1000",
    // Every account here is made from 127.0.0.1: lift the per-address welcome-credit budget.
    FREE_CREDITS_PER_ADDRESS_PER_DAY: "1000000",
    SESSION_CACHE_TTL_MS: "0",
    SHUTDOWN_TIMEOUT_MS: "1000",
    RATE_LIMIT_STRICT_PER_MIN: "100000",
    RATE_LIMIT_MODERATE_PER_MIN: "100000",
    RATE_LIMIT_POLL_PER_MIN: "100000",
  });
  const server = await startServer(config, createLogger({ level: "silent" }));
  cleanups.push(() => server.stop());
  // A second connection that bypasses the proxy, to read the ledger whatever the proxy does.
  const check = new pg.Pool({ connectionString: database.env.DATABASE_URL, max: 2 });
  // The test database is dropped (with force) at the end; a killed idle connection must not be an unhandled error.
  check.on("error", () => {});
  cleanups.push(() => check.end());

  const users = await Promise.all([1, 2, 3, 4].map((i) => signUp(server, `outage${i}@example.com`)));

  const samples: Sample[] = [];
  const call = async (what: string, path: string, init: RequestInit = {}) => {
    const started = performance.now();
    // A request that fails to get any answer is recorded as status 0 (and fails the assertions below).
    const res = await fetch(`${server.url}${path}`, init).catch(() => undefined);
    const text = (await res?.text().catch(() => "")) ?? "";
    const ended = performance.now();
    const status = res?.status ?? 0;
    const sample: Sample = { what, started, ended, status, retryAfter: res?.headers.get("retry-after") ?? null };
    // /health answers its own Health body, also when down; everything else answers errors in the envelope.
    if (status >= 400 && what !== "health") sample.code = expectSchema(ErrorSchema, JSON.parse(text)).error.code;
    if (what === "health" && text) sample.code = (JSON.parse(text) as { status: string }).status;
    samples.push(sample);
    return { status, body: text && status ? JSON.parse(text) : undefined };
  };

  // Load: per user, create → poll → read credits and the list; every third prediction is canceled.
  let running = true;
  const worker = async (headers: Record<string, string>) => {
    let n = 0;
    while (running) {
      n++;
      const created = await call("create", "/api/predictions", {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ brandName: `Outage ${n}` }),
      });
      const id = created.status === 201 ? (created.body as { id: string }).id : undefined;
      if (id && n % 3 === 0) await call("cancel", `/api/predictions/${id}/cancel`, { method: "POST", headers });
      if (id) await call("poll", `/api/predictions/${id}`, { headers });
      await call("credits", "/api/credits", { headers });
      await call("list", "/api/predictions?limit=5", { headers });
      await call("health", "/health");
      // Better Auth's own routes: a guest sign-in writes a user, a session and its welcome credits.
      if (n % 2 === 0)
        await call("guest", "/api/auth/sign-in/anonymous", {
          method: "POST",
          headers: { origin: "http://localhost:3000" },
        });
    }
  };
  const load = users.flatMap((u) => [worker(u.headers), worker(u.headers)]);

  await Bun.sleep(500);
  const windows: { mode: string; start: number; end: number; recoveredMs: number }[] = [];
  for (const mode of ["cut", "partition"] as const) {
    const start = performance.now();
    if (mode === "cut") proxy.cut();
    else proxy.partition();
    await Bun.sleep(OUTAGE_MS / 2);
    await call("health", "/health");
    await Bun.sleep(start + OUTAGE_MS - performance.now());
    const end = performance.now();
    proxy.restore();
    windows.push({ mode, start, end, recoveredMs: await recovery(server, users[0]?.headers ?? {}, end) });
  }
  running = false;
  await Promise.all(load);

  // Nothing was a 500 (or any 5xx but 503), nothing took longer than the connect timeout + 1 s.
  const slowest = Math.max(...samples.map((s) => s.ended - s.started));
  const unexpected = samples.filter((s) => s.status === 0 || (s.status >= 500 && s.status !== 503));
  expect(unexpected).toEqual([]);
  expect(slowest).toBeLessThanOrEqual(CONNECT_TIMEOUT_MS + 1000);
  // Every 503 is the outage answer with Retry-After.
  for (const s of samples.filter((x) => x.status === 503 && x.what !== "health")) {
    expect(s.code).toBe("service_unavailable");
    expect(s.retryAfter).toMatch(/^\d+$/);
  }
  for (const w of windows) {
    // A request that began inside the window (past the moment its connection noticed) and ended before
    // the restore could not reach the database: all of them were 503, none hung, none succeeded.
    const inside = samples.filter((s) => s.started > w.start + 50 && s.ended < w.end);
    expect(inside.length).toBeGreaterThan(4);
    expect(inside.filter((s) => s.status !== 503)).toEqual([]);
    const health = inside.filter((s) => s.what === "health");
    expect(health.length).toBeGreaterThan(0);
    for (const h of health) expect(h.code).toBe("down");
    // The first answers came fast enough to measure: report them with the recovery time.
    const latencies = inside.map((s) => s.ended - s.started).sort((a, b) => a - b);
    console.info(
      `${w.mode}: ${inside.length} requests answered 503 in ${latencies[0]?.toFixed(0)}–${latencies.at(-1)?.toFixed(0)} ms ` +
        `(median ${latencies[Math.floor(latencies.length / 2)]?.toFixed(0)} ms); every endpoint 2xx again ${w.recoveredMs.toFixed(0)} ms after the restore`,
    );
    expect(w.recoveredMs).toBeLessThan(5000);
  }
  // After the restore the load ran again: creates succeeded after each window.
  for (const w of windows)
    expect(samples.some((s) => s.what === "create" && s.started > w.end && s.status === 201)).toBe(true);

  // The reconciler resumed: predictions nobody polls reach their final state on their own.
  const fresh = await Promise.all(
    users.map(async (u) => {
      const res = await call("create", "/api/predictions", {
        method: "POST",
        headers: { ...u.headers, "content-type": "application/json" },
        body: JSON.stringify({ brandName: "After the outage" }),
      });
      expect(res.status).toBe(201);
      return (res.body as { id: string }).id;
    }),
  );
  // And a cancel after the outage refunds as before (the load's own cancels may all lose to completion).
  const canceler = users[0];
  if (!canceler) throw new Error("no users");
  const created = await call("create", "/api/predictions", {
    method: "POST",
    headers: { ...canceler.headers, "content-type": "application/json" },
    body: JSON.stringify({ brandName: "Canceled after the outage" }),
  });
  expect(created.status).toBe(201);
  const canceled = await call("cancel", `/api/predictions/${(created.body as { id: string }).id}/cancel`, {
    method: "POST",
    headers: canceler.headers,
  });
  expect(canceled.status).toBe(200);
  const active = async () =>
    (
      await check.query<{ n: number }>(
        "select count(*)::int as n from prediction where status in ('queued', 'processing') or id = any($1::uuid[]) and status <> 'succeeded'",
        [fresh],
      )
    ).rows[0]?.n;
  const settleBy = performance.now() + 10_000;
  while ((await active()) !== 0 && performance.now() < settleBy) await Bun.sleep(100);
  expect(await active()).toBe(0);

  // The ledger holds: balance = Σ ledger ≥ 0; every charge has its prediction; failed or canceled
  // predictions refunded exactly once, others never.
  const { drizzle } = await import("drizzle-orm/node-postgres");
  expect(await ledgerViolations(drizzle(check))).toEqual([]);
  const orphanCharges = await check.query(
    `select t.id from credit_transaction t left join prediction p on p.id = t.prediction_id
     where t.type = 'generation' and (p.id is null or p.credits_charged <> -t.amount)`,
  );
  expect(orphanCharges.rows).toEqual([]);
  const refunds = await check.query<{ id: string; status: string; refunds: number; charges: number }>(
    `select p.id, p.status::text as status,
            count(t.id) filter (where t.type = 'refund')::int as refunds,
            count(t.id) filter (where t.type = 'generation')::int as charges
     from prediction p left join credit_transaction t on t.prediction_id = p.id group by p.id, p.status`,
  );
  const wrong = refunds.rows.filter(
    (r) => r.charges !== 1 || r.refunds !== (r.status === "failed" || r.status === "canceled" ? 1 : 0),
  );
  expect(wrong).toEqual([]);
  expect(refunds.rows.filter((r) => r.status === "canceled").length).toBeGreaterThan(0);
  expect(refunds.rows.filter((r) => r.status === "succeeded").length).toBeGreaterThan(0);

  // No pool slot leaked by a transaction cut at its BEGIN: closing the pool does not wait for one.
  const stopped = await Promise.race([server.stop().then(() => "stopped"), Bun.sleep(3000).then(() => "hung")]);
  expect(stopped).toBe("stopped");
}

async function signUp(server: RunningServer, email: string) {
  const res = await fetch(`${server.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: "http://localhost:3000" },
    body: JSON.stringify({ email, password: "correct-horse-battery", name: "Outage" }),
  });
  expect(res.status).toBe(200);
  return { headers: { authorization: `Bearer ${res.headers.get("set-auth-token")}` } };
}

/** Milliseconds from `since` until a read, a create, a poll, the list and /health all answer 2xx at once. */
async function recovery(server: RunningServer, headers: Record<string, string>, since: number): Promise<number> {
  const deadline = since + 10_000;
  while (performance.now() < deadline) {
    const ok = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${server.url}${path}`, { ...init, headers: { ...headers, ...init.headers } });
      const body = await res.json().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? (body as { id?: string }) : undefined;
    };
    const created = await ok("/api/predictions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ brandName: "Recovery" }),
    });
    const all =
      created?.id &&
      (await Promise.all([
        ok(`/api/predictions/${created.id}`),
        ok("/api/credits"),
        ok("/api/predictions"),
        ok("/health"),
        ok("/api/credits/transactions"),
        ok("/api/auth/get-session"),
      ]));
    if (Array.isArray(all) && all.every(Boolean)) return performance.now() - since;
    await Bun.sleep(50);
  }
  return Number.POSITIVE_INFINITY;
}
