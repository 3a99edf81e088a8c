import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreditBalanceSchema } from "../../src/schemas/credits";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError, expectSchema } from "../helpers/schemas";

/** The three credentials of the contract on one authenticated endpoint, and the 401/403 envelopes. */

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { ADMIN_EMAILS: "chief@example.com" } });
});
afterAll(async () => {
  await t.close();
});

const origin = { origin: "http://localhost:3000" };

async function createApiKey(headers: Record<string, string>) {
  const res = await t.json("POST", "/api/auth/api-key/create", { body: { name: "integration" }, headers });
  expect(res.status).toBe(200);
  const key = res.body?.key as string;
  expect(key.length).toBeGreaterThan(16);
  return key;
}

describe("authenticated endpoint (GET /api/credits)", () => {
  test("a session cookie authenticates", async () => {
    const s = await t.signUp();
    const res = await t.json("GET", "/api/credits", { headers: { cookie: s.cookie } });
    expect(res.status).toBe(200);
    expect(expectSchema(CreditBalanceSchema, res.body).balance).toBe(3);
  });

  test("a bearer session token authenticates", async () => {
    const s = await t.signUp();
    const res = await t.json("GET", "/api/credits", { headers: s.headers });
    expect(res.status).toBe(200);
    expect(expectSchema(CreditBalanceSchema, res.body).balance).toBe(3);
  });

  test("an API key created through Better Auth authenticates as its owner via x-api-key", async () => {
    const s = await t.signUp();
    const key = await createApiKey({ ...s.headers, ...origin });
    const res = await t.json("GET", "/api/credits", { headers: { "x-api-key": key } });
    expect(res.status).toBe(200);
    expect(expectSchema(CreditBalanceSchema, res.body).balance).toBe(3);
    // The key acts as its owner: the prediction it creates belongs to the user who made the key.
    const created = await t.json("POST", "/api/predictions", {
      body: { brandName: "Acme" },
      headers: { "x-api-key": key },
    });
    expect(created.status).toBe(201);
    const mine = await t.json("GET", `/api/predictions/${created.body.id}`, { headers: s.headers });
    expect(mine.status).toBe(200);
  });

  test("an anonymous guest's bearer token authenticates", async () => {
    const g = await t.signInAnonymous();
    const res = await t.json("GET", "/api/credits", { headers: g.headers });
    expect(expectSchema(CreditBalanceSchema, res.body).balance).toBe(1);
  });

  test("no credentials, a bad bearer, a bad API key or a bad cookie: 401 unauthorized", async () => {
    expectError(await t.json("GET", "/api/credits"), 401, "unauthorized");
    expectError(
      await t.json("GET", "/api/credits", { headers: { authorization: "Bearer not-a-real-token" } }),
      401,
      "unauthorized",
    );
    expectError(
      await t.json("GET", "/api/credits", { headers: { "x-api-key": "not-a-real-key-0123456789abcdef" } }),
      401,
      "unauthorized",
    );
    expectError(
      await t.json("GET", "/api/credits", { headers: { cookie: "better-auth.session_token=forged.value" } }),
      401,
      "unauthorized",
    );
  });

  test("a signed-out session no longer authenticates", async () => {
    const s = await t.signUp();
    expect((await t.json("GET", "/api/credits", { headers: s.headers })).status).toBe(200);
    const out = await t.json("POST", "/api/auth/sign-out", { headers: { ...s.headers, ...origin } });
    expect(out.status).toBe(200);
    expectError(await t.json("GET", "/api/credits", { headers: s.headers }), 401, "unauthorized");
  });
});

describe("admin endpoints", () => {
  test("a signed-in non-admin gets 403 forbidden on /api/admin/*; nobody gets 401", async () => {
    const s = await t.signUp();
    expectError(await t.json("GET", "/api/admin/users", { headers: s.headers }), 403, "forbidden");
    expectError(await t.json("GET", "/api/admin/analytics", { headers: s.headers }), 403, "forbidden");
    expectError(
      await t.json("POST", "/api/admin/credits", {
        body: { userId: s.userId, amount: 100, reason: "please" },
        headers: s.headers,
      }),
      403,
      "forbidden",
    );
    expectError(await t.json("GET", "/api/admin/users"), 401, "unauthorized");
    const g = await t.signInAnonymous();
    expectError(await t.json("GET", "/api/admin/users", { headers: g.headers }), 403, "forbidden");
  });

  test("an ADMIN_EMAILS account is let in, with its bearer and with its API key", async () => {
    const admin = await t.signUp({ email: "chief@example.com" });
    expect((await t.json("GET", "/api/admin/users", { headers: admin.headers })).status).toBe(200);
    const key = await createApiKey({ ...admin.headers, ...origin });
    expect((await t.json("GET", "/api/admin/users", { headers: { "x-api-key": key } })).status).toBe(200);
  });

  test("in production a listed address with an unverified email is not an admin (nobody can claim it by signing up first)", async () => {
    const prod = await createTestApp({
      database: t.database,
      env: { NODE_ENV: "production", BETTER_AUTH_SECRET: "p".repeat(40), ADMIN_EMAILS: "claimed@example.com" },
    });
    try {
      const squatter = await prod.signUp({ email: "claimed@example.com" });
      expectError(await prod.json("GET", "/api/admin/users", { headers: squatter.headers }), 403, "forbidden");
    } finally {
      await prod.close();
    }
  });
});
