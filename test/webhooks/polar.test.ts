import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { creditAccount, creditTransaction, polarOrder as polarOrderTable, webhookEvent } from "../../src/db/schema";
import { WebhookAckSchema } from "../../src/schemas/webhooks";
import {
  type FakePolar,
  polarEnv,
  polarEvent,
  polarOrder,
  type SignedDelivery,
  signWebhook,
  startFakePolar,
  WEBHOOK_SECRET,
} from "../fakes/polar";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError, expectSchema } from "../helpers/schemas";

let fake: FakePolar;
let t: TestApp;

beforeAll(async () => {
  fake = await startFakePolar();
  t = await createTestApp({ env: polarEnv(fake) });
});

afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
  await fake.close();
});

const deliver = (d: SignedDelivery, app: TestApp = t) =>
  app.json("POST", "/api/webhooks/polar", { body: d.body, headers: d.headers });

async function send(type: string, data: unknown, opts: { webhookId?: string } = {}) {
  const d = signWebhook(polarEvent(type, data), WEBHOOK_SECRET, opts);
  const res = await deliver(d);
  return { ...res, webhookId: d.webhookId };
}

const balanceOf = async (userId: string) =>
  (await t.db.select().from(creditAccount).where(eq(creditAccount.userId, userId)))[0]?.balance ?? 0;
const ledgerOf = (userId: string) => t.db.select().from(creditTransaction).where(eq(creditTransaction.userId, userId));
const eventRow = async (webhookId: string) =>
  (await t.db.select().from(webhookEvent).where(eq(webhookEvent.webhookId, webhookId)))[0];
const orderRow = async (orderId: string) =>
  (await t.db.select().from(polarOrderTable).where(eq(polarOrderTable.orderId, orderId)))[0];
const countEvents = async () => (await t.db.select({ id: webhookEvent.id }).from(webhookEvent)).length;

/** A user who bought "pro" (50 credits for 2000 cents): the order as Polar would send it. */
async function buyer() {
  const s = await t.signUp();
  const order = polarOrder({
    productId: "prod-pro",
    externalCustomerId: s.userId,
    metadata: { userId: s.userId, packageId: "pro" },
  });
  return { s, order };
}

