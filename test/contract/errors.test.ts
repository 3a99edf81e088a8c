import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { eq } from "drizzle-orm";
import pino from "pino";
import { creditAccount, prediction } from "../../src/db/schema";
import { createLogger } from "../../src/lib/logger";
import { HealthSchema } from "../../src/schemas/health";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError, expectSchema } from "../helpers/schemas";

/** The "Done when" of the foundation: each failure class answers the one documented Error envelope. */

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { BODY_LIMIT_BYTES: "1024", SANDBOX_DELAY_MS: "0" } });
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
});

async function balanceOf(userId: string) {
  const [a] = await t.db.select().from(creditAccount).where(eq(creditAccount.userId, userId));
  return a?.balance;
}

describe("malformed and invalid requests", () => {
  test("malformed JSON to POST /api/predictions is 400 validation_error and charges nothing", async () => {
    const s = await t.signUp();
    const res = await t.json("POST", "/api/predictions", { body: '{"brandName": "Acme",', headers: s.headers });
    const err = expectError(res, 400, "validation_error");
    expect(err.details?.issues?.length).toBeGreaterThan(0);
    expect(await balanceOf(s.userId)).toBe(3);
    expect(await t.db.select().from(prediction).where(eq(prediction.userId, s.userId))).toEqual([]);
  });

  test("malformed JSON to POST /api/credits/purchase is 400 validation_error", async () => {
    const s = await t.signUp();
    const res = await t.json("POST", "/api/credits/purchase", { body: "not json at all", headers: s.headers });
    expectError(res, 400, "validation_error");
  });

  test("a body that fails the schema lists each issue with its path", async () => {
    const s = await t.signUp();
    const res = await t.json("POST", "/api/predictions", {
      body: { brandName: "", colors: ["red"], surprise: true },
      headers: s.headers,
    });
    const err = expectError(res, 400, "validation_error");
    const paths = (err.details?.issues ?? []).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["brandName", "colors.0"]));
    for (const issue of err.details?.issues ?? []) expect(typeof issue.message).toBe("string");
    expect(err.message.startsWith("Invalid request")).toBe(true);
  });

  test("an invalid query parameter is 400 with details.issues[{path,message}]", async () => {
    const s = await t.signUp();
    const res = await t.json("GET", "/api/predictions?limit=1000", { headers: s.headers });
    const err = expectError(res, 400, "validation_error");
    expect(err.details?.issues?.[0]?.path).toBe("limit");
    expect(err.details?.issues?.[0]?.message).toBeTruthy();
    const tx = await t.json("GET", "/api/credits/transactions?limit=0", { headers: s.headers });
    expect(expectError(tx, 400, "validation_error").details?.issues?.[0]?.path).toBe("limit");
  });

  test("unknown routes are 404 not_found, for any method", async () => {
    expectError(await t.json("GET", "/api/does-not-exist"), 404, "not_found");
    expectError(await t.json("POST", "/api/does-not-exist", { body: { a: 1 } }), 404, "not_found");
    expectError(await t.json("DELETE", "/api/models"), 404, "not_found");
  });
});

