import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Context } from "hono";
import { authErrorAsEnvelope, authErrorCode } from "../../src/auth/handler";
import type { AppEnv } from "../../src/deps";
import { createLogger } from "../../src/lib/logger";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError } from "../helpers/schemas";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const origin = { origin: "http://localhost:3000" };

describe("Better Auth errors use the Error envelope", () => {
  test("a wrong password is 401 unauthorized, with Better Auth's code in details.authCode", async () => {
    const s = await t.signUp({ password: "correct-horse-battery" });
    const res = await t.json("POST", "/api/auth/sign-in/email", {
      body: { email: s.email, password: "wrong-password-123" },
      headers: { ...origin, "x-request-id": "auth-err-1" },
    });
    const err = expectError(res, 401, "unauthorized");
    expect(err.requestId).toBe("auth-err-1");
    expect(err.details?.authCode).toBe("INVALID_EMAIL_OR_PASSWORD");
    expect(err.message.length).toBeGreaterThan(0);
    expect(res.headers.get("content-type")).toContain("application/json");
  });

  test("a malformed sign-up body is 400 validation_error", async () => {
    const res = await t.json("POST", "/api/auth/sign-up/email", {
      body: { email: "not-an-email", password: "correct-horse-battery", name: "X" },
      headers: origin,
    });
    const err = expectError(res, 400, "validation_error");
    expect(typeof err.details?.authCode).toBe("string");
  });

  test("signing up twice with one email answers 409 conflict (Better Auth's 422)", async () => {
    const s = await t.signUp();
    const res = await t.json("POST", "/api/auth/sign-up/email", {
      body: { email: s.email, password: "correct-horse-battery", name: "Again" },
      headers: origin,
    });
    const err = expectError(res, 409, "conflict");
    expect(err.details?.authCode).toBe("USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
  });

  test("an admin endpoint called by a non-admin is 403 forbidden; without a session 401", async () => {
    const s = await t.signUp();
    const res = await t.json("GET", "/api/auth/admin/list-users", { headers: s.headers });
    expectError(res, 403, "forbidden");
    const anon = await t.json("GET", "/api/auth/admin/list-users");
    expectError(anon, 401, "unauthorized");
  });

  test("successful responses pass through untouched", async () => {
    const s = await t.signUp();
    const res = await t.json("GET", "/api/auth/get-session", { headers: s.headers });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(s.userId);
  });

  test("Better Auth's request strings are held to the document's bounds (400 validation_error)", async () => {
    const long = await t.json("POST", "/api/auth/sign-up/email", {
      body: { email: "long-name@example.com", password: "correct-horse-battery", name: "x".repeat(256) },
      headers: origin,
    });
    const err = expectError(long, 400, "validation_error");
    expect(err.details?.issues).toEqual([{ path: "name", message: "name: at most 255 characters" }]);
    const nul = await t.json("POST", "/api/auth/sign-up/email", {
      body: { email: "nul@example.com", password: "correct-horse-battery", name: "a\u0000b" },
      headers: origin,
    });
    expectError(nul, 400, "validation_error");
    // the bound the document states is the one enforced
    const doc = (await t.json("GET", "/openapi.json")).body;
    const schema = doc.paths["/api/auth/sign-up/email"].post.requestBody.content["application/json"].schema;
    expect(schema.properties.name.maxLength).toBe(255);
    expect(schema.properties.email.maxLength).toBe(320);
    const ok = await t.json("POST", "/api/auth/sign-up/email", {
      body: { email: "just-right@example.com", password: "correct-horse-battery", name: "x".repeat(255) },
      headers: origin,
    });
    expect(ok.status).toBe(200);
  });

  test("an id that is not a UUID is 400 validation_error, never a failed uuid query (500)", async () => {
    const admin = await createTestApp({ env: { ADMIN_EMAILS: "uuid-admin@example.com" } });
    try {
      const s = await admin.signUp({ email: "uuid-admin@example.com" });
      const headers = { ...s.headers, ...origin };
      const calls: [string, string, unknown?][] = [
        ["GET", "/api/auth/api-key/get?id=abc"],
        ["GET", "/api/auth/admin/get-user?id=1e309"],
        ["POST", "/api/auth/api-key/update", { keyId: "abc", name: "x" }],
        ["POST", "/api/auth/api-key/delete", { keyId: "abc" }],
        ["POST", "/api/auth/admin/ban-user", { userId: "abc" }],
      ];
      for (const [method, path, body] of calls) {
        const err = expectError(await admin.json(method, path, { body, headers }), 400, "validation_error");
        expect(err.message).toContain("must be a UUID");
      }
      // a well-formed id that names nothing is still Better Auth's own answer
      const unknown = await admin.json("GET", `/api/auth/api-key/get?id=${crypto.randomUUID()}`, { headers });
      expect(unknown.status).toBe(404);
    } finally {
      await admin.close();
    }
  });

  test("an auth error response keeps the CORS headers for an allowed origin", async () => {
    const res = await t.fetch("/api/auth/sign-in/email", {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://localhost:5173" },
      body: JSON.stringify({ email: "nobody@example.com", password: "wrong-password-123" }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  // Better Auth's limiter and its 5xx cannot be provoked in the test environment (the limiter is on only
  // in production): feed the rewrite the exact responses Better Auth builds.
  const fakeVariables: Record<string, unknown> = { logger: createLogger({ level: "silent" }) };
  const fakeContext = {
    get: (key: string) => fakeVariables[key],
    var: fakeVariables,
    env: { requestId: "req-1" },
  } as unknown as Context<AppEnv>;

  test("Better Auth's 429 becomes rate_limited with Retry-After, keeping its headers", async () => {
    const res = await authErrorAsEnvelope(
      fakeContext,
      new Response(JSON.stringify({ message: "Too many requests. Please try again later." }), {
        status: 429,
        headers: { "Content-Type": "application/json", "X-Retry-After": "7", "Set-Cookie": "a=b; Path=/" },
      }),
    );
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(res.headers.get("x-retry-after")).toBe("7");
    expect(res.headers.getSetCookie()).toEqual(["a=b; Path=/"]);
    expect(await res.json()).toEqual({
      error: { code: "rate_limited", message: "Too many requests. Please try again later.", requestId: "req-1" },
    });
  });

  test("a Better Auth 500 hides its message; an empty 404 gets the envelope; HTML and successes pass through", async () => {
    const five = await authErrorAsEnvelope(
      fakeContext,
      Response.json({ message: "db exploded at line 3", code: "FAILED_TO_CREATE_USER" }, { status: 500 }),
    );
    const body = (await five.json()) as { error: { code: string; message: string; details: unknown } };
    expect(five.status).toBe(500);
    expect(body.error.code).toBe("internal_error");
    expect(body.error.message).not.toContain("db exploded");
    expect(body.error.details).toEqual({ authCode: "FAILED_TO_CREATE_USER" });

    const empty = await authErrorAsEnvelope(fakeContext, new Response(null, { status: 404 }));
    expect(((await empty.json()) as { error: { code: string } }).error.code).toBe("not_found");

    const page = new Response("<html>error</html>", { status: 400, headers: { "content-type": "text/html" } });
    expect(await authErrorAsEnvelope(fakeContext, page)).toBe(page);
    const ok = Response.json({ ok: true });
    expect(await authErrorAsEnvelope(fakeContext, ok)).toBe(ok);
  });

  test("status → code mapping", () => {
    expect([400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503].map((s) => [s, authErrorCode(s)])).toEqual([
      [400, "validation_error"],
      [401, "unauthorized"],
      [403, "forbidden"],
      [404, "not_found"],
      [405, "validation_error"],
      [409, "conflict"],
      [413, "payload_too_large"],
      [422, "conflict"],
      [429, "rate_limited"],
      [500, "internal_error"],
      [503, "internal_error"],
    ]);
  });
});