describe("order.paid", () => {
  test("grants the package's credits once, as a purchase row, and records the event", async () => {
    const { s, order } = await buyer();
    const res = await send("order.paid", order);
    expect(res.status).toBe(202);
    expect(expectSchema(WebhookAckSchema, res.body)).toEqual({ received: true });
    expect(await balanceOf(s.userId)).toBe(53);
    const purchases = (await ledgerOf(s.userId)).filter((r) => r.type === "purchase");
    expect(purchases.map((r) => [r.amount, r.orderId, r.balanceAfter])).toEqual([[50, order.id, 53]]);
    const ev = await eventRow(res.webhookId);
    expect(ev).toMatchObject({ type: "order.paid", status: "processed", source: "polar" });
    expect((ev?.payload as { data?: { id?: string } } | undefined)?.data?.id).toBe(order.id);
    expect(ev?.processedAt).toBeInstanceOf(Date);
    expect(await orderRow(order.id)).toMatchObject({
      userId: s.userId,
      packageId: "pro",
      productId: "prod-pro",
      creditsGranted: 50,
      creditsRevoked: 0,
      totalAmount: 2000,
      currency: "usd",
      status: "paid",
    });
    const txs = await t.json("GET", "/api/credits/transactions?limit=1", { headers: s.headers });
    expect(txs.body.data[0]).toMatchObject({ type: "purchase", amount: 50, orderId: order.id });
    const bal = await t.json("GET", "/api/credits", { headers: s.headers });
    expect(bal.body).toMatchObject({ balance: 53, totalPurchased: 50 });
  });

  test("a redelivery with the same webhook-id changes nothing", async () => {
    const { s, order } = await buyer();
    const d = signWebhook(polarEvent("order.paid", order), WEBHOOK_SECRET);
    expect((await deliver(d)).status).toBe(202);
    const before = await countEvents();
    const again = await deliver(d);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ received: true });
    // re-signed later, as Polar's retries are
    const retry = signWebhook(polarEvent("order.paid", order), WEBHOOK_SECRET, {
      webhookId: d.webhookId,
      body: d.body,
    });
    expect((await deliver(retry)).status).toBe(202);
    expect(await countEvents()).toBe(before);
    expect(await balanceOf(s.userId)).toBe(53);
  });

  test("the same order in two different events grants once", async () => {
    const { s, order } = await buyer();
    const a = await send("order.paid", order);
    const b = await send("order.paid", { ...order, modified_at: new Date().toISOString() });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect((await eventRow(b.webhookId))?.outcome).toContain("already granted");
    expect(await balanceOf(s.userId)).toBe(53);
    expect((await ledgerOf(s.userId)).filter((r) => r.type === "purchase")).toHaveLength(1);
  });

  test("order.created and order.updated are recorded without effect; order.paid after them grants once", async () => {
    const { s, order } = await buyer();
    const created = await send("order.created", { ...order, status: "pending", paid: false });
    const updated = await send("order.updated", order);
    expect([created.status, updated.status]).toEqual([202, 202]);
    expect((await eventRow(created.webhookId))?.status).toBe("ignored");
    expect((await eventRow(updated.webhookId))?.status).toBe("ignored");
    expect(await balanceOf(s.userId)).toBe(3);
    await send("order.paid", order);
    await send("order.updated", order);
    expect(await balanceOf(s.userId)).toBe(53);
  });

  test("concurrent deliveries of one order (different webhook ids) grant once", async () => {
    const { s, order } = await buyer();
    const results = await Promise.all(Array.from({ length: 8 }, () => send("order.paid", order)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(202));
    expect(await balanceOf(s.userId)).toBe(53);
    expect((await ledgerOf(s.userId)).filter((r) => r.type === "purchase")).toHaveLength(1);
  });

  test("the checkout's metadata.userId wins over a Polar customer's external id that names someone else", async () => {
    const buyer = await t.signUp();
    const other = await t.signUp();
    const order = polarOrder({
      externalCustomerId: other.userId,
      metadata: { userId: buyer.userId, packageId: "pro" },
    });
    expect((await send("order.paid", order)).status).toBe(202);
    expect(await balanceOf(buyer.userId)).toBe(53);
    expect(await balanceOf(other.userId)).toBe(3);
    // without metadata, the customer's external id still finds the user
    const byCustomer = polarOrder({ externalCustomerId: other.userId, metadata: {} });
    expect((await send("order.paid", byCustomer)).status).toBe(202);
    expect(await balanceOf(other.userId)).toBe(53);
  });

  test("falls back to metadata.userId and metadata.packageId", async () => {
    const s = await t.signUp();
    const order = polarOrder({
      productId: "prod-unknown",
      externalCustomerId: null,
      metadata: { userId: s.userId, packageId: "starter" },
      totalAmount: 500,
    });
    const res = await send("order.paid", order);
    expect(res.status).toBe(202);
    expect(await balanceOf(s.userId)).toBe(13);
    expect(await orderRow(order.id)).toMatchObject({ packageId: "starter", creditsGranted: 10 });
  });

  test("an unknown user or product is recorded as failed and still acknowledged", async () => {
    const ghost = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a";
    const noUser = polarOrder({ externalCustomerId: ghost, metadata: { userId: "not-a-uuid", packageId: "pro" } });
    const r1 = await send("order.paid", noUser);
    expect(r1.status).toBe(202);
    const e1 = await eventRow(r1.webhookId);
    expect(e1?.status).toBe("failed");
    expect(e1?.outcome).toContain(ghost);
    expect(await orderRow(noUser.id)).toBeUndefined();

    const s = await t.signUp();
    const noProduct = polarOrder({ productId: "prod-gone", externalCustomerId: s.userId, metadata: {} });
    const r2 = await send("order.paid", noProduct);
    expect(r2.status).toBe(202);
    const e2 = await eventRow(r2.webhookId);
    expect(e2?.status).toBe("failed");
    expect(e2?.outcome).toContain("prod-gone");
    expect(await balanceOf(s.userId)).toBe(3);

    const malformed = await send("order.paid", { id: "x" });
    expect(malformed.status).toBe(202);
    expect((await eventRow(malformed.webhookId))?.status).toBe("failed");
  });
});

