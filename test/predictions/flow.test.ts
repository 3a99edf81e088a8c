import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { creditTransaction, prediction } from "../../src/db/schema";
import { PredictionListSchema, PredictionSchema } from "../../src/schemas/predictions";
import { errorReply, FAKE_EACHLABS_KEY, type FakeEachlabs, startFakeEachlabs } from "../fakes/eachlabs";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError, expectSchema } from "../helpers/schemas";
import { balanceOf, body, ledgerOf, refundRows, rowOf } from "./helpers";

/** POST /api/predictions against a fake Eachlabs: charge, create, fail + refund, cancel, ownership, history. */

let eachlabs: FakeEachlabs;
let t: TestApp;

beforeAll(async () => {
  eachlabs = await startFakeEachlabs();
  t = await createTestApp({
    env: {
      SIGNUP_CREDITS: "5",
      EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
      EACHLABS_BASE_URL: eachlabs.url,
      EACHLABS_TIMEOUT_MS: "10000",
    },
  });
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
  await eachlabs.close();
});
beforeEach(() => eachlabs.reset());

const create = (s: { headers: Record<string, string> }, over: Record<string, unknown> = {}, headers = {}) =>
  t.json("POST", "/api/predictions", { headers: { ...s.headers, ...headers }, body: body(over) });

