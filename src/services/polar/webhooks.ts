import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Database, Tx } from "../../db";
import { guestLink, polarOrder, user, webhookEvent } from "../../db/schema";
import type { Config } from "../../env";
import type { Clock } from "../../lib/clock";
import type { Logger } from "../../lib/logger";
import { isUuid } from "../../lib/validation";
import { findPackage } from "./client";
import { type OrderSettlement, settlePolarOrder } from "./settlement";

/**
 * Processing of verified Polar webhook events: every event is recorded by its webhook-id; order.paid grants
 * and order.refunded takes back credits, once per order. The signature is verified by the route, on the raw body.
 */

/** The parts of Polar's Order (webhook `data`) that we act on; everything else is kept in the stored payload. */
const orderSchema = z.object({
  id: z.string().min(1).max(200),
  status: z.string().max(50).default("paid"),
  total_amount: z.number().int().min(0),
  refunded_amount: z.number().int().min(0).nullish(),
  currency: z.string().min(1).max(10),
  product_id: z.string().max(200).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  customer: z.object({ external_id: z.string().nullish() }).nullish(),
});

export type WebhookEventStatus = "processed" | "ignored" | "failed";

export interface WebhookResult {
  /** false when this webhook-id was already recorded (a redelivery): nothing was done */
  recorded: boolean;
  status: WebhookEventStatus | "duplicate";
  outcome: string;
}

export interface VerifiedEvent {
  webhookId: string;
  type: string;
  payload: unknown;
  /** false for a signed event type the SDK does not know (PolarWebhookUnknownTypeError) */
  knownType: boolean;
}

/**
 * Records a verified event by its webhook-id and processes it in the same transaction, so an
 * event is either stored with its outcome or not at all (a crash makes Polar retry). A
 * redelivered webhook-id changes nothing. Orders that cannot be matched to a user or package are
 * recorded as `failed` with the reason, and still acknowledged: retrying would not fix them.
 */
export async function processPolarEvent(
  deps: { db: Database; config: Config; logger: Logger; clock: Clock },
  event: VerifiedEvent,
): Promise<WebhookResult> {
  const { db, config, logger, clock } = deps;
  const result = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhookEvent)
      .values({
        source: "polar",
        webhookId: event.webhookId,
        type: event.type.slice(0, 200),
        payload: (event.payload ?? {}) as object,
        status: "received",
      })
      .onConflictDoNothing({ target: webhookEvent.webhookId })
      .returning({ id: webhookEvent.id });
    if (!row) return { recorded: false, status: "duplicate", outcome: "webhook-id already processed" } as const;
    const { status, outcome } = await handleEvent(tx, config, event);
    await tx.update(webhookEvent).set({ status, outcome, processedAt: clock.now() }).where(eq(webhookEvent.id, row.id));
    return { recorded: true, status, outcome };
  });
  const log = { webhookId: event.webhookId, type: event.type, status: result.status, outcome: result.outcome };
  if (result.status === "failed") logger.warn(log, "polar webhook could not be applied");
  else logger.info(log, "polar webhook");
  return result;
}

async function handleEvent(
  tx: Tx,
  config: Config,
  event: VerifiedEvent,
): Promise<{ status: WebhookEventStatus; outcome: string }> {
  if (!event.knownType) return { status: "ignored", outcome: `event type ${event.type} is not known to the SDK` };
  if (event.type !== "order.paid" && event.type !== "order.refunded")
    return { status: "ignored", outcome: `no action for ${event.type}` };

  const parsed = orderSchema.safeParse((event.payload as { data?: unknown } | null)?.data);
  if (!parsed.success)
    return {
      status: "failed",
      outcome: `malformed order: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    };
  const order = parsed.data;
  const settle = async (target: { userId: string; packageId: string; packageName: string; credits: number }) => {
    const s = await settlePolarOrder(tx, {
      orderId: order.id,
      ...target,
      productId: order.product_id ?? null,
      totalAmount: order.total_amount,
      refundedAmount: order.refunded_amount ?? 0,
      currency: order.currency.toLowerCase(),
      status: order.status,
    });
    return { status: "processed" as const, outcome: describeSettlement(order.id, s) };
  };

  // An order granted before is settled against what was stored then: its owner may since have moved
  // (a guest that signed up is deleted, while Polar still knows the guest's id).
  const [known] = await tx
    .select({ userId: polarOrder.userId, packageId: polarOrder.packageId, credits: polarOrder.creditsGranted })
    .from(polarOrder)
    .where(eq(polarOrder.orderId, order.id));
  if (known) return settle({ ...known, packageName: findPackage(config, known.packageId)?.name ?? known.packageId });

  const metadata = order.metadata ?? {};
  const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);

  // The user: the metadata we attached to this very checkout, else the Polar customer's external id
  // (a customer record outlives checkouts, and Polar may match one by email; the metadata cannot drift).
  const candidates = [metadata.userId, order.customer?.external_id].filter(isUuid);
  // FOR SHARE waits for a guest link in progress (it locks the guest's user row), so the link it
  // records is visible below and the credits follow the guest to its new account.
  const found = candidates.length
    ? await tx.select({ id: user.id }).from(user).where(inArray(user.id, candidates)).for("share")
    : [];
  let userId = candidates.find((c) => found.some((f) => f.id.toLowerCase() === c.toLowerCase()));
  const linkFrom = userId ? [userId] : candidates;
  if (linkFrom.length) {
    // Paid as a guest that has since signed up: its link says who it became (the guest row may be gone).
    const [linked] = await tx
      .select({ userId: guestLink.userId })
      .from(guestLink)
      .where(inArray(guestLink.guestId, linkFrom));
    if (linked) userId = linked.userId;
  }
  if (!userId) {
    const tried = [order.customer?.external_id, metadata.userId].filter((v) => v !== undefined && v !== null);
    return {
      status: "failed",
      outcome: `order ${order.id}: no user for customer.external_id / metadata.userId (${tried.map(String).join(", ") || "none given"})`,
    };
  }

  // The package: by the product paid for, else by the package id we attached to the checkout.
  const productId = order.product_id ?? null;
  const pkg =
    (productId ? config.CREDIT_PACKAGES.find((p) => p.polarProductId === productId) : undefined) ??
    (str(metadata.packageId) ? findPackage(config, str(metadata.packageId) as string) : undefined);
  if (!pkg)
    return {
      status: "failed",
      outcome: `order ${order.id}: no credit package for product ${productId ?? "(none)"} / metadata.packageId ${String(metadata.packageId ?? "(none)")}`,
    };

  return settle({ userId, packageId: pkg.id, packageName: pkg.name, credits: pkg.credits });
}

function describeSettlement(orderId: string, s: OrderSettlement): string {
  const parts = [
    s.granted > 0 ? `granted ${s.granted} credits to ${s.userId}` : "credits already granted",
    s.revoked > 0 ? `took back ${s.revoked} refunded credits` : undefined,
    s.unrecoverable > 0 ? `${s.unrecoverable} refunded credits unrecoverable (balance too low)` : undefined,
  ].filter(Boolean);
  return `order ${orderId}: ${parts.join("; ")}`;
}