describe("order.refunded", () => {
  test("a partial refund takes back the refunded share, then the full refund the rest, each once", async () => {
    const { s, order } = await buyer();
    await send("order.paid", order);
    // 700 of 2000 refunded: floor(0.35 × 50) = 17
    const partial = { ...order, status: "partially_refunded", refunded_amount: 700 };
    const p = await send("order.refunded", partial);
    expect(p.status).toBe(202);
    expect(await balanceOf(s.userId)).toBe(53 - 17);
    // the same refund in another event changes nothing
    await send("order.refunded", partial);
    await send("order.updated", partial);
    expect(await balanceOf(s.userId)).toBe(36);
    const full = { ...order, status: "refunded", refunded_amount: 2000 };
    await send("order.refunded", full);
    expect(await balanceOf(s.userId)).toBe(3);
    await send("order.refunded", full);
    // an older snapshot arriving late gives nothing back
    await send("order.refunded", partial);
    expect(await balanceOf(s.userId)).toBe(3);
    const refunds = (await ledgerOf(s.userId)).filter((r) => r.type === "purchase_refund");
    expect(refunds.map((r) => [r.amount, r.orderId])).toEqual([
      [-17, order.id],
      [-33, order.id],
    ]);
    expect(await orderRow(order.id)).toMatchObject({
      creditsRevoked: 50,
      creditsUnrecoverable: 0,
      refundedAmount: 2000,
      status: "refunded",
    });
    const bal = await t.json("GET", "/api/credits", { headers: s.headers });
    expect(bal.body).toMatchObject({ balance: 3, totalPurchased: 0 });
  });

  test("a refund exceeding the balance stops at zero and records what could not be taken back", async () => {
    const { s, order } = await buyer();
    await send("order.paid", order);
    // the user spends most of it (an admin removal stands in for generations here)
    const adminApp = await createTestApp({
      database: t.database,
      env: polarEnv(fake, { ADMIN_EMAILS: "ops@example.com" }),
    });
    const admin = await adminApp.signUp({ email: "ops@example.com" });
    const spend = await adminApp.json("POST", "/api/admin/credits", {
      body: { userId: s.userId, amount: -45, reason: "spent" },
      headers: admin.headers,
    });
    expect(spend.status).toBe(201);
    await adminApp.close();
    expect(await balanceOf(s.userId)).toBe(8);
    const res = await send("order.refunded", { ...order, status: "refunded", refunded_amount: 2000 });
    expect(res.status).toBe(202);
    expect(await balanceOf(s.userId)).toBe(0);
    expect(await orderRow(order.id)).toMatchObject({ creditsRevoked: 8, creditsUnrecoverable: 42 });
    expect((await eventRow(res.webhookId))?.outcome).toContain("42 refunded credits unrecoverable");
    // a later event for the same refund does not try again
    await send("order.refunded", { ...order, status: "refunded", refunded_amount: 2000 });
    expect(await orderRow(order.id)).toMatchObject({ creditsRevoked: 8, creditsUnrecoverable: 42 });
  });

  test("order.refunded before order.paid grants first, so the net is the same whichever arrives first", async () => {
    const { s, order } = await buyer();
    await send("order.refunded", { ...order, status: "partially_refunded", refunded_amount: 1000 });
    expect(await balanceOf(s.userId)).toBe(3 + 25);
    await send("order.paid", order);
    expect(await balanceOf(s.userId)).toBe(28);
    const rows = await t.db
      .select()
      .from(creditTransaction)
      .where(and(eq(creditTransaction.userId, s.userId), eq(creditTransaction.orderId, order.id)));
    expect(rows.map((r) => [r.type, r.amount])).toEqual([
      ["purchase", 50],
      ["purchase_refund", -25],
    ]);
  });
});

