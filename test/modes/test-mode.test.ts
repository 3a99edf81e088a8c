import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { and, eq, sql } from "drizzle-orm";
import { creditTransaction, outgoingWebhook } from "../../src/db/schema";
import { AnalyticsSchema } from "../../src/schemas/admin";
import { AssetSchema } from "../../src/schemas/assets";
import { CreditBalanceSchema, CreditTransactionListSchema } from "../../src/schemas/credits";
import { PredictionListSchema, PredictionSchema } from "../../src/schemas/predictions";
import { WebhookDeliveryListSchema } from "../../src/schemas/webhook-deliveries";
import { deliverDueWebhooks } from "../../src/services/webhooks/sender";
import { FAKE_EACHLABS_KEY, type FakeEachlabs, startFakeEachlabs } from "../fakes/eachlabs";
import { startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver";
import { createTestApp, type TestApp } from "../helpers/app";
import { eventually } from "../helpers/clock";
import { expectError, expectSchema } from "../helpers/schemas";
import { balanceOf, body } from "../predictions/helpers";

/**
 * Test mode: a test key's requests run beside live ones on the same server and never meet them. The server here is
 * configured with a real-looking Eachlabs key (the fake Eachlabs): test predictions must never reach it.
 */

let eachlabs: FakeEachlabs;
let receiver: WebhookReceiver;
let t: TestApp;

beforeAll(async () => {
  eachlabs = await startFakeEachlabs();
  receiver = await startWebhookReceiver();
  t = await createTestApp({
    env: {
      SIGNUP_CREDITS: "7",
      EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
      EACHLABS_BASE_URL: eachlabs.url,
      SANDBOX_DELAY_MS: "0",
      TEST_CREDITS: "40",
      ADMIN_EMAILS: "chief@example.com",
      WEBHOOK_ALLOW_PRIVATE_URLS: "true",
    },
  });
});
afterAll(async () => {
  await t.close();
  await receiver.close();
  await eachlabs.close();
});
beforeEach(() => {
  eachlabs.reset();
  // Live predictions stay processing: nothing here waits for Eachlabs.
  eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY });
});

type Session = Awaited<ReturnType<TestApp["signUp"]>>;

async function createKey(s: Session, metadata?: Record<string, unknown>) {
  const res = await t.json("POST", "/api/auth/api-key/create", {
    headers: s.headers,
    body: { name: "ci", ...(metadata ? { metadata } : {}) },
  });
  expect(res.status).toBe(200);
  return res.body as { id: string; key: string; start: string; prefix: string; metadata: Record<string, unknown> };
}

/** A user with a live key and a test key (each as request headers). */
async function userWithKeys() {
  const s = await t.signUp();
  const live = await createKey(s);
  const test = await createKey(s, { mode: "test" });
  return { s, userId: s.userId, live: { "x-api-key": live.key }, test: { "x-api-key": test.key } };
}

const topUp = (headers: Record<string, string>) => t.json("POST", "/api/credits/test-top-up", { headers });
const credits = async (headers: Record<string, string>) =>
  expectSchema(CreditBalanceSchema, (await t.json("GET", "/api/credits", { headers })).body);

async function createPrediction(headers: Record<string, string>, over: Record<string, unknown> = {}, extra = {}) {
  const res = await t.json("POST", "/api/predictions", { headers: { ...headers, ...extra }, body: body(over) });
  expect(res.status).toBe(201);
  return expectSchema(PredictionSchema, res.body);
}

async function succeeded(headers: Record<string, string>, id: string) {
  return eventually(async () => {
    const res = await t.json("GET", `/api/predictions/${id}`, { headers: { ...headers, prefer: "wait=5" } });
    const p = expectSchema(PredictionSchema, res.body);
    expect(p.status).not.toBe("failed");
    return p.status === "succeeded" ? p : undefined;
  }, 15_000);
}