describe("POST /api/predictions", () => {
  test("charges, creates at Eachlabs with its id, answers 201 + Location; nothing private leaks", async () => {
    const s = await t.signUp();
    const res = await create(s, { numOutputs: 2 });
    expect(res.status).toBe(201);
    const p = expectSchema(PredictionSchema, res.body);
    expect(res.headers.get("location")).toBe(`/api/predictions/${p.id}`);
    expect(p.status).toBe("processing");
    expect(p.model).toBe("nano-banana");
    expect(p.creditsCharged).toBe(2);
    expect(p.creditsRefunded).toBe(0);
    expect(p.output).toBeNull();
    expect(p.error).toBeNull();
    expect(p.startedAt).not.toBeNull();
    expect(p.prompt).toContain("Acme");
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(p).sort());
    expect(JSON.stringify(res.body)).not.toContain("providerResponse");

    const [call] = eachlabs.creates();
    expect(call?.headers["x-api-key"]).toBe(FAKE_EACHLABS_KEY);
    expect(call?.headers.authorization).toBe(`Bearer ${FAKE_EACHLABS_KEY}`);
    expect(call?.body).toMatchObject({ model: "nano-banana", input: { num_images: 2 } });

    const row = await rowOf(t, p.id);
    expect(row.providerPredictionId).toBe(call?.predictionId ?? "missing");
    expect(row.providerResponse).toMatchObject({ predictionID: row.providerPredictionId });
    expect(await ledgerOf(t, p.id)).toEqual([["generation", -2]]);
    expect(await balanceOf(t, s.userId)).toBe(3);
  });

  test("402 with details.required/balance leaves nothing charged and calls no provider", async () => {
    const s = await t.signUp();
    const res = await create(s, { model: "recraft-v3", numOutputs: 1 });
    expect(res.status).toBe(201);
    const short = await create(s, { model: "nano-banana", numOutputs: 4 });
    const err = expectError(short, 402, "insufficient_credits");
    expect(err.details).toMatchObject({ required: 4, balance: 3 });
    expect(eachlabs.creates()).toHaveLength(1);
    const rows = await t.db.select().from(prediction).where(eq(prediction.userId, s.userId));
    expect(rows).toHaveLength(1);
    expect(await balanceOf(t, s.userId)).toBe(3);
  });

  for (const status of [500, 401, 402, 429, 400]) {
    test(`Eachlabs answering ${status} on create → 502 provider_error, failed, refunded once`, async () => {
      const s = await t.signUp();
      eachlabs.enqueue({ create: errorReply(status) });
      const res = await create(s, { numOutputs: 3 });
      const err = expectError(res, 502, "provider_error");
      const id = err.details?.predictionId as string;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      // the provider's own words stay in our logs
      expect(err.message).not.toContain("Insufficient balance");
      expect(err.message).not.toContain("Invalid API key");
      const row = await rowOf(t, id);
      expect(row.status).toBe("failed");
      expect(row.error?.code).toBe("provider_error");
      expect(row.creditsRefunded).toBe(3);
      expect(row.completedAt).not.toBeNull();
      expect(row.providerResponse).toMatchObject({ error: expect.any(String) });
      expect(await ledgerOf(t, id)).toEqual([
        ["generation", -3],
        ["refund", 3],
      ]);
      expect(await balanceOf(t, s.userId)).toBe(5);

      const got = await t.json("GET", `/api/predictions/${id}`, { headers: s.headers });
      const p = expectSchema(PredictionSchema, got.body);
      expect(p.status).toBe("failed");
      expect(p.error?.code).toBe("provider_error");
      expect(p.creditsRefunded).toBe(p.creditsCharged);
      expect(p.output).toBeNull();
    });
  }

  test("malformed JSON (or no predictionID) on create → 502 + refund", async () => {
    const s = await t.signUp();
    eachlabs.enqueue(
      { create: { status: 200, text: "<html>oops</html>", contentType: "text/html" } },
      { create: { status: 200, json: { status: "success", message: "ok", id: "wrong-field" } } },
    );
    for (let i = 0; i < 2; i++) {
      const err = expectError(await create(s), 502, "provider_error");
      const id = err.details?.predictionId as string;
      expect((await rowOf(t, id)).status).toBe("failed");
      expect(await refundRows(t, id)).toHaveLength(1);
    }
    expect(await balanceOf(t, s.userId)).toBe(5);
  });

  test("Eachlabs not reachable → 502 + refund", async () => {
    const down = await createTestApp({
      database: t.database,
      env: { SIGNUP_CREDITS: "5", EACHLABS_API_KEY: "k", EACHLABS_BASE_URL: "http://127.0.0.1:9" },
    });
    const s = await down.signUp();
    const err = expectError(
      await down.json("POST", "/api/predictions", { headers: s.headers, body: body() }),
      502,
      "provider_error",
    );
    expect(await refundRows(t, err.details?.predictionId as string)).toHaveLength(1);
    expect(await balanceOf(t, s.userId)).toBe(5);
  });

  test("Eachlabs hanging past EACHLABS_TIMEOUT_MS → 502 + refund", async () => {
    const slow = await createTestApp({
      database: t.database,
      env: {
        SIGNUP_CREDITS: "5",
        EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
        EACHLABS_BASE_URL: eachlabs.url,
        EACHLABS_TIMEOUT_MS: "300",
      },
    });
    const s = await slow.signUp();
    eachlabs.enqueue({ create: "hang" });
    const res = await slow.json("POST", "/api/predictions", { headers: s.headers, body: body({ numOutputs: 2 }) });
    const err = expectError(res, 502, "provider_error");
    const id = err.details?.predictionId as string;
    expect((await rowOf(t, id)).status).toBe("failed");
    expect(await ledgerOf(t, id)).toEqual([
      ["generation", -2],
      ["refund", 2],
    ]);
    expect(await balanceOf(t, s.userId)).toBe(5);
  });

  test("25 concurrent creates against a balance of 5 → exactly 5 × 201 and 20 × 402", async () => {
    const s = await t.signUp();
    const results = await Promise.all(Array.from({ length: 25 }, () => create(s, { numOutputs: 1 })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 201)).toHaveLength(5);
    expect(statuses.filter((x) => x === 402)).toHaveLength(20);
    for (const r of results.filter((x) => x.status === 402)) expectError(r, 402, "insufficient_credits");
    expect(await balanceOf(t, s.userId)).toBe(0);
    const debits = await t.db.select().from(creditTransaction).where(eq(creditTransaction.userId, s.userId));
    expect(debits.filter((d) => d.type === "generation")).toHaveLength(5);
    expect(await t.db.select().from(prediction).where(eq(prediction.userId, s.userId))).toHaveLength(5);
    expect(eachlabs.creates()).toHaveLength(5);
  });

  test("Idempotency-Key: a replay returns the same prediction and charges once", async () => {
    const s = await t.signUp();
    const key = { "idempotency-key": `create-${crypto.randomUUID()}` };
    const first = await create(s, {}, key);
    expect(first.status).toBe(201);
    const again = await create(s, {}, key);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get("location")).toBe(first.headers.get("location"));
    expect(eachlabs.creates()).toHaveLength(1);
    expect(await ledgerOf(t, first.body.id)).toEqual([["generation", -1]]);
    expect(await balanceOf(t, s.userId)).toBe(4);
    expectError(await create(s, { brandName: "Other" }, key), 422, "idempotency_key_reused");
  });

  test("unknown fields, bad values and too many outputs are 400; nothing charged", async () => {
    const s = await t.signUp();
    const unknown = expectError(await create(s, { color: "#000000" }), 400, "validation_error");
    expect(unknown.message).toContain("color");
    expectError(await create(s, { brandName: "" }), 400, "validation_error");
    expectError(await create(s, { style: "baroque" }), 400, "validation_error");
    expectError(await create(s, { colors: ["#000000", "#111111", "#222222", "#333333"] }), 400, "validation_error");
    expectError(await create(s, { model: "dall-e" }), 400, "validation_error");
    expectError(await create(s, { aspectRatio: "2:1" }), 400, "validation_error");
    const tooMany = expectError(await create(s, { model: "flux-1.1-pro", numOutputs: 2 }), 400, "validation_error");
    expect(tooMany.message).toBe("flux-1.1-pro makes at most 1 image per request; numOutputs was 2.");
    expectError(await create(s, { numOutputs: 0 }), 400, "validation_error");
    expect(eachlabs.creates()).toHaveLength(0);
    expect(await balanceOf(t, s.userId)).toBe(5);
  });
});