describe("orders of a guest that signs up", () => {
  test("the order moves with the guest; a later refund takes credits from the new account", async () => {
    const g = await t.signInAnonymous();
    const order = polarOrder({
      productId: "prod-pro",
      externalCustomerId: g.userId,
      metadata: { userId: g.userId, packageId: "pro" },
    });
    expect((await send("order.paid", order)).status).toBe(202);
    expect(await balanceOf(g.userId)).toBe(51);
    const { userId } = await t.signUp({ email: "guest-buyer@example.com", name: "Buyer", headers: g.headers });
    expect(await balanceOf(userId)).toBe(51 + 3);
    expect(await orderRow(order.id)).toMatchObject({ userId });
    // Polar still knows the guest id; the stored order says whose credits they are now.
    await send("order.refunded", { ...order, status: "refunded", refunded_amount: 2000 });
    expect(await balanceOf(userId)).toBe(4);
    const refunds = (await ledgerOf(userId)).filter((r) => r.type === "purchase_refund");
    expect(refunds.map((r) => r.amount)).toEqual([-50]);
  });
});

describe("an order a guest paid for that arrives after the guest signed up", () => {
  test("order.paid finds the account the guest became and grants the credits there, once", async () => {
    const g = await t.signInAnonymous();
    const order = polarOrder({
      productId: "prod-pro",
      externalCustomerId: g.userId,
      metadata: { userId: g.userId, packageId: "pro" },
    });
    const { userId } = await t.signUp({ email: "late-order@example.com", name: "Late", headers: g.headers });
    expect(await balanceOf(userId)).toBe(1 + 3);
    const paid = await send("order.paid", order);
    expect(paid.status).toBe(202);
    expect((await eventRow(paid.webhookId))?.status).toBe("processed");
    expect(await balanceOf(userId)).toBe(4 + 50);
    expect(await orderRow(order.id)).toMatchObject({ userId, creditsGranted: 50 });
    expect((await send("order.paid", order)).status).toBe(202);
    expect(await balanceOf(userId)).toBe(54);
  });
});

describe("an order.paid racing the guest's sign-up", () => {
  test("the credits always end on the account the guest became, and the guest keeps nothing", async () => {
    for (let i = 0; i < 6; i++) {
      const g = await t.signInAnonymous();
      const order = polarOrder({
        productId: "prod-pro",
        externalCustomerId: g.userId,
        metadata: { userId: g.userId, packageId: "pro" },
      });
      const signUp = t.signUp({ email: `race-${i}-${g.userId.slice(0, 8)}@example.com`, headers: g.headers });
      const [linked, paid] = await Promise.all([signUp, send("order.paid", order)]);
      expect(paid.status).toBe(202);
      const userId = linked.userId;
      expect((await eventRow(paid.webhookId))?.status).toBe("processed");
      // guest credit (1) + signup (3) + the package (50), wherever the webhook landed in the link
      expect(await balanceOf(userId)).toBe(54);
      expect(await t.db.select().from(creditAccount).where(eq(creditAccount.userId, g.userId))).toEqual([]);
      expect(await orderRow(order.id)).toMatchObject({ userId });
    }
  });
});

