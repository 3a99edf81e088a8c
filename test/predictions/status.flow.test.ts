import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { prediction } from "../../src/db/schema";
import { PredictionSchema } from "../../src/schemas/predictions";
import { reconcileOnce } from "../../src/services/reconciler";
import {
  errorReply,
  FAKE_EACHLABS_KEY,
  type FakeEachlabs,
  fail,
  imageBytes,
  outputShape,
  startFakeEachlabs,
  succeed,
} from "../fakes/eachlabs";
import { createTestApp, type TestApp } from "../helpers/app";
import { driveClock, eventually, FakeClock } from "../helpers/clock";
import { expectSchema } from "../helpers/schemas";
import { allowSyncNow, balanceOf, body, ledgerOf, refundRows, rowOf } from "./helpers";

/** GET /api/predictions/{id} refreshing from a fake Eachlabs, single-flight, Prefer: wait, and the reconciler. */

let eachlabs: FakeEachlabs;
let t: TestApp;
// Every app in this file reads time from this clock: waits (Prefer: wait, the reconciler's interval) are skipped
// by moving it, and "long ago" is measured from it.
const clock = new FakeClock();
const DEADLINE_MS = 60_000;
const STALE_MS = 5_000;

beforeAll(async () => {
  eachlabs = await startFakeEachlabs();
  t = await createTestApp({
    overrides: { clock },
    env: {
      SIGNUP_CREDITS: "20",
      EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
      EACHLABS_BASE_URL: eachlabs.url,
      EACHLABS_TIMEOUT_MS: "5000",
      PREDICTION_DEADLINE_MS: String(DEADLINE_MS),
      PREDICTION_STALE_AFTER_MS: String(STALE_MS),
    },
  });
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
  await eachlabs.close();
});
beforeEach(() => eachlabs.reset());

async function start(over: Record<string, unknown> = {}) {
  const s = await t.signUp();
  const res = await t.json("POST", "/api/predictions", { headers: s.headers, body: body(over) });
  expect(res.status).toBe(201);
  const p = expectSchema(PredictionSchema, res.body);
  const row = await rowOf(t, p.id);
  return { s, p, providerId: row.providerPredictionId ?? "" };
}

