import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { idempotencyKey, prediction } from "../../src/db/schema";
import { PredictionSchema } from "../../src/schemas/predictions";
import { errorReply, FAKE_EACHLABS_KEY, type FakeEachlabs, startFakeEachlabs } from "../fakes/eachlabs";
import { createTestApp, type TestApp } from "../helpers/app";
import { eventually } from "../helpers/clock";
import { expectError, expectSchema } from "../helpers/schemas";
import { balanceOf, body, ledgerOf } from "./helpers";

// Idempotency-Key on POST /api/predictions: the in-flight twin (409), a key after an error, per-user scope.
let eachlabs: FakeEachlabs;
let t: TestApp;
beforeAll(async () => {
  eachlabs = await startFakeEachlabs();
  t = await createTestApp({
    env: { EACHLABS_API_KEY: FAKE_EACHLABS_KEY, EACHLABS_BASE_URL: eachlabs.url, SIGNUP_CREDITS: "10" },
  });
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
  await eachlabs.close();
});

const post = (headers: Record<string, string>, key: string, b: unknown = body()) =>
  t.json("POST", "/api/predictions", { body: b, headers: { ...headers, "idempotency-key": key } });

describe("Idempotency-Key", () => {
  test("a twin sent while the first is still at the provider gets 409 conflict; the first is charged once", async () => {
    const s = await t.signUp();
    eachlabs.reset();
    const providerAnswers = Promise.withResolvers<void>();
    eachlabs.enqueue({
      create: {
        after: providerAnswers.promise,
        reply: { status: 200, json: { status: "success", message: "ok", predictionID: crypto.randomUUID() } },
      },
    });
    const first = post(s.headers, "same-key-1");
    // The first request has claimed the key once its create reached the provider, which holds it there.
    await eventually(() => eachlabs.creates().length > 0);
    expect(eachlabs.creates().length).toBe(1);
    const twin = await post(s.headers, "same-key-1");
    expectError(twin, 409, "conflict");
    providerAnswers.resolve();
    const done = await first;
    expect(done.status).toBe(201);
    expectSchema(PredictionSchema, done.body);
    const replay = await post(s.headers, "same-key-1");
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.id).toBe(done.body.id);
    expect(await balanceOf(t, s.userId)).toBe(9);
    expect((await t.db.select().from(prediction).where(eq(prediction.userId, s.userId))).length).toBe(1);
  });

  test("after an error the key is released: the retry runs again", async () => {
    const s = await t.signUp();
    const bad = await post(s.headers, "retry-key", body({ numOutputs: 99 }));
    expectError(bad, 400, "validation_error");
    const ok = await post(s.headers, "retry-key");
    expect(ok.status).toBe(201);
    expect(ok.headers.get("idempotent-replayed")).toBeNull();
  });

  test("a provider failure (502) is replayed, not run again: one prediction, one charge, one refund; a new key runs", async () => {
    const s = await t.signUp();
    eachlabs.reset();
    eachlabs.enqueue({ create: errorReply(500) });
    const failed = expectError(await post(s.headers, "fails-once"), 502, "provider_error");
    const replay = await post(s.headers, "fails-once");
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect({ ...expectError(replay, 502, "provider_error"), requestId: "" }).toEqual({ ...failed, requestId: "" });
    expect(eachlabs.creates()).toHaveLength(1);
    const rows = await t.db.select().from(prediction).where(eq(prediction.userId, s.userId));
    expect(rows.map((r) => [r.status, r.creditsRefunded])).toEqual([["failed", 1]]);
    expect(await ledgerOf(t, rows[0]?.id ?? "")).toEqual([
      ["generation", -1],
      ["refund", 1],
    ]);
    expect(await balanceOf(t, s.userId)).toBe(10);
    const fresh = await post(s.headers, "fails-once-retry");
    expect(fresh.status).toBe(201);
    expect(eachlabs.creates()).toHaveLength(2);
  });

  test("a 402 is replayed with its details; a new key is judged on the balance of now", async () => {
    const s = await t.signUp();
    for (const key of ["spend-1", "spend-2"])
      expect((await post(s.headers, key, body({ numOutputs: 4 }))).status).toBe(201);
    const short = expectError(await post(s.headers, "too-big", body({ numOutputs: 4 })), 402, "insufficient_credits");
    expect(short.details).toMatchObject({ required: 4, balance: 2 });
    const replay = await post(s.headers, "too-big", body({ numOutputs: 4 }));
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect({ ...expectError(replay, 402, "insufficient_credits"), requestId: "" }).toEqual({ ...short, requestId: "" });
    expect((await post(s.headers, "fits", body({ numOutputs: 2 }))).status).toBe(201);
    expect(await balanceOf(t, s.userId)).toBe(0);
  });

  test("a retry whose first outcome was never recorded (instance killed, record lost) answers the prediction that key made: charged once", async () => {
    const s = await t.signUp();
    eachlabs.reset();
    const before = await balanceOf(t, s.userId);
    const first = await post(s.headers, "lost-outcome-1");
    expect(first.status).toBe(201);
    // What a killed instance or an outage leaves: the key's record gone (or abandoned and taken over), the job kept.
    await t.db.delete(idempotencyKey).where(eq(idempotencyKey.key, "lost-outcome-1"));
    const retry = await post(s.headers, "lost-outcome-1");
    expect(retry.status).toBe(201);
    expect(expectSchema(PredictionSchema, retry.body).id).toBe(first.body.id);
    const made = await t.db.select({ id: prediction.id }).from(prediction).where(eq(prediction.userId, s.userId));
    expect(made).toHaveLength(1);
    expect(eachlabs.creates()).toHaveLength(1);
    expect(await balanceOf(t, s.userId)).toBe(before - first.body.creditsCharged);
    // And the answer is kept again for the next replay.
    const replay = await post(s.headers, "lost-outcome-1");
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.id).toBe(first.body.id);
  });

  test("keys are per user: another user's identical key does its own work", async () => {
    const a = await t.signUp();
    const b = await t.signUp();
    const ra = await post(a.headers, "shared-key");
    const rb = await post(b.headers, "shared-key");
    expect(ra.status).toBe(201);
    expect(rb.status).toBe(201);
    expect(rb.headers.get("idempotent-replayed")).toBeNull();
    expect(rb.body.id).not.toBe(ra.body.id);
  });

  test("a malformed key is a 400 validation_error and nothing is charged", async () => {
    const s = await t.signUp();
    expectError(await post(s.headers, "has spaces in it"), 400, "validation_error");
    expect(await balanceOf(t, s.userId)).toBe(10);
  });
});
