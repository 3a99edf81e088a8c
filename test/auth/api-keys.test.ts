import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db";
import { appsClosedAfterAll, type TestApp } from "../helpers/app";
import { FakeClock } from "../helpers/clock";
import { expectError } from "../helpers/schemas";

/**
 * API keys under our one limit model: our tiers, keyed by the key's user, answering our 429; no hidden per-key
 * limiter answering 401; verification cached in-process so a busy key costs no database write per request.
 */

const makeApp = appsClosedAfterAll();
async function app(env: Record<string, string>, clock?: FakeClock) {
  return makeApp({ env, overrides: clock ? { clock } : {} });
}

async function createKey(t: TestApp) {
  const s = await t.signUp();
  const created = await t.json("POST", "/api/auth/api-key/create", {
    headers: { ...s.headers, origin: "http://localhost:3000" },
    body: { name: "integration" },
  });
  expect(created.status).toBe(200);
  return { s, key: created.body.key as string, id: created.body.id as string };
}

describe("API keys", () => {
  test("2,000 API-key requests in a minute under raised limits are all 200, with a write per cache TTL, not per request", async () => {
    const clock = new FakeClock();
    const t = await app({ SESSION_CACHE_TTL_MS: "5000" }, clock);
    const { key, id } = await createKey(t);
    const headers = { "x-api-key": key };
    // Every write to the key's row is counted by a trigger.
    await t.db.execute(sql`create table apikey_write (id text)`);
    await t.db.execute(
      sql.raw(`create function count_apikey_write() returns trigger language plpgsql as $$
        begin insert into apikey_write values (new.id); return new; end $$`),
    );
    await t.db.execute(
      sql`create trigger apikey_write after update on apikey for each row execute function count_apikey_write()`,
    );
    const writes = async () =>
      Number(
        (await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from apikey_write where id = ${id}`))[0]?.n,
      );

    const statuses = new Map<number, number>();
    const started = performance.now();
    for (let batch = 0; batch < 100; batch++) {
      const results = await Promise.all(Array.from({ length: 20 }, () => t.fetch("/api/credits", { headers })));
      for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      // 2,000 requests spread over 50 s of the (fake) minute: the cache is refreshed every 5 s.
      if (batch % 2 === 1) clock.advance(500);
    }
    const ms = performance.now() - started;
    expect(Object.fromEntries(statuses)).toEqual({ 200: 2000 });
    // Better Auth's plugin writes the row (lastRequest, updatedAt) on each verification it makes: 50 s of
    // traffic at a 5 s TTL is one verification per 5 s, not one per request.
    const n = await writes();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(2 * 11);
    console.log(`2,000 API-key requests in ${Math.round(ms)} ms; ${n} writes to the key's row`);
  });

  test("a limit answers our 429 with RateLimit headers, keyed by the key's user (shared with its bearer token)", async () => {
    const t = await app({ RATE_LIMIT_MODERATE_PER_MIN: "3" });
    const { s, key } = await createKey(t);
    expect((await t.json("GET", "/api/credits", { headers: { "x-api-key": key } })).status).toBe(200);
    expect((await t.json("GET", "/api/credits", { headers: s.headers })).status).toBe(200);
    expect((await t.json("GET", "/api/credits", { headers: { "x-api-key": key } })).status).toBe(200);
    const limited = await t.json("GET", "/api/credits", { headers: { "x-api-key": key } });
    expectError(limited, 429, "rate_limited");
    expect(limited.headers.get("ratelimit-limit")).toBe("3");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("an unknown key is 401; a key disabled through this instance is refused at once", async () => {
    const t = await app({ SESSION_CACHE_TTL_MS: "60000" });
    expectError(await t.json("GET", "/api/credits", { headers: { "x-api-key": "not-a-key" } }), 401, "unauthorized");
    const { s, key, id } = await createKey(t);
    expect((await t.json("GET", "/api/credits", { headers: { "x-api-key": key } })).status).toBe(200);
    const disabled = await t.json("POST", "/api/auth/api-key/update", {
      headers: { ...s.headers, origin: "http://localhost:3000" },
      body: { keyId: id, enabled: false },
    });
    expect(disabled.status).toBe(200);
    expectError(await t.json("GET", "/api/credits", { headers: { "x-api-key": key } }), 401, "unauthorized");
  });
});