/** The bytes our output URL serves (GET /files/{key} on the app). */
async function bytesAt(url: string | undefined) {
  const res = await t.fetch(new URL(url ?? "").pathname);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

const get = (s: { headers: Record<string, string> }, id: string, headers: Record<string, string> = {}) =>
  t.json("GET", `/api/predictions/${id}`, { headers: { ...s.headers, ...headers } });

describe("GET /api/predictions/{id} refreshes from Eachlabs", () => {
  test("processing → succeeded with the provider's images; charged once, never refunded", async () => {
    eachlabs.setDefault({ pendingPolls: 1 });
    const { s, p, providerId } = await start({ numOutputs: 2 });
    await allowSyncNow(t, p.id);
    const first = expectSchema(PredictionSchema, (await get(s, p.id)).body);
    expect(first.status).toBe("processing");
    expect(first.output).toBeNull();
    await allowSyncNow(t, p.id);
    const done = expectSchema(PredictionSchema, (await get(s, p.id)).body);
    expect(done.status).toBe("succeeded");
    // our copies, in the provider's order
    expect(done.output).toHaveLength(2);
    expect(await bytesAt(done.output?.[0])).toEqual(imageBytes(new URL(eachlabs.imageUrl(providerId, 0)).pathname));
    expect(await bytesAt(done.output?.[1])).toEqual(imageBytes(new URL(eachlabs.imageUrl(providerId, 1)).pathname));
    expect(done.completedAt).not.toBeNull();
    expect(eachlabs.getsFor(providerId)).toBe(2);
    // final: further polls are answered from storage
    await allowSyncNow(t, p.id);
    expect((await get(s, p.id)).body.status).toBe("succeeded");
    expect(eachlabs.getsFor(providerId)).toBe(2);
    expect(await ledgerOf(t, p.id)).toEqual([["generation", -2]]);
  });

  test("every documented output shape becomes a list of URLs", async () => {
    const urls = [eachlabs.imageUrl("x", 1), eachlabs.imageUrl("x", 2)];
    for (const shape of ["string", "strings", "object", "objects"] as const) {
      eachlabs.setDefault({ pendingPolls: 0, final: succeed(outputShape(shape, urls)) });
      const { s, p } = await start();
      await allowSyncNow(t, p.id);
      const done = expectSchema(PredictionSchema, (await get(s, p.id)).body);
      expect(done.status).toBe("succeeded");
      const expected = shape === "string" || shape === "object" ? [urls[0] as string] : urls;
      expect(done.output).toHaveLength(expected.length);
      for (const [i, url] of expected.entries())
        expect(await bytesAt(done.output?.[i])).toEqual(imageBytes(new URL(url).pathname));
    }
  });

  for (const spelling of ["error", "failed"]) {
    test(`fails later at Eachlabs (status "${spelling}") → polling marks failed, one refund`, async () => {
      eachlabs.setDefault({ pendingPolls: 1, final: fail("PROVIDER_REJECTED", "nsfw content detected", spelling) });
      const { s, p } = await start({ numOutputs: 3 });
      await allowSyncNow(t, p.id);
      expect((await get(s, p.id)).body.status).toBe("processing");
      await allowSyncNow(t, p.id);
      const res = await get(s, p.id);
      const failed = expectSchema(PredictionSchema, res.body);
      expect(failed.status).toBe("failed");
      expect(failed.error?.code).toBe("generation_failed");
      expect(failed.error?.message).not.toContain("nsfw");
      expect(failed.creditsRefunded).toBe(3);
      expect(failed.output).toBeNull();
      expect(await ledgerOf(t, p.id)).toEqual([
        ["generation", -3],
        ["refund", 3],
      ]);
      expect(await balanceOf(t, s.userId)).toBe(20);
      // the raw failure is kept for support
      expect((await rowOf(t, p.id)).providerResponse).toMatchObject({ status: spelling });
    });
  }

  test("canceled at Eachlabs (cancelled spelling) → canceled and refunded", async () => {
    eachlabs.setDefault({ pendingPolls: 0, final: { status: "cancelled", output: null } });
    const { s, p } = await start();
    await allowSyncNow(t, p.id);
    const res = expectSchema(PredictionSchema, (await get(s, p.id)).body);
    expect(res.status).toBe("canceled");
    expect(res.creditsRefunded).toBe(1);
    expect(await refundRows(t, p.id)).toHaveLength(1);
  });

  test("an unknown status is still processing; a provider outage on get keeps it active", async () => {
    eachlabs.setDefault({ pendingPolls: 2, pendingStatuses: ["warming_up", null] });
    const { s, p, providerId } = await start();
    await allowSyncNow(t, p.id);
    expect((await get(s, p.id)).body.status).toBe("processing");
    await allowSyncNow(t, p.id);
    expect((await get(s, p.id)).body.status).toBe("processing");
    const remove = eachlabs.script((c) => (c.op === "get" ? errorReply(500) : undefined));
    await allowSyncNow(t, p.id);
    const during = await get(s, p.id);
    expect(during.status).toBe(200);
    expect(during.body.status).toBe("processing");
    remove();
    await allowSyncNow(t, p.id);
    expect((await get(s, p.id)).body.status).toBe("succeeded");
    expect(eachlabs.getsFor(providerId)).toBe(4);
    expect(await refundRows(t, p.id)).toHaveLength(0);
  });

  test("10 concurrent polls of a prediction that failed at Eachlabs → one provider get, one refund", async () => {
    eachlabs.setDefault({ pendingPolls: 0, final: fail() });
    const { s, p, providerId } = await start({ numOutputs: 2 });
    await allowSyncNow(t, p.id);
    const results = await Promise.all(Array.from({ length: 10 }, () => get(s, p.id)));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.status).toBe("failed");
      expect(r.body.creditsRefunded).toBe(2);
    }
    expect(eachlabs.getsFor(providerId)).toBe(1);
    expect(await refundRows(t, p.id)).toHaveLength(1);
    expect(await balanceOf(t, s.userId)).toBe(20);
  });

  test("many pollers of a running prediction: at most one provider get per second", async () => {
    eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY });
    const { s, p, providerId } = await start();
    await allowSyncNow(t, p.id);
    const started = clock.now().getTime();
    for (let round = 0; round < 3; round++) {
      if (round > 0) clock.advance(600);
      const results = await Promise.all(Array.from({ length: 10 }, () => get(s, p.id)));
      for (const r of results) expect(r.body.status).toBe("processing");
    }
    const elapsedSeconds = (clock.now().getTime() - started) / 1000;
    const gets = eachlabs.getsFor(providerId);
    expect(gets).toBeGreaterThanOrEqual(1);
    expect(gets).toBeLessThanOrEqual(1 + Math.floor(elapsedSeconds));
  });

  test("two app instances on one database never refund twice", async () => {
    const second = await createTestApp({
      database: t.database,
      overrides: { clock },
      env: { EACHLABS_API_KEY: FAKE_EACHLABS_KEY, EACHLABS_BASE_URL: eachlabs.url },
    });
    eachlabs.setDefault({ pendingPolls: 0, final: fail() });
    const { s, p } = await start();
    await allowSyncNow(t, p.id);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? second : t).json("GET", `/api/predictions/${p.id}`, { headers: s.headers }),
      ),
    );
    for (const r of results) expect(r.status).toBe(200);
    await allowSyncNow(t, p.id);
    expect((await get(s, p.id)).body.status).toBe("failed");
    expect(await refundRows(t, p.id)).toHaveLength(1);
    expect(await balanceOf(t, s.userId)).toBe(20);
  });

  test("Prefer: wait=N holds the request until the prediction succeeds", async () => {
    eachlabs.setDefault({ pendingPolls: 2 });
    const { s, p, providerId } = await start();
    const started = clock.now().getTime();
    const res = await driveClock(clock, get(s, p.id, { prefer: "wait=20" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("preference-applied")).toBe("wait=20");
    expect(res.body.status).toBe("succeeded");
    expect(eachlabs.getsFor(providerId)).toBe(3);
    // two waits of about a second (one provider get per second), far from the 20 allowed
    const waited = clock.now().getTime() - started;
    expect(waited).toBeGreaterThanOrEqual(2 * 1000);
    expect(waited).toBeLessThan(4 * 1000);
  });

  test("Prefer: wait is clamped to 30 and answers at once for a final prediction", async () => {
    eachlabs.setDefault({ pendingPolls: 0 });
    const { s, p } = await start();
    await allowSyncNow(t, p.id);
    expect((await get(s, p.id)).body.status).toBe("succeeded");
    const res = await get(s, p.id, { prefer: "respond-async, wait=600" });
    expect(res.headers.get("preference-applied")).toBe("wait=30");
    expect(res.body.status).toBe("succeeded");
  });

  test("Prefer: wait=1 returns the still-processing prediction after about a second", async () => {
    eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY });
    const { s, p } = await start();
    const started = clock.now().getTime();
    const res = await driveClock(clock, get(s, p.id, { prefer: "wait=1" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("preference-applied")).toBe("wait=1");
    expect(res.body.status).toBe("processing");
    expect(clock.now().getTime() - started).toBe(1000);
  });
});