describe("keys", () => {
  test("a key is live unless created with metadata.mode test; the prefix says which; the mode never changes", async () => {
    const s = await t.signUp();
    const live = await createKey(s);
    expect(live.key.startsWith("logo_live_")).toBe(true);
    expect(live.start).toStartWith("logo_live_");
    expect(live.metadata).toEqual({ mode: "live" });
    const test = await createKey(s, { mode: "test", team: "ci" });
    expect(test.key.startsWith("logo_test_")).toBe(true);
    expect(test.metadata).toEqual({ mode: "test", team: "ci" });
    // A prefix the client sends does not choose the mode.
    const sneaky = await t.json("POST", "/api/auth/api-key/create", {
      headers: s.headers,
      body: { name: "x", prefix: "logo_test_" },
    });
    expect((sneaky.body as { key: string }).key.startsWith("logo_live_")).toBe(true);

    const bad = await t.json("POST", "/api/auth/api-key/create", {
      headers: s.headers,
      body: { name: "x", metadata: { mode: "sandbox" } },
    });
    expect(bad.status).toBe(400);
    const flip = await t.json("POST", "/api/auth/api-key/update", {
      headers: s.headers,
      body: { keyId: test.id, metadata: { mode: "live" } },
    });
    expect(flip.status).toBe(400);
    // Other metadata may change; the mode stays in it.
    const renamed = await t.json("POST", "/api/auth/api-key/update", {
      headers: s.headers,
      body: { keyId: test.id, metadata: { team: "qa" } },
    });
    expect(renamed.status).toBe(200);
    expect((renamed.body as { metadata: unknown }).metadata).toEqual({ team: "qa", mode: "test" });
    expect((await credits({ "x-api-key": test.key })).livemode).toBe(false);
    expect((await credits({ "x-api-key": live.key })).livemode).toBe(true);
    expect((await credits(s.headers)).livemode).toBe(true);
  });
});

describe("test balance", () => {
  test("starts at 0, is topped up to TEST_CREDITS, and never touches the live balance", async () => {
    const u = await userWithKeys();
    expect(await credits(u.test)).toMatchObject({ balance: 0, livemode: false });
    const up = await topUp(u.test);
    expect(up.status).toBe(200);
    expect(expectSchema(CreditBalanceSchema, up.body)).toMatchObject({ balance: 40, livemode: false });
    // Again: nothing more.
    expect(expectSchema(CreditBalanceSchema, (await topUp(u.test)).body).balance).toBe(40);
    expect(await credits(u.live)).toMatchObject({ balance: 7, livemode: true });
    expect(await credits(u.s.headers)).toMatchObject({ balance: 7, livemode: true });

    const ledger = expectSchema(
      CreditTransactionListSchema,
      (await t.json("GET", "/api/credits/transactions", { headers: u.test })).body,
    );
    expect(ledger.data.map((r) => [r.type, r.amount, r.livemode])).toEqual([["test_top_up", 40, false]]);
    const liveLedger = expectSchema(
      CreditTransactionListSchema,
      (await t.json("GET", "/api/credits/transactions", { headers: u.live })).body,
    );
    expect(liveLedger.data.map((r) => [r.type, r.livemode])).toEqual([["signup_bonus", true]]);
  });

  test("only test keys top up; test keys cannot buy credits (403)", async () => {
    const u = await userWithKeys();
    expectError((await topUp(u.live)) as never, 403, "forbidden");
    expectError((await topUp(u.s.headers)) as never, 403, "forbidden");
    const buy = await t.json("POST", "/api/credits/purchase", { headers: u.test, body: { packageId: "starter" } });
    expectError(buy as never, 403, "forbidden");
    expect(await balanceOf(t, u.userId)).toBe(7);
    expect(await balanceOf(t, u.userId, false)).toBe(0);
  });

  test("a test prediction with an empty test balance is 402, whatever the live balance", async () => {
    const u = await userWithKeys();
    const res = await t.json("POST", "/api/predictions", { headers: u.test, body: body() });
    expectError(res as never, 402, "insufficient_credits");
    expect(await balanceOf(t, u.userId)).toBe(7);
  });
});

