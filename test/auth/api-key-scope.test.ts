import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AUTH_OPERATIONS } from "../../src/auth/operations";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError } from "../helpers/schemas";

/**
 * An API key reaches this API's resources, never account management: every /api/auth call made with one is
 * 403 except reading its own session; and a session list never carries session tokens, whoever asks.
 */

let t: TestApp;
const origin = { origin: "http://localhost:3000" };

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function userWithKey(admin = false) {
  const s = await t.signUp();
  if (admin) await t.db.execute(`update "user" set role = 'admin' where id = '${s.userId}'`);
  const created = await t.json("POST", "/api/auth/api-key/create", {
    headers: { ...s.headers, ...origin },
    body: { name: "integration" },
  });
  expect(created.status).toBe(200);
  return { s, key: created.body.key as string, keyId: created.body.id as string };
}

describe("API keys and /api/auth", () => {
  test("list-sessions, api-key create, update-user and the rest answer 403 forbidden with an API key", async () => {
    const { s, key, keyId } = await userWithKey();
    const headers = { "x-api-key": key, ...origin };
    const calls: [string, string, unknown?][] = [
      ["GET", "/api/auth/list-sessions"],
      ["POST", "/api/auth/api-key/create", { name: "another" }],
      ["GET", "/api/auth/api-key/list"],
      ["POST", "/api/auth/api-key/update", { keyId, name: "renamed" }],
      ["POST", "/api/auth/api-key/delete", { keyId }],
      ["POST", "/api/auth/update-user", { name: "Mallory" }],
      ["POST", "/api/auth/change-password", { currentPassword: "correct-horse-battery", newPassword: "x".repeat(12) }],
      ["POST", "/api/auth/revoke-sessions"],
      ["GET", "/api/auth/list-accounts"],
      ["POST", "/api/auth/sign-out"],
    ];
    for (const [method, path, body] of calls) {
      const res = await t.json(method, path, { headers, body });
      expectError(res, 403, "forbidden");
    }
    // Nothing changed: the name, the key and the session are as they were.
    const session = await t.json("GET", "/api/auth/get-session", { headers: s.headers });
    expect(session.body.user.name).toBe("Test User");
    const keys = await t.json("GET", "/api/auth/api-key/list", { headers: s.headers });
    expect(keys.status).toBe(200);
    const list = (Array.isArray(keys.body) ? keys.body : keys.body.apiKeys) as { name: string }[];
    expect(list.map((k) => k.name)).toEqual(["integration"]);
    // The key still reaches our own API.
    expect((await t.json("GET", "/api/credits", { headers: { "x-api-key": key } })).status).toBe(200);
  });

  test("an admin's key is not an admin session on /api/auth", async () => {
    const { key } = await userWithKey(true);
    const res = await t.json("GET", "/api/auth/admin/list-users", { headers: { "x-api-key": key, ...origin } });
    expectError(res, 403, "forbidden");
  });

  test("reading its own session with the key still works", async () => {
    const { s, key } = await userWithKey();
    const res = await t.json("GET", "/api/auth/get-session", { headers: { "x-api-key": key } });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(s.userId);
  });

  test("list-sessions never answers session tokens (cookie or bearer); admin lists neither", async () => {
    const admin = await t.signUp();
    await t.db.execute(`update "user" set role = 'admin' where id = '${admin.userId}'`);
    const s = await t.signUp();
    for (const headers of [s.headers, { cookie: s.cookie }]) {
      const res = await t.json("GET", "/api/auth/list-sessions", { headers });
      expect(res.status).toBe(200);
      expect(res.body.length).toBeGreaterThan(0);
      for (const session of res.body) {
        expect(session).not.toHaveProperty("token");
        expect(session.userId).toBe(s.userId);
      }
    }
    const listed = await t.json("POST", "/api/auth/admin/list-user-sessions", {
      headers: { ...admin.headers, ...origin },
      body: { userId: s.userId },
    });
    expect(listed.status).toBe(200);
    expect(listed.body.sessions.length).toBeGreaterThan(0);
    for (const session of listed.body.sessions) expect(session).not.toHaveProperty("token");
    expect(JSON.stringify(listed.body)).not.toContain(s.token);
  });

  test("the document says it: 403 for API keys on every auth operation but get-session, which accepts one", async () => {
    const doc = (await (await t.fetch("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security: object[]; description: string; responses: object }>>;
    };
    for (const key of Object.keys(AUTH_OPERATIONS)) {
      const [method, path] = key.split(" ") as [string, string];
      const op = doc.paths[`/api/auth${path}`]?.[method.toLowerCase()];
      expect(op, key).toBeDefined();
      if (key === "GET /get-session") {
        expect(op?.security).toContainEqual({ apiKeyAuth: [] });
        continue;
      }
      expect(op?.security, key).not.toContainEqual({ apiKeyAuth: [] });
      expect(op?.description, key).toContain("API key");
      expect(op?.responses, key).toHaveProperty("403");
    }
    const listed = doc.paths["/api/auth/list-sessions"]?.get?.responses as Record<string, unknown>;
    expect(JSON.stringify(listed["200"])).not.toContain('#/components/schemas/AuthSession"');
  });
});