describe("reconcileOnce", () => {
  test("fails + refunds a prediction stuck past its deadline; a second pass changes nothing", async () => {
    eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY });
    const { s, p, providerId } = await start({ numOutputs: 2 });
    const past = new Date(clock.now().getTime() - DEADLINE_MS - 1000);
    await t.db.update(prediction).set({ createdAt: past, lastSyncedAt: past }).where(eq(prediction.id, p.id));
    await reconcileOnce(t.deps);
    const row = await rowOf(t, p.id);
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("timeout");
    expect(row.creditsRefunded).toBe(2);
    expect(eachlabs.getsFor(providerId)).toBe(1);
    expect(eachlabs.calls.some((c) => c.op === "cancel" && c.predictionId === providerId)).toBe(true);
    await t.db.update(prediction).set({ lastSyncedAt: past }).where(eq(prediction.id, p.id));
    await reconcileOnce(t.deps);
    expect(await ledgerOf(t, p.id)).toEqual([
      ["generation", -2],
      ["refund", 2],
    ]);
    const api = expectSchema(PredictionSchema, (await get(s, p.id)).body);
    expect(api.error?.code).toBe("timeout");
  });

  test("a queued prediction that never reached Eachlabs is failed + refunded after the deadline", async () => {
    const s = await t.signUp();
    const past = new Date(clock.now().getTime() - DEADLINE_MS - 1000);
    const { applyCreditChange } = await import("../../src/services/ledger");
    const id = await t.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(prediction)
        .values({
          userId: s.userId,
          model: "nano-banana",
          input: {
            brandName: "X",
            description: null,
            style: null,
            colors: [],
            aspectRatio: "1:1",
            numOutputs: 1,
            prompt: null,
          },
          prompt: "x",
          creditsCharged: 1,
          createdAt: past,
        })
        .returning();
      if (!row) throw new Error("insert failed");
      await applyCreditChange(tx, { userId: s.userId, type: "generation", amount: -1, predictionId: row.id });
      return row.id;
    });
    await reconcileOnce(t.deps);
    const row = await rowOf(t, id);
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("timeout");
    expect(await refundRows(t, id)).toHaveLength(1);
    expect(await balanceOf(t, s.userId)).toBe(20);
  });

  test("refreshes a stale prediction nobody polls: success, and a failure refunded", async () => {
    eachlabs.setDefault({ pendingPolls: 0 });
    const ok = await start();
    eachlabs.setDefault({ pendingPolls: 0, final: fail() });
    const bad = await start();
    const fresh = await start();
    const stale = new Date(clock.now().getTime() - STALE_MS - 1000);
    for (const id of [ok.p.id, bad.p.id])
      await t.db.update(prediction).set({ lastSyncedAt: stale }).where(eq(prediction.id, id));
    await reconcileOnce(t.deps);
    expect((await rowOf(t, ok.p.id)).status).toBe("succeeded");
    const okRow = await rowOf(t, ok.p.id);
    expect(okRow.providerOutput).toEqual([eachlabs.imageUrl(ok.providerId, 0)]);
    expect(await bytesAt(okRow.output?.[0])).toEqual(imageBytes(new URL(eachlabs.imageUrl(ok.providerId, 0)).pathname));
    expect((await rowOf(t, bad.p.id)).status).toBe("failed");
    expect(await refundRows(t, bad.p.id)).toHaveLength(1);
    // synced just now: not stale, not touched
    expect((await rowOf(t, fresh.p.id)).status).toBe("processing");
    expect(eachlabs.getsFor(fresh.providerId)).toBe(0);
  });

  test("concurrent passes (several instances) claim each prediction once", async () => {
    eachlabs.setDefault({ pendingPolls: 0, final: fail() });
    const runs = await Promise.all([start(), start(), start()]);
    const stale = new Date(clock.now().getTime() - STALE_MS - 1000);
    for (const r of runs) await t.db.update(prediction).set({ lastSyncedAt: stale }).where(eq(prediction.id, r.p.id));
    await Promise.all([reconcileOnce(t.deps), reconcileOnce(t.deps), reconcileOnce(t.deps)]);
    for (const r of runs) {
      expect((await rowOf(t, r.p.id)).status).toBe("failed");
      expect(eachlabs.getsFor(r.providerId)).toBe(1);
      expect(await refundRows(t, r.p.id)).toHaveLength(1);
    }
  });
});

