import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { creditAccount, creditTransaction, user } from "../../src/db/schema";
import { CORS_EXPOSED } from "../../src/middleware/edge";
import { HealthSchema } from "../../src/schemas/health";
import { ModelListSchema } from "../../src/schemas/models";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError, expectSchema } from "../helpers/schemas";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SIGNUP_CREDITS: "3", ANONYMOUS_CREDITS: "1", ADMIN_EMAILS: "boss@example.com" } });
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
});

describe("service basics", () => {
  test("GET /health reports the database up and the sandbox provider", async () => {
    const res = await t.json("GET", "/health");
    expect(res.status).toBe(200);
    const body = expectSchema(HealthSchema, res.body);
    expect(body.checks.database.status).toBe("up");
    expect(body.checks.provider.status).toBe("sandbox");
    expect(body.checks.payments.status).toBe("unconfigured");
  });

  test("GET /api/models lists the catalog through the typed client", async () => {
    const { data, response } = await t.client.GET("/api/models");
    expect(response.status).toBe(200);
    const body = expectSchema(ModelListSchema, data);
    expect(body.data.map((m) => m.id)).toContain("nano-banana");
    expect(body.data.find((m) => m.id === "recraft-v3")?.creditsPerImage).toBe(2);
  });

  test("every response carries X-Request-Id, echoing a valid client id", async () => {
    const res = await t.fetch("/api/models", { headers: { "x-request-id": "client-abc_123" } });
    expect(res.headers.get("x-request-id")).toBe("client-abc_123");
    const bad = await t.fetch("/api/models", { headers: { "x-request-id": "bad id\twith spaces" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("unknown routes answer 404 in the error envelope", async () => {
    const res = await t.json("GET", "/api/nothing-here");
    const err = expectError(res, 404, "not_found");
    expect(err.message).toContain("/api/nothing-here");
  });

  test("CORS allows configured origins with credentials and ignores others", async () => {
    const ok = await t.fetch("/api/models", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "GET" },
    });
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    const evil = await t.fetch("/api/models", { headers: { origin: "https://evil.example" } });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("a preflight allows every header the clients send, for our routes and Better Auth's", async () => {
    const sent = [
      "content-type",
      "authorization",
      "x-api-key",
      "idempotency-key",
      "prefer",
      "last-event-id",
      "mcp-protocol-version",
    ];
    for (const path of [
      "/api/predictions",
      "/mcp",
      "/api/predictions/00000000-0000-4000-8000-000000000000/events",
      "/api/auth/sign-in/anonymous",
    ]) {
      const res = await t.fetch(path, {
        method: "OPTIONS",
        headers: {
          origin: "http://localhost:5173",
          "access-control-request-method": "POST",
          "access-control-request-headers": sent.join(","),
        },
      });
      expect([path, res.status]).toEqual([path, 204]);
      const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
      expect([path, sent.filter((h) => !allowed.includes(h))]).toEqual([path, []]);
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    }
  });

  test("secure headers are set", async () => {
    const res = await t.fetch("/health");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });

  test("CORS headers answer an allowed origin only; the document headers go to documents only", async () => {
    const plain = await t.fetch("/health");
    const other = await t.fetch("/health", { headers: { origin: "https://evil.example" } });
    for (const res of [plain, other]) {
      for (const name of [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-expose-headers",
      ])
        expect([name, res.headers.get(name)]).toEqual([name, null]);
      expect(res.headers.get("vary")).toBe("Origin");
    }
    const documentHeaders = [
      ["cross-origin-opener-policy", "same-origin"],
      ["origin-agent-cluster", "?1"],
      ["x-dns-prefetch-control", "off"],
      ["x-download-options", "noopen"],
      ["x-permitted-cross-domain-policies", "none"],
      ["x-xss-protection", "0"],
    ] as const;
    const docs = await t.fetch("/docs");
    expect(docs.status).toBe(200);
    for (const [name, value] of documentHeaders) {
      expect([name, docs.headers.get(name)]).toEqual([name, value]);
      expect([name, plain.headers.get(name)]).toEqual([name, null]);
    }
    expect(docs.headers.get("strict-transport-security")).toBe("max-age=15552000; includeSubDomains");
  });

  test("every kind of answer carries the request id, security and CORS headers, each once", async () => {
    const s = await t.signUp();
    const origin = { origin: "http://localhost:5173" };
    const key = { "idempotency-key": `headers-${crypto.randomUUID()}` };
    const create = () =>
      t.fetch("/api/predictions", {
        method: "POST",
        headers: { ...s.headers, ...origin, ...key, "content-type": "application/json" },
        body: JSON.stringify({ brandName: "Headers" }),
      });
    expect((await create()).status).toBe(201);
    const answers: [string, Response, number][] = [
      ["a route's JSON", await t.fetch("/health", { headers: origin }), 200],
      [
        "Better Auth's own response",
        await t.fetch("/api/auth/get-session", { headers: { ...s.headers, ...origin } }),
        200,
      ],
      [
        "Better Auth's error, rewritten",
        await t.fetch("/api/auth/sign-in/email", {
          method: "POST",
          headers: { ...origin, "content-type": "application/json" },
          body: JSON.stringify({ email: s.email, password: "wrong-password-123" }),
        }),
        401,
      ],
      [
        "Better Auth's sign-in, which names its own exposed header",
        await t.fetch("/api/auth/sign-in/anonymous", { method: "POST", headers: origin }),
        200,
      ],
      ["an unknown route", await t.fetch("/nowhere", { headers: origin }), 404],
      [
        "a body over the limit",
        await t.fetch("/api/predictions", {
          method: "POST",
          headers: { ...s.headers, ...origin, "content-type": "application/json" },
          body: "x".repeat(2 * 1024 * 1024),
        }),
        413,
      ],
      ["an idempotent replay", await create(), 201],
      [
        "a preflight",
        await t.fetch("/api/credits", {
          method: "OPTIONS",
          headers: { ...origin, "access-control-request-method": "GET" },
        }),
        204,
      ],
    ];
    for (const [what, res, status] of answers) {
      const h = res.headers;
      expect([what, res.status]).toEqual([what, status]);
      expect([what, h.get("x-request-id")]).toEqual([what, expect.stringMatching(/^[\w=-]{1,200}$/)]);
      for (const [name, value] of [
        ["strict-transport-security", "max-age=15552000; includeSubDomains"],
        ["x-frame-options", "SAMEORIGIN"],
        ["x-content-type-options", "nosniff"],
        ["cross-origin-resource-policy", "cross-origin"],
        ["access-control-allow-origin", "http://localhost:5173"],
        ["access-control-allow-credentials", "true"],
        ["vary", what === "a preflight" ? "Origin, Access-Control-Request-Headers" : "Origin"],
      ] as const)
        expect([what, name, h.get(name)]).toEqual([what, name, value]);
      // The same list on every answer (Better Auth's bearer plugin sends only set-auth-token of its own).
      expect([what, h.get("access-control-expose-headers")?.split(",")]).toEqual([what, CORS_EXPOSED]);
      expect(CORS_EXPOSED).toEqual(
        expect.arrayContaining(["X-Request-Id", "RateLimit-Remaining", "Retry-After", "set-auth-token"]),
      );
    }
  });
});

describe("auth", () => {
  test("sign-up grants SIGNUP_CREDITS as a ledger row; the bearer token and the cookie both authenticate", async () => {
    const s = await t.signUp();
    const [acct] = await t.db.select().from(creditAccount).where(eq(creditAccount.userId, s.userId));
    expect(acct?.balance).toBe(3);
    const rows = await t.db.select().from(creditTransaction).where(eq(creditTransaction.userId, s.userId));
    expect(rows.map((r) => [r.type, r.amount, r.balanceAfter])).toEqual([["signup_bonus", 3, 3]]);
    const viaBearer = await t.json("GET", "/api/auth/get-session", { headers: s.headers });
    expect(viaBearer.body?.user?.id).toBe(s.userId);
    const viaCookie = await t.json("GET", "/api/auth/get-session", { headers: { cookie: s.cookie } });
    expect(viaCookie.body?.user?.id).toBe(s.userId);
    expect(s.userId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test("session cookies: SameSite=Lax by default; SameSite=None; Secure for a frontend on another site (CROSS_SITE_COOKIES)", async () => {
    const cookiesOf = async (app: TestApp) => {
      const res = await app.fetch("/api/auth/sign-in/anonymous", {
        method: "POST",
        headers: { origin: "http://localhost:5173" },
      });
      expect(res.status).toBe(200);
      const cookies = res.headers.getSetCookie();
      expect(cookies.some((c) => c.startsWith("better-auth.session_token="))).toBe(true);
      return cookies.map((c) => c.split(";").map((p) => p.trim().toLowerCase()));
    };
    for (const attributes of await cookiesOf(t)) {
      expect(attributes).toContain("samesite=lax");
      expect(attributes).not.toContain("secure");
    }
    const crossSite = await createTestApp({ env: { CROSS_SITE_COOKIES: "true" }, database: t.database });
    try {
      const all = await cookiesOf(crossSite);
      for (const attributes of all) {
        expect(attributes).toContain("samesite=none");
        expect(attributes).toContain("secure");
        expect(attributes).toContain("httponly");
      }
    } finally {
      await crossSite.close();
    }
  });

  test("anonymous sign-in uses GUEST_EMAIL_DOMAIN and grants ANONYMOUS_CREDITS", async () => {
    const s = await t.signInAnonymous();
    expect(s.email.endsWith("@guest.logo.local")).toBe(true);
    const [acct] = await t.db.select().from(creditAccount).where(eq(creditAccount.userId, s.userId));
    expect(acct?.balance).toBe(1);
  });

  test("ADMIN_EMAILS accounts get the admin role", async () => {
    const s = await t.signUp({ email: "boss@example.com" });
    const [u] = await t.db.select().from(user).where(eq(user.id, s.userId));
    expect(u?.role).toBe("admin");
  });

  test("wrong password is rejected", async () => {
    await t.signUp({ email: "pw@example.com", password: "right-password-1" });
    const res = await t.json("POST", "/api/auth/sign-in/email", {
      body: { email: "pw@example.com", password: "wrong-password-1" },
      headers: { origin: "http://localhost:3000" },
    });
    expect(res.status).toBe(401);
  });
});
