import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { appsClosedAfterAll, createTestApp, type TestApp } from "../helpers/app";
import { FakeClock } from "../helpers/clock";
import { expectError } from "../helpers/schemas";

// The credential cache (SESSION_CACHE_TTL_MS) must never let a token outlive its sign-out or link.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SESSION_CACHE_TTL_MS: "60000" } });
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
});

describe("bearer session cache", () => {
  test("a signed-out bearer token is refused at once, although its user was cached", async () => {
    const s = await t.signUp();
    expect((await t.json("GET", "/api/credits", { headers: s.headers })).status).toBe(200);
    expect((await t.json("GET", "/api/credits", { headers: s.headers })).status).toBe(200);
    const out = await t.json("POST", "/api/auth/sign-out", {
      headers: { ...s.headers, origin: "http://localhost:3000" },
      body: {},
    });
    expect(out.status).toBe(200);
    expectError(await t.json("GET", "/api/credits", { headers: s.headers }), 401, "unauthorized");
  });

  test("a guest's bearer token stops working once the guest links to a new account", async () => {
    const guest = await t.signInAnonymous();
    expect((await t.json("GET", "/api/credits", { headers: guest.headers })).status).toBe(200);
    const res = await t.json("POST", "/api/auth/sign-up/email", {
      headers: { ...guest.headers, origin: "http://localhost:3000" },
      body: {
        email: `linked-${crypto.randomUUID().slice(0, 8)}@example.com`,
        password: "correct-horse-battery",
        name: "L",
      },
    });
    expect(res.status).toBe(200);
    expectError(await t.json("GET", "/api/credits", { headers: guest.headers }), 401, "unauthorized");
  });

  test("an API key is cached, and deleting it through this instance refuses it at once", async () => {
    const s = await t.signUp();
    const created = await t.json("POST", "/api/auth/api-key/create", {
      headers: { ...s.headers, origin: "http://localhost:3000" },
      body: { name: "ci" },
    });
    expect(created.status).toBe(200);
    const key = created.body.key as string;
    expect((await t.json("GET", "/api/credits", { headers: { "x-api-key": key } })).status).toBe(200);
    const del = await t.json("POST", "/api/auth/api-key/delete", {
      headers: { ...s.headers, origin: "http://localhost:3000" },
      body: { keyId: created.body.id },
    });
    expect(del.status).toBe(200);
    expectError(await t.json("GET", "/api/credits", { headers: { "x-api-key": key } }), 401, "unauthorized");
  });
});

describe("session cookie cache", () => {
  const makeApp = appsClosedAfterAll();
  // The session token's cookie alone: without Better Auth's own cookie cache (session_data), every lookup it makes
  // reads the session row.
  const tokenCookie = (cookie: string) =>
    cookie
      .split("; ")
      .filter((c) => c.includes("session_token="))
      .join("; ");

  test("a browser's session is cached: a session row deleted behind its back is served until the TTL, then refused", async () => {
    const clock = new FakeClock();
    const a = await makeApp({ env: { SESSION_CACHE_TTL_MS: "5000" }, overrides: { clock } });
    const s = await a.signUp();
    const cookie = { cookie: tokenCookie(s.cookie) };
    expect(cookie.cookie).toContain("session_token=");
    expect((await a.json("GET", "/api/credits", { headers: cookie })).status).toBe(200);
    // Another instance's sign-out, say: the row goes, and this instance hears nothing of it.
    await a.db.execute(sql`delete from session where user_id = ${s.userId}`);
    expect((await a.json("GET", "/api/credits", { headers: cookie })).status).toBe(200);
    clock.advance(5001);
    expectError(await a.json("GET", "/api/credits", { headers: cookie }), 401, "unauthorized");
  });

  test("a cookie signed out through this instance is refused at once, although its user was cached", async () => {
    const s = await t.signUp();
    const cookie = { cookie: tokenCookie(s.cookie) };
    expect((await t.json("GET", "/api/credits", { headers: cookie })).status).toBe(200);
    const out = await t.json("POST", "/api/auth/sign-out", {
      headers: { ...cookie, origin: "http://localhost:3000" },
      body: {},
    });
    expect(out.status).toBe(200);
    expectError(await t.json("GET", "/api/credits", { headers: cookie }), 401, "unauthorized");
  });

  test("a cached cookie still needs an allowed origin to write", async () => {
    const s = await t.signUp();
    const cookie = { cookie: s.cookie };
    const before = await t.json("GET", "/api/webhooks/secret", { headers: cookie });
    expect(before.status).toBe(200);
    const res = await t.json("POST", "/api/webhooks/secret/rotate", {
      headers: { ...cookie, origin: "https://evil.example" },
    });
    expectError(res, 403, "forbidden");
    expect((await t.json("GET", "/api/webhooks/secret", { headers: cookie })).body.key).toBe(before.body.key);
  });
});
