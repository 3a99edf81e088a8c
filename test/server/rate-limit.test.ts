import { afterAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../helpers/app";
import { createTestDatabase } from "../helpers/db";
import { requestFrom } from "../helpers/peer";
import { expectError } from "../helpers/schemas";

/** Rate limits through HTTP: headers on every response, 429 with Retry-After, and a store shared by instances. */

const apps: TestApp[] = [];
// One database for the file: what each test counts lives in its own app's memory store, or under its own new
// users' keys in the postgres store, so the apps need no database of their own.
let shared: Promise<TestApp["database"]> | undefined;
afterAll(async () => {
  for (const a of apps.reverse()) await a.close();
  await (await shared)?.close();
});

async function app(env: Record<string, string>, database?: TestApp["database"]) {
  shared ??= createTestDatabase();
  const a = await createTestApp({ env, database: database ?? (await shared) });
  apps.push(a);
  return a;
}

function rateHeaders(h: Headers) {
  return {
    limit: h.get("ratelimit-limit"),
    remaining: h.get("ratelimit-remaining"),
    reset: Number(h.get("ratelimit-reset")),
  };
}

describe("memory store", () => {
  test("the N+1th request in a minute is 429 rate_limited with Retry-After; every response has RateLimit-*", async () => {
    const t = await app({ RATE_LIMIT_MODERATE_PER_MIN: "3" });
    const s = await t.signUp();
    const remaining: Array<string | null> = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.json("GET", "/api/credits", { headers: s.headers });
      expect(res.status).toBe(200);
      const h = rateHeaders(res.headers);
      expect(h.limit).toBe("3");
      expect(h.reset).toBeGreaterThan(0);
      expect(h.reset).toBeLessThanOrEqual(60);
      remaining.push(h.remaining);
    }
    expect(remaining).toEqual(["2", "1", "0"]);

    const limited = await t.json("GET", "/api/credits", { headers: s.headers });
    const err = expectError(limited, 429, "rate_limited");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(rateHeaders(limited.headers)).toEqual({ limit: "3", remaining: "0", reset: retryAfter });
    expect(err.details).toEqual({ limit: 3, retryAfterSeconds: retryAfter });

    // The limit is per caller: another user still has its own budget.
    const other = await t.signUp();
    expect((await t.json("GET", "/api/credits", { headers: other.headers })).status).toBe(200);
  });

  test("tiers are separate: strict (POST /api/predictions) does not consume the polling budget", async () => {
    const t = await app({ RATE_LIMIT_STRICT_PER_MIN: "1", RATE_LIMIT_POLL_PER_MIN: "5", SANDBOX_DELAY_MS: "0" });
    const s = await t.signUp();
    const first = await t.json("POST", "/api/predictions", { body: { brandName: "Acme" }, headers: s.headers });
    expect(first.status).toBe(201);
    expect(rateHeaders(first.headers).limit).toBe("1");
    const second = await t.json("POST", "/api/predictions", { body: { brandName: "Acme" }, headers: s.headers });
    expectError(second, 429, "rate_limited");
    const poll = await t.json("GET", `/api/predictions/${first.body.id}`, { headers: s.headers });
    expect(poll.status).toBe(200);
    expect(rateHeaders(poll.headers)).toMatchObject({ limit: "5", remaining: "4" });
  });

  test("anonymous callers are limited by client address (the socket peer; X-Forwarded-For only from TRUSTED_PROXIES)", async () => {
    const t = await app({ RATE_LIMIT_MODERATE_PER_MIN: "2" });
    const from = (peer: string) => requestFrom(t, peer, "GET", "/api/credits/packages");
    expect((await from("203.0.113.1")).status).toBe(200);
    expect((await from("203.0.113.1")).status).toBe(200);
    expectError(await from("203.0.113.1"), 429, "rate_limited");
    expect((await from("203.0.113.2")).status).toBe(200);
  });

  test("refusals carry RateLimit-* too: 401 and 403 count against the caller's budget (no free guessing of credentials)", async () => {
    const t = await app({ RATE_LIMIT_MODERATE_PER_MIN: "3", RATE_LIMIT_STRICT_PER_MIN: "2" });
    const from = { "x-forwarded-for": "198.51.100.7" };
    const bad = { headers: { ...from, "x-api-key": "not-a-real-key" } };
    const first = await t.json("GET", "/api/credits", bad);
    expectError(first, 401, "unauthorized");
    expect(rateHeaders(first.headers)).toMatchObject({ limit: "3", remaining: "2" });
    expectError(await t.json("GET", "/api/credits/transactions", bad), 401, "unauthorized");
    expectError(await t.json("GET", "/api/admin/users", bad), 401, "unauthorized");
    expectError(await t.json("GET", "/api/credits", bad), 429, "rate_limited");
    const strict = await t.json("POST", "/api/predictions", { ...bad, body: { brandName: "Acme" } });
    expectError(strict, 401, "unauthorized");
    expect(rateHeaders(strict.headers)).toMatchObject({ limit: "2", remaining: "1" });

    const s = await t.signUp();
    const forbidden = await t.json("GET", "/api/admin/users", { headers: s.headers });
    expectError(forbidden, 403, "forbidden");
    expect(rateHeaders(forbidden.headers)).toMatchObject({ limit: "3", remaining: "2" });
  });

  test("each instance with the memory store counts on its own", async () => {
    const a = await app({ RATE_LIMIT_MODERATE_PER_MIN: "2" });
    const b = await app({ RATE_LIMIT_MODERATE_PER_MIN: "2" }, a.database);
    const s = await a.signUp();
    for (const x of [a, a, b, b])
      expect((await x.json("GET", "/api/credits", { headers: s.headers })).status).toBe(200);
    expectError(await a.json("GET", "/api/credits", { headers: s.headers }), 429, "rate_limited");
  });
});

describe("RATE_LIMIT_STORE=postgres", () => {
  test("two app instances on one database share the counter", async () => {
    const env = { RATE_LIMIT_STORE: "postgres", RATE_LIMIT_MODERATE_PER_MIN: "3" };
    const a = await app(env);
    const b = await app(env, a.database);
    const s = await a.signUp();
    const seen: string[] = [];
    for (const x of [a, b, a]) {
      const res = await x.json("GET", "/api/credits", { headers: s.headers });
      expect(res.status).toBe(200);
      seen.push(res.headers.get("ratelimit-remaining") ?? "");
    }
    expect(seen).toEqual(["2", "1", "0"]);
    const limited = await b.json("GET", "/api/credits", { headers: s.headers });
    expectError(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expectError(await a.json("GET", "/api/credits", { headers: s.headers }), 429, "rate_limited");
  });

  test("concurrent requests across instances never exceed the limit", async () => {
    const env = { RATE_LIMIT_STORE: "postgres", RATE_LIMIT_MODERATE_PER_MIN: "5" };
    const a = await app(env);
    const b = await app(env, a.database);
    const s = await a.signUp();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).json("GET", "/api/credits", { headers: s.headers })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429)).toHaveLength(7);
  });
});