describe("/health", () => {
  test("reports the provider configured, with the recent error rate of provider calls", async () => {
    const s = await t.signUp();
    eachlabs.enqueue({ create: errorReply(500) });
    expectError(await create(s), 502, "provider_error");
    const res = await t.json("GET", "/health");
    expect(res.body.checks.provider.status).toBe("configured");
    expect(res.body.checks.provider.recentErrorRate).toBeGreaterThan(0);
    expect(res.body.checks.provider.recentErrorRate).toBeLessThanOrEqual(1);
  });
});

describe("cancel", () => {
  test("cancel → canceled and refunded once at Eachlabs too; cancel again → 409", async () => {
    const s = await t.signUp();
    eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY });
    const p = (await create(s, { numOutputs: 2 })).body;
    const res = await t.json("POST", `/api/predictions/${p.id}/cancel`, { headers: s.headers });
    expect(res.status).toBe(200);
    const c = expectSchema(PredictionSchema, res.body);
    expect(c.status).toBe("canceled");
    expect(c.creditsRefunded).toBe(2);
    expect(c.completedAt).not.toBeNull();
    expect(eachlabs.calls.filter((x) => x.op === "cancel").map((x) => x.predictionId)).toEqual([
      (await rowOf(t, p.id)).providerPredictionId ?? "",
    ]);
    expect(await ledgerOf(t, p.id)).toEqual([
      ["generation", -2],
      ["refund", 2],
    ]);
    const again = expectError(
      await t.json("POST", `/api/predictions/${p.id}/cancel`, { headers: s.headers }),
      409,
      "conflict",
    );
    expect(again.message).toContain("canceled");
    expect(await refundRows(t, p.id)).toHaveLength(1);
    expect(await balanceOf(t, s.userId)).toBe(5);
  });

  test("cancel still works when Eachlabs' cancel fails (best effort)", async () => {
    const s = await t.signUp();
    eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY, cancel: errorReply(500) });
    const p = (await create(s)).body;
    const res = await t.json("POST", `/api/predictions/${p.id}/cancel`, { headers: s.headers });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("canceled");
    expect(await refundRows(t, p.id)).toHaveLength(1);
  });

  test("a prediction that already failed cannot be canceled (409) and is not refunded twice", async () => {
    const s = await t.signUp();
    eachlabs.enqueue({ create: errorReply(500) });
    const id = expectError(await create(s), 502, "provider_error").details?.predictionId as string;
    expectError(await t.json("POST", `/api/predictions/${id}/cancel`, { headers: s.headers }), 409, "conflict");
    expect(await refundRows(t, id)).toHaveLength(1);
  });
});

