import { and, eq, sql } from "drizzle-orm";
import { type Database, type Executor, queryRows } from "../db";
import {
  asset,
  creditAccount,
  creditTransaction,
  guestLink,
  outgoingWebhook,
  polarOrder,
  prediction,
  user,
  webhookSecret,
} from "../db/schema";
import { applyCreditChange, TOTAL_KEYS } from "./ledger";

/** A guest that signs up or signs in: everything it owns moves to the account, nothing is lost. */

/**
 * Moves everything a guest owns to the account it linked to, in one transaction: the balance as a
 * pair of `transfer` rows (guest −n, user +n), then the guest's ledger rows, predictions, assets and orders, its
 * webhook events (queued or still to come) and — when the account has none yet — its signing secret, so events
 * of the guest's jobs are still delivered and verify with the secret the guest's receiver knows.
 * Afterwards the guest has no balance row, so Better Auth can delete it without cascading anything away.
 */
export async function transferGuestAccount(db: Database, guestId: string, userId: string): Promise<{ moved: number }> {
  if (guestId === userId) return { moved: 0 };
  return db.transaction(async (tx) => {
    // Same lock order as order settlement (user, polar_order, credit_account): a webhook for the guest's
    // order arriving during the link waits for it, then finds the guest_link row and pays the new account.
    await tx.select({ id: user.id }).from(user).where(eq(user.id, guestId)).for("update");
    await tx
      .select({ orderId: polarOrder.orderId })
      .from(polarOrder)
      .where(eq(polarOrder.userId, guestId))
      .for("update");
    // One account per mode (live, test): each moves to the user's account of the same mode, never across.
    const accounts = await tx.select().from(creditAccount).where(eq(creditAccount.userId, guestId)).for("update");
    let moved = 0;
    for (const guest of accounts) {
      const { livemode, balance } = guest;
      if (livemode) moved = balance;
      if (balance <= 0) continue;
      await applyCreditChange(tx, {
        userId: guestId,
        type: "transfer",
        amount: -balance,
        reason: `Moved to account ${userId}`,
        livemode,
      });
      await applyCreditChange(tx, {
        userId,
        type: "transfer",
        amount: balance,
        reason: `Moved from guest account ${guestId}`,
        livemode,
      });
    }
    // The guest's welcome credits stay in the history, but as a `transfer`: the user has (or will get) its own
    // signup_bonus row, and credit_transaction_signup_once allows one per user.
    await tx
      .update(creditTransaction)
      .set({ type: "transfer", reason: sql`'Guest welcome credits: ' || coalesce(${creditTransaction.reason}, '')` })
      .where(and(eq(creditTransaction.userId, guestId), eq(creditTransaction.type, "signup_bonus")));
    await tx.update(creditTransaction).set({ userId }).where(eq(creditTransaction.userId, guestId));
    // The guest's rows now count in the user's totals of their mode (the transfer pair itself moves none).
    for (const guest of accounts) {
      if (!TOTAL_KEYS.some((k) => guest[k] !== 0)) continue;
      const add = Object.fromEntries(TOTAL_KEYS.map((k) => [k, sql`${creditAccount[k]} + ${guest[k]}`]));
      await tx
        .insert(creditAccount)
        .values({
          userId,
          livemode: guest.livemode,
          balance: 0,
          ...Object.fromEntries(TOTAL_KEYS.map((k) => [k, guest[k]])),
        })
        .onConflictDoUpdate({
          target: [creditAccount.userId, creditAccount.livemode],
          set: { ...add, updatedAt: sql`now()` },
        });
    }
    await tx.update(prediction).set({ userId }).where(eq(prediction.userId, guestId));
    await tx.update(asset).set({ userId }).where(eq(asset.userId, guestId));
    await tx.update(polarOrder).set({ userId }).where(eq(polarOrder.userId, guestId));
    // After the jobs (whose rows this transaction now holds): an event written by a job that finished before
    // is moved here; one written after reads the new owner from its job. Left with the guest, an event could
    // never be signed (the guest's secret goes with the guest) and stayed pending for ever.
    await tx.update(outgoingWebhook).set({ userId }).where(eq(outgoingWebhook.userId, guestId));
    await tx.execute(
      sql`update ${webhookSecret} set user_id = ${userId} where user_id = ${guestId}
          and not exists (select 1 from ${webhookSecret} w where w.user_id = ${userId})`,
    );
    await tx.delete(creditAccount).where(eq(creditAccount.userId, guestId));
    await tx.insert(guestLink).values({ guestId, userId }).onConflictDoNothing();
    return { moved };
  });
}

/**
 * Whether the user has anything money-related that deleting it would strand or erase: a credit account,
 * ledger rows, predictions, assets or Polar orders (all kept by RESTRICT foreign keys, by design).
 */
export async function hasAccountHistory(db: Executor, userId: string): Promise<boolean> {
  const [row] = await queryRows<{ found: boolean }>(
    db,
    sql`select exists (select 1 from ${creditAccount} where ${creditAccount.userId} = ${userId})
        or exists (select 1 from ${creditTransaction} where ${creditTransaction.userId} = ${userId})
        or exists (select 1 from ${prediction} where ${prediction.userId} = ${userId})
        or exists (select 1 from ${asset} where ${asset.userId} = ${userId})
        or exists (select 1 from ${polarOrder} where ${polarOrder.userId} = ${userId}) as found`,
  );
  return Boolean(row?.found);
}