describe("test predictions", () => {
  test("run on the sandbox, never at Eachlabs, with real files, charged to the test balance", async () => {
    const u = await userWithKeys();
    await topUp(u.test);
    const p = await createPrediction(u.test, { numOutputs: 2 });
    expect(p.livemode).toBe(false);
    expect(p.creditsCharged).toBe(2);
    const done = await succeeded(u.test, p.id);
    expect(done.output).toHaveLength(2);
    const file = await t.fetch(new URL(done.output?.[0] ?? "").pathname);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("image/png");
    // A deliverable of a test prediction is test mode's too.
    const ordered = await t.json("POST", `/api/predictions/${p.id}/assets`, {
      headers: u.test,
      body: { kind: "vector" },
    });
    expect(ordered.status).toBe(201);
    expect(expectSchema(AssetSchema, ordered.body).livemode).toBe(false);

    expect(eachlabs.calls).toHaveLength(0);
    expect(await balanceOf(t, u.userId)).toBe(7);
    expect(await balanceOf(t, u.userId, false)).toBe(40 - 2 - 1);

    // The live key of the same user still reaches Eachlabs.
    const live = await createPrediction(u.live);
    expect(live.livemode).toBe(true);
    expect(eachlabs.creates()).toHaveLength(1);
    expect(await balanceOf(t, u.userId)).toBe(6);
  });

  test("lists and idempotency keys are per mode", async () => {
    const u = await userWithKeys();
    await topUp(u.test);
    const key = { "idempotency-key": `same-${crypto.randomUUID()}` };
    const test = await createPrediction(u.test, {}, key);
    const live = await createPrediction(u.live, {}, key);
    expect(live.id).not.toBe(test.id);
    expect((await createPrediction(u.test, {}, key)).id).toBe(test.id);

    for (const path of ["/api/predictions", "/api/generations"]) {
      const liveList = expectSchema(PredictionListSchema, (await t.json("GET", path, { headers: u.live })).body);
      expect(liveList.data.map((p) => p.id)).toEqual([live.id]);
      const session = expectSchema(PredictionListSchema, (await t.json("GET", path, { headers: u.s.headers })).body);
      expect(session.data.map((p) => p.id)).toEqual([live.id]);
      const testList = expectSchema(PredictionListSchema, (await t.json("GET", path, { headers: u.test })).body);
      expect(testList.data.map((p) => p.id)).toEqual([test.id]);
    }
  });

  test("a test object's webhook is signed as usual and says livemode false; its deliveries too", async () => {
    const u = await userWithKeys();
    await topUp(u.test);
    receiver.reset();
    const p = await createPrediction(u.test, { webhook: receiver.url, webhookEvents: ["start", "completed"] });
    await succeeded(u.test, p.id);
    await eventually(async () => {
      await deliverDueWebhooks(t.deps);
      return receiver.receiptsFor(p.id).length >= 2;
    }, 15_000);
    for (const r of receiver.receiptsFor(p.id)) {
      expect(JSON.parse(r.body).data.livemode).toBe(false);
      expect(r.headers["webhook-signature"]).toStartWith("v1,");
    }
    const deliveries = expectSchema(
      WebhookDeliveryListSchema,
      (await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries`, { headers: u.test })).body,
    );
    expect(deliveries.data.length).toBeGreaterThanOrEqual(2);
    expect(deliveries.data.every((d) => d.livemode === false)).toBe(true);
    const [row] = await t.db.select().from(outgoingWebhook).where(eq(outgoingWebhook.jobId, p.id)).limit(1);
    expect(row?.livemode).toBe(false);
  });
});

describe("admin analytics", () => {
  test("count live mode only unless asked livemode=false", async () => {
    const admin = await t.signUp({ email: "chief@example.com", name: "Chief" });
    const from = new Date(Date.now() - 60_000).toISOString();
    const get = async (q: string) =>
      expectSchema(
        AnalyticsSchema,
        (await t.json("GET", `/api/admin/analytics?from=${from}${q}`, { headers: admin.headers })).body,
      );
    const beforeLive = await get("");
    const beforeTest = await get("&livemode=false");
    const u = await userWithKeys();
    await topUp(u.test);
    await createPrediction(u.test);
    const afterLive = await get("");
    const afterTest = await get("&livemode=false");
    expect(afterLive.livemode).toBe(true);
    expect(afterTest.livemode).toBe(false);
    expect(afterLive.predictions.total).toBe(beforeLive.predictions.total);
    expect(afterLive.credits.spent).toBe(beforeLive.credits.spent);
    expect(afterLive.credits.outstanding).toBe(beforeLive.credits.outstanding + 7);
    expect(afterTest.predictions.total).toBe(beforeTest.predictions.total + 1);
    expect(afterTest.credits.spent).toBe(beforeTest.credits.spent + 1);
    expect(afterTest.credits.outstanding).toBe(beforeTest.credits.outstanding + 39);
  });
});

describe("the ledger invariant, per mode", () => {
  test("holds for both accounts of a user; a row written to the wrong mode is a violation", async () => {
    const u = await userWithKeys();
    await topUp(u.test);
    await createPrediction(u.test);
    await createPrediction(u.live);
    expect(await t.ledgerViolations()).toEqual([]);
    const [liveRow] = await t.db
      .select({ id: creditTransaction.id })
      .from(creditTransaction)
      .where(
        and(
          eq(creditTransaction.userId, u.userId),
          eq(creditTransaction.type, "generation"),
          eq(creditTransaction.livemode, true),
        ),
      );
    // Moved to the other mode, the totals of both still add up across modes, but each account's no longer does.
    await t.db.execute(sql`update credit_transaction set livemode = false where id = ${liveRow?.id}`);
    const broken = await t.ledgerViolations();
    expect(broken.map((v) => v.livemode).sort()).toEqual([false, true]);
    await t.db.execute(sql`update credit_transaction set livemode = true where id = ${liveRow?.id}`);
    expect(await t.ledgerViolations()).toEqual([]);
  });
});
