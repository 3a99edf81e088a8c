import { and, eq, sql } from "drizzle-orm";
import type { Tx } from "../../db";
import { creditAccount, polarOrder } from "../../db/schema";
import { applyCreditChange } from "../ledger";

/** Polar orders on the ledger: a paid order's credits granted once, its refunds taken back once. */

/** What a paid Polar order is worth here, resolved from its webhook payload. */
export interface PaidPolarOrder {
  orderId: string;
  userId: string;
  packageId: string;
  packageName: string;
  productId: string | null;
  credits: number;
  totalAmount: number;
  refundedAmount: number;
  currency: string;
  status: string;
}

export interface OrderSettlement {
  /** credits added by this call (0 when the order had already been granted) */
  granted: number;
  /** credits taken back by this call */
  revoked: number;
  /** refunded credits this call could not take back because the balance was too low */
  unrecoverable: number;
  alreadyGranted: boolean;
  userId: string;
}

/** floor(refunded / total × granted), the share of an order's credits its refunds take back. */
export function refundedShare(granted: number, totalAmount: number, refundedAmount: number): number {
  if (totalAmount <= 0 || refundedAmount <= 0 || granted <= 0) return 0;
  return Math.floor((Math.min(refundedAmount, totalAmount) * granted) / totalAmount);
}

/**
 * Brings one Polar order to the state its latest event describes, inside `tx`: the package's
 * credits are granted once per order (the polar_order primary key and the purchase ledger index
 * both enforce it), then the refunded share is taken back, minus what earlier refunds already
 * took, never below a zero balance (the rest is recorded as unrecoverable). Older snapshots never
 * give credits back, so events may arrive in any order or twice.
 */
export async function settlePolarOrder(tx: Tx, order: PaidPolarOrder): Promise<OrderSettlement> {
  const inserted = await tx
    .insert(polarOrder)
    .values({
      orderId: order.orderId,
      userId: order.userId,
      packageId: order.packageId,
      productId: order.productId,
      creditsGranted: order.credits,
      totalAmount: order.totalAmount,
      refundedAmount: 0,
      currency: order.currency,
      status: order.status,
    })
    .onConflictDoNothing({ target: polarOrder.orderId })
    .returning({ orderId: polarOrder.orderId });
  let granted = 0;
  if (inserted.length > 0) {
    await applyCreditChange(tx, {
      userId: order.userId,
      type: "purchase",
      amount: order.credits,
      orderId: order.orderId,
      reason: `Polar order ${order.orderId}: ${order.packageName}`,
    });
    granted = order.credits;
  }
  // The row lock serializes every event of one order; the stored row (not the payload) says whose credits they are.
  const [stored] = await tx.select().from(polarOrder).where(eq(polarOrder.orderId, order.orderId)).for("update");
  if (!stored) throw new Error(`polar_order ${order.orderId} vanished`);
  const target = refundedShare(stored.creditsGranted, stored.totalAmount, order.refundedAmount);
  const due = target - stored.creditsRevoked - stored.creditsUnrecoverable;
  let revoked = 0;
  let unrecoverable = 0;
  if (due > 0) {
    const [acct] = await tx
      .select({ balance: creditAccount.balance })
      .from(creditAccount)
      // Purchases are live credits: only the live balance gives them back.
      .where(and(eq(creditAccount.userId, stored.userId), eq(creditAccount.livemode, true)))
      .for("update");
    revoked = Math.min(due, acct?.balance ?? 0);
    unrecoverable = due - revoked;
    if (revoked > 0)
      await applyCreditChange(tx, {
        userId: stored.userId,
        type: "purchase_refund",
        amount: -revoked,
        orderId: order.orderId,
        reason: `Refund of Polar order ${order.orderId}`,
      });
  }
  await tx
    .update(polarOrder)
    .set({
      creditsRevoked: stored.creditsRevoked + revoked,
      creditsUnrecoverable: stored.creditsUnrecoverable + unrecoverable,
      refundedAmount: Math.max(stored.refundedAmount, Math.min(order.refundedAmount, stored.totalAmount)),
      status: order.refundedAmount >= stored.refundedAmount ? order.status : stored.status,
      updatedAt: sql`now()`,
    })
    .where(eq(polarOrder.orderId, order.orderId));
  return { granted, revoked, unrecoverable, alreadyGranted: inserted.length === 0, userId: stored.userId };
}