describe("ownership and ids", () => {
  test("another user gets 403 on get, cancel and the history item; nothing changes", async () => {
    const owner = await t.signUp();
    const other = await t.signUp();
    eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY });
    const p = (await create(owner)).body;
    expectError(await t.json("GET", `/api/predictions/${p.id}`, { headers: other.headers }), 403, "forbidden");
    expectError(await t.json("POST", `/api/predictions/${p.id}/cancel`, { headers: other.headers }), 403, "forbidden");
    expectError(await t.json("GET", `/api/generations/${p.id}`, { headers: other.headers }), 403, "forbidden");
    expect((await rowOf(t, p.id)).status).toBe("processing");
    expect(await refundRows(t, p.id)).toHaveLength(0);
    const list = await t.json("GET", "/api/predictions", { headers: other.headers });
    expect(expectSchema(PredictionListSchema, list.body).data).toEqual([]);
  });

  test("unknown UUID and non-UUID ids (too long ones too) are 404; no session is 401", async () => {
    const s = await t.signUp();
    for (const id of [crypto.randomUUID(), "abc", "00000000-0000-0000-0000-000000000001", "x".repeat(65)]) {
      expectError(await t.json("GET", `/api/predictions/${id}`, { headers: s.headers }), 404, "not_found");
      expectError(await t.json("POST", `/api/predictions/${id}/cancel`, { headers: s.headers }), 404, "not_found");
      expectError(await t.json("GET", `/api/generations/${id}`, { headers: s.headers }), 404, "not_found");
    }
    expectError(await t.json("GET", `/api/predictions/${crypto.randomUUID()}`), 401, "unauthorized");
    expectError(await t.json("GET", "/api/generations"), 401, "unauthorized");
  });
});

describe("history", () => {
  test("lists are the caller's, newest first, paginated, filtered by status and model", async () => {
    const s = await t.signUp();
    eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY });
    const a = (await create(s, { brandName: "A" })).body;
    const b = (await create(s, { brandName: "B", model: "recraft-v3" })).body;
    eachlabs.enqueue({ create: errorReply(500) });
    const failedId = expectError(await create(s, { brandName: "C" }), 502, "provider_error").details?.predictionId;
    const other = await t.signUp();
    await create(other);

    for (const path of ["/api/predictions", "/api/generations"]) {
      const all = expectSchema(PredictionListSchema, (await t.json("GET", path, { headers: s.headers })).body);
      expect(all.data.map((p) => p.id)).toEqual([failedId as string, b.id, a.id]);
      expect(all.nextCursor).toBeNull();

      const first = expectSchema(
        PredictionListSchema,
        (await t.json("GET", `${path}?limit=2`, { headers: s.headers })).body,
      );
      expect(first.data.map((p) => p.id)).toEqual([failedId as string, b.id]);
      expect(first.nextCursor).not.toBeNull();
      const second = expectSchema(
        PredictionListSchema,
        (await t.json("GET", `${path}?limit=2&cursor=${first.nextCursor}`, { headers: s.headers })).body,
      );
      expect(second.data.map((p) => p.id)).toEqual([a.id]);
      expect(second.nextCursor).toBeNull();

      const failed = (await t.json("GET", `${path}?status=failed`, { headers: s.headers })).body;
      expect(failed.data.map((p: { id: string }) => p.id)).toEqual([failedId]);
      const recraft = (await t.json("GET", `${path}?model=recraft-v3`, { headers: s.headers })).body;
      expect(recraft.data.map((p: { id: string }) => p.id)).toEqual([b.id]);
      expectError(await t.json("GET", `${path}?status=nope`, { headers: s.headers }), 400, "validation_error");
      expectError(await t.json("GET", `${path}?cursor=zzz`, { headers: s.headers }), 400, "validation_error");
    }
  });

  test("GET /api/generations/{id} reads storage only: no provider call", async () => {
    const s = await t.signUp();
    eachlabs.setDefault({ pendingPolls: 0 });
    const p = (await create(s)).body;
    await t.db.update(prediction).set({ lastSyncedAt: null }).where(eq(prediction.id, p.id));
    const res = await t.json("GET", `/api/generations/${p.id}`, { headers: s.headers });
    expect(expectSchema(PredictionSchema, res.body).status).toBe("processing");
    expect(eachlabs.calls.filter((c) => c.op === "get")).toHaveLength(0);
  });
});