describe("verification", () => {
  test("a tampered body, a wrong secret, a stale or future timestamp, missing headers: 403 and nothing stored", async () => {
    const { s, order } = await buyer();
    const before = await countEvents();
    const good = signWebhook(polarEvent("order.paid", order), WEBHOOK_SECRET);
    const tampered = { ...good, body: good.body.replace('"total_amount":2000', '"total_amount":2001') };
    expect(tampered.body).not.toBe(good.body);
    const wrongSecret = signWebhook(polarEvent("order.paid", order), "polar_whs_someone_else");
    const stale = signWebhook(polarEvent("order.paid", order), WEBHOOK_SECRET, {
      timestamp: new Date(Date.now() - 6 * 60 * 1000),
    });
    const future = signWebhook(polarEvent("order.paid", order), WEBHOOK_SECRET, {
      timestamp: new Date(Date.now() + 6 * 60 * 1000),
    });
    const otherId = { ...good, headers: { ...good.headers, "webhook-id": "msg_other" } };
    const { "webhook-signature": _drop, ...unsignedHeaders } = good.headers;
    const unsigned = { ...good, headers: unsignedHeaders };
    // Headers that could never verify: a timestamp that is not a number, an id or signature out of shape.
    const garbled = [
      { "webhook-timestamp": "abc" },
      { "webhook-id": "id with spaces" },
      { "webhook-signature": "v1,\u00e9" },
    ].map((h) => ({ ...good, headers: { ...good.headers, ...h } }));
    for (const d of [tampered, wrongSecret, stale, future, otherId, unsigned, ...garbled])
      expectError(await deliver(d as SignedDelivery), 403, "forbidden");
    expect(await countEvents()).toBe(before);
    expect(await balanceOf(s.userId)).toBe(3);
    // the untouched delivery still works
    expect((await deliver(good)).status).toBe(202);
    expect(await balanceOf(s.userId)).toBe(53);
  });

  test("the Standard Webhooks key form of a whsec_ secret is accepted too", async () => {
    const secret = `whsec_${Buffer.from("standard-webhooks-key-bytes-123").toString("base64")}`;
    const app = await createTestApp({ database: t.database, env: polarEnv(fake, { POLAR_WEBHOOK_SECRET: secret }) });
    // standardwebhooks used as-is: it strips whsec_ and base64-decodes the rest into the HMAC key.
    const body = JSON.stringify(polarEvent("checkout.created", { id: "c1" }));
    const now = new Date();
    const headers = {
      "content-type": "application/json",
      "webhook-id": "msg_std_key",
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign("msg_std_key", now, body),
    };
    expect((await deliver({ body, headers, webhookId: "msg_std_key" }, app)).status).toBe(202);
    await app.close();
  });

  test("a signed body that is not a JSON event is 400 and nothing is stored", async () => {
    const before = await countEvents();
    for (const body of ["this is not json", "[1,2,3]", '{"data":{}}', "null"]) {
      const d = signWebhook(undefined, WEBHOOK_SECRET, { body });
      expectError(await deliver(d), 400, "validation_error");
    }
    expect(await countEvents()).toBe(before);
  });

  test("signed event types the SDK does not know, and known ones we do not act on, are 202 and recorded", async () => {
    const u = await send("order.teleported", { id: "o1" });
    expect(u.status).toBe(202);
    expect(await eventRow(u.webhookId)).toMatchObject({ type: "order.teleported", status: "ignored" });
    const k = await send("subscription.created", { id: "sub_1" });
    expect(k.status).toBe(202);
    expect(await eventRow(k.webhookId)).toMatchObject({ type: "subscription.created", status: "ignored" });
  });

  test("without POLAR_WEBHOOK_SECRET it is 503 and nothing is stored", async () => {
    const app = await createTestApp({
      database: t.database,
      env: { ...polarEnv(fake), POLAR_WEBHOOK_SECRET: "" },
    });
    const before = await countEvents();
    const { order } = await buyer();
    expectError(
      await deliver(signWebhook(polarEvent("order.paid", order), WEBHOOK_SECRET), app),
      503,
      "service_unavailable",
    );
    const good = signWebhook(polarEvent("order.paid", order), WEBHOOK_SECRET);
    const garbled = { ...good, headers: { ...good.headers, "webhook-timestamp": "abc" } };
    expectError(await deliver(garbled, app), 503, "service_unavailable");
    expect(await countEvents()).toBe(before);
    await app.close();
  });
});