describe("reconciler lifecycle", () => {
  // Last in the file: this instance's reconciler treats every active prediction in the database as stale.
  test("with RECONCILER_INTERVAL_MS > 0 the started reconciler refunds a stuck prediction by itself; stop() ends it", async () => {
    eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY });
    const { p } = await start();
    const background = await createTestApp({
      database: t.database,
      overrides: { clock },
      env: {
        EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
        EACHLABS_BASE_URL: eachlabs.url,
        RECONCILER_INTERVAL_MS: "50",
        PREDICTION_STALE_AFTER_MS: "0",
        PREDICTION_DEADLINE_MS: "1000",
      },
    });
    expect(background.deps.lifecycle).toBeDefined();
    expect(t.deps.lifecycle).toBeUndefined();
    background.deps.lifecycle?.start();
    try {
      // Nothing happens before the interval has passed on the clock …
      await eventually(() => clock.waiting > 0);
      expect((await rowOf(t, p.id)).status).toBe("processing");
      // … then passes run every 50 ms until one finds the prediction past its 1 s deadline.
      clock.advance(1000);
      for (let i = 0; i < 100 && (await rowOf(t, p.id)).status === "processing"; i++) {
        await eventually(() => clock.waiting > 0);
        clock.advance(50);
      }
    } finally {
      await background.close();
    }
    const row = await rowOf(t, p.id);
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("timeout");
    expect(await refundRows(t, p.id)).toHaveLength(1);
  });
});
