import { afterAll, beforeAll, expect, test } from "bun:test";
import { and, eq, isNotNull } from "drizzle-orm";
import { outgoingWebhook, webhookDelivery } from "../../src/db/schema";
import { enqueueWebhook } from "../../src/services/webhooks/outbox";
import { createWebhookSenderLifecycle, SENDER_POLL_MS } from "../../src/services/webhooks/sender";
import { startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver";
import { createTestApp, type TestApp } from "../helpers/app";
import { eventually, FakeClock } from "../helpers/clock";

/**
 * One user's receiver that never answers must not slow another user's deliveries: each delivery has its own slot,
 * a user and a host have a bounded share of the sender, and a host that keeps timing out is left alone for a while.
 * Time in the sender runs on a fake clock; only the receivers' silence is real (WEBHOOK_TIMEOUT_MS).
 */

let t: TestApp;
let hostile: WebhookReceiver;
let innocent: WebhookReceiver;
const clock = new FakeClock();
const TIMEOUT_MS = 3000;

beforeAll(async () => {
  hostile = await startWebhookReceiver();
  hostile.setDefault("hang");
  innocent = await startWebhookReceiver();
  t = await createTestApp({
    env: {
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_MAX_PER_USER: "4",
      WEBHOOK_MAX_PER_HOST: "4",
      WEBHOOK_HOST_TIMEOUTS: "3",
      WEBHOOK_HOST_BACKOFF_MS: "60000",
    },
    overrides: { clock },
  });
});
afterAll(async () => {
  await t.close();
  await hostile.close();
  await innocent.close();
});

/**
 * Waits until `check` holds, waking the sender's poll (a tick of the fake clock) while it sleeps, at most `wakes`
 * times. One advance is not enough: the sender may be between a claim that ran before the test's change and the sleep
 * that follows it, and that sleep would then start after the advance and never end (CI saw this once).
 */
async function withPolls(check: () => boolean, wakes: number) {
  let woken = 0;
  await eventually(() => {
    if (check()) return true;
    if (woken < wakes && clock.waiting > 0) {
      woken++;
      clock.advance(SENDER_POLL_MS);
    }
    return false;
  }, TIMEOUT_MS);
}

/** Queues the `completed` event of a job of `userId` toward `url`, as a job's finish does. */
async function queueEvent(userId: string, url: string) {
  const id = crypto.randomUUID();
  await t.db.transaction((tx) =>
    enqueueWebhook(
      tx,
      "prediction",
      { id, userId, livemode: true, webhook: url, webhookEvents: ["completed"] },
      "completed",
      () => ({ id }),
      clock.now(),
    ),
  );
  return id;
}

test("a never-answering receiver of one user does not delay another user's delivery; its host is backed off", async () => {
  const a = await t.signUp();
  const b = await t.signUp();
  // The hostile user's 20 events were due first; the innocent one's comes after all of them.
  for (let i = 0; i < 20; i++) await queueEvent(a.userId, hostile.url);
  clock.advance(1);
  const theirs = await queueEvent(b.userId, innocent.url);

  const sender = createWebhookSenderLifecycle(t.deps);
  const started = performance.now();
  sender.start();
  try {
    await eventually(() => innocent.receiptsFor(theirs).length === 1, TIMEOUT_MS);
    // Well before any hanging attempt could have ended.
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS / 2);
    // The hostile user holds at most its share of slots.
    expect(hostile.receipts.length).toBeLessThanOrEqual(4);

    // Its attempts time out; after three timeouts in a row its host is left alone (the clock has not moved). A slot
    // freed by an earlier timeout may have taken one more of its attempts before the third: wait until every
    // attempt that reached it has ended, then nothing more may reach it.
    const ended = async () =>
      (
        await t.db
          .select({ id: webhookDelivery.id })
          .from(webhookDelivery)
          .innerJoin(outgoingWebhook, eq(outgoingWebhook.id, webhookDelivery.webhookRowId))
          .where(and(eq(outgoingWebhook.userId, a.userId), isNotNull(webhookDelivery.completedAt)))
      ).length;
    await eventually(async () => (await ended()) >= 3, 4 * TIMEOUT_MS);
    // Attempts claimed just before the third timeout connect just after it: let them reach the receiver (a
    // real moment, no clock involved), then wait until each that did has timed out too.
    await new Promise((r) => setTimeout(r, 300));
    await eventually(async () => (await ended()) === hostile.receipts.length, 2 * TIMEOUT_MS);
    const sent = hostile.receipts.length;
    // Another user's new event still goes at once.
    const next = await queueEvent(b.userId, innocent.url);
    // A few polls of fake time, far inside the host's 60 s backoff.
    await withPolls(() => innocent.receiptsFor(next).length === 1, 5);
    expect(hostile.receipts.length).toBe(sent);
    // Once the host's backoff has passed, its due attempts go again.
    clock.advance(60_000);
    await withPolls(() => hostile.receipts.length > sent, 5);
  } finally {
    await sender.stop();
  }
}, 30_000);
