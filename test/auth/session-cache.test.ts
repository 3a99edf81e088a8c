import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError } from "../helpers/schemas";

// The bearer-token cache (SESSION_CACHE_TTL_MS) must never let a token outlive its sign-out or link.
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