describe("body size limit (BODY_LIMIT_BYTES=1024)", () => {
  test("a body over the limit is 413 payload_too_large before anything runs", async () => {
    const s = await t.signUp();
    const res = await t.json("POST", "/api/predictions", {
      body: { brandName: "Acme", description: "x".repeat(2000) },
      headers: s.headers,
    });
    const err = expectError(res, 413, "payload_too_large");
    expect(err.details?.limitBytes).toBe(1024);
    expect(await balanceOf(s.userId)).toBe(3);
  });

  test("a streamed body without Content-Length is cut off at the limit too", async () => {
    const s = await t.signUp();
    const chunk = new TextEncoder().encode(`{"brandName":"Acme","description":"${"y".repeat(300)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 10) controller.enqueue(chunk);
        else {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
        }
      },
    });
    const req = new Request("http://localhost:3000/api/predictions", {
      method: "POST",
      headers: { ...s.headers, "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(req.headers.get("content-length")).toBeNull();
    const res = await t.fetch(req);
    expectError({ status: res.status, headers: res.headers, body: await res.json() }, 413, "payload_too_large");
    expect(await balanceOf(s.userId)).toBe(3);
  });

  test("a body under the limit is accepted", async () => {
    const s = await t.signUp();
    const res = await t.json("POST", "/api/predictions", { body: { brandName: "Acme" }, headers: s.headers });
    expect(res.status).toBe(201);
  });
});

/** A log destination that keeps every JSON line written to it. */
function logSink() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, sink };
}

describe("unexpected exceptions", () => {
  test("a 500 is internal_error without the exception text or a stack, and is logged with the request id", async () => {
    const { lines, sink } = logSink();
    const broken = await createTestApp({ overrides: { logger: pino({ level: "info" }, sink) } });
    try {
      // The session cookie carries Better Auth's signed session cache, so the user is known without
      // the database; the handler's own query then fails for real once the database is closed.
      const s = await broken.signUp();
      expect((await broken.json("GET", "/api/credits", { headers: { cookie: s.cookie } })).status).toBe(200);
      await broken.database.close();

      const res = await broken.json("GET", "/api/credits", {
        headers: { cookie: s.cookie, "x-request-id": "boom-request-1" },
      });
      const err = expectError(res, 500, "internal_error");
      expect(err.requestId).toBe("boom-request-1");
      const text = JSON.stringify(res.body);
      for (const leak of ["closed", "PGlite", "pool", "stack", "at ", ".ts:", "select"])
        expect(text.toLowerCase()).not.toContain(leak.toLowerCase());
      expect(err.details).toBeUndefined();

      const logged = lines
        .map((l) => JSON.parse(l) as { level: number; requestId?: string; msg?: string; err?: { message?: string } })
        .filter((l) => l.requestId === "boom-request-1" && l.level >= 50);
      const unhandled = logged.find((l) => l.msg === "unhandled error");
      expect(unhandled?.err?.message).toBeTruthy();
      expect(logged.some((l) => l.msg === "request")).toBe(true);
    } finally {
      await broken.close();
    }
  });
});

describe("the database failing under a session lookup", () => {
  test("is 503 service_unavailable (not 401), and no log line carries the session token", async () => {
    const { lines, sink } = logSink();
    const broken = await createTestApp({ overrides: { logger: createLogger({ level: "debug", destination: sink }) } });
    try {
      const s = await broken.signUp();
      const token = s.headers.authorization?.replace(/^Bearer /, "") ?? "";
      expect(token.length).toBeGreaterThan(10);
      await broken.database.close();
      const res = await broken.json("GET", "/api/credits", { headers: { ...s.headers, "x-request-id": "outage-1" } });
      expectError(res, 503, "service_unavailable");
      const failure = lines.find((l) => l.includes("session lookup failed"));
      expect(failure).toBeDefined();
      expect(failure).toContain("[redacted]"); // the query's parameters were there, and were cut
      // The token is 32 characters; its signed form adds a dot and a signature. Neither may appear.
      for (const line of lines) expect(line).not.toContain(token.split(".")[0] as string);
    } finally {
      await broken.close();
    }
  });
});

describe("GET /health with the database down", () => {
  test("answers 503 with status down and the Health body", async () => {
    const t2 = await createTestApp();
    try {
      expect((await t2.json("GET", "/health")).status).toBe(200);
      await t2.database.close();
      const res = await t2.json("GET", "/health");
      expect(res.status).toBe(503);
      const body = expectSchema(HealthSchema, res.body);
      expect(body.status).toBe("down");
      expect(body.checks.database).toEqual({ status: "down", latencyMs: null });
    } finally {
      await t2.close();
    }
  });
});
