import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { prediction } from "../../src/db/schema";
import { PredictionSchema } from "../../src/schemas/predictions";
import { FAKE_EACHLABS_KEY, type FakeEachlabs, startFakeEachlabs } from "../fakes/eachlabs";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError, expectSchema } from "../helpers/schemas";
import { balanceOf, body } from "./helpers";

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
    for (let i = 0; i < 1000 && eachlabs.creates().length === 0; i++) await Bun.sleep(10);
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
