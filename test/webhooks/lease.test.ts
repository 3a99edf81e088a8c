import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { outgoingWebhook, webhookDelivery } from "../../src/db/schema";
import { enqueueWebhook } from "../../src/services/webhooks/outbox";
import { deliverDueWebhooks, webhookLeaseMs } from "../../src/services/webhooks/sender";
import { startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver";
import { createTestApp, type TestApp } from "../helpers/app";
import { eventually, FakeClock } from "../helpers/clock";

/**
 * A claimed attempt whose holder never finishes (an instance killed mid-send) goes again once its lease has passed:
 * the send's timeout and the two database steps around it, not a minute more. The lease runs on the fake clock; the
 * receiver's silence is real (WEBHOOK_TIMEOUT_MS).
 */

let t: TestApp;
let silent: WebhookReceiver;
const clock = new FakeClock();
const TIMEOUT_MS = 1500;
const DB_TIMEOUT_MS = 2000;

beforeAll(async () => {
  silent = await startWebhookReceiver();
  silent.setDefault("hang");
  t = await createTestApp({
    env: { WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS), DATABASE_CONNECT_TIMEOUT_MS: String(DB_TIMEOUT_MS) },
    overrides: { clock },
  });
});
afterAll(async () => {
  await t.close();
  await silent.close();
});

test("an attempt held by a sender that never finishes is sent again when its lease has passed, not before", async () => {
  const lease = webhookLeaseMs(t.deps.config);
  expect(lease).toBe(TIMEOUT_MS + 2 * DB_TIMEOUT_MS);
  const a = await t.signUp();
  const id = crypto.randomUUID();
  await t.db.transaction((tx) =>
    enqueueWebhook(
      tx,
      "prediction",
      { id, userId: a.userId, livemode: true, webhook: silent.url, webhookEvents: ["completed"] },
      "completed",
      () => ({ id }),
      clock.now(),
    ),
  );
  const [row] = await t.db
    .select({ id: outgoingWebhook.id })
    .from(outgoingWebhook)
    .where(eq(outgoingWebhook.jobId, id));
  const attempt = async () =>
    (
      await t.db
        .select()
        .from(webhookDelivery)
        .where(eq(webhookDelivery.webhookRowId, row?.id ?? ""))
    )[0];

  // The first sender claims the attempt and its send hangs (the receiver never answers).
  const claimedAt = clock.now().getTime();
  const first = deliverDueWebhooks(t.deps);
  await eventually(async () => (await attempt())?.claimId != null, 2000);
  expect((await attempt())?.claimedUntil?.getTime()).toBe(claimedAt + lease);
  await eventually(() => silent.receipts.length === 1, 2000);

  // Another sender, one millisecond before the lease ends: nothing to take.
  clock.advance(lease - 1);
  expect(await deliverDueWebhooks(t.deps)).toBe(0);
  // At its end the attempt goes again, as the same attempt under the same webhook-id.
  clock.advance(1);
  const second = deliverDueWebhooks(t.deps);
  await eventually(() => silent.receipts.length === 2, 2000);
  expect(silent.receipts[1]?.headers["webhook-id"]).toBe(silent.receipts[0]?.headers["webhook-id"] as string);
  await Promise.all([first, second]);
  // The first holder's outcome is not recorded over the second's: one attempt row, recorded once.
  const rows = await t.db
    .select()
    .from(webhookDelivery)
    .where(eq(webhookDelivery.webhookRowId, row?.id ?? ""));
  expect(rows.filter((r) => r.attempt === 1)).toHaveLength(1);
}, 30_000);
