import { and, eq, sql } from "drizzle-orm";
import type { Database, Executor, Tx } from "../db";
import { creditAccount, creditTransaction, polarOrder, prediction } from "../db/schema";
import { ApiError } from "../lib/errors";

/**
 * The credits ledger. This module is the only writer of credit_account and credit_transaction:
 * every movement updates the balance and appends one ledger row in the same transaction, so
 * balance = sum(ledger) always holds, and the CHECK constraint keeps balance >= 0.
 */

export type CreditTransactionType = (typeof creditTransaction.$inferSelect)["type"];
export type CreditTransactionRow = typeof creditTransaction.$inferSelect;

export interface CreditChange {
  userId: string;
  type: CreditTransactionType;
  /** signed; never 0 */
  amount: number;
  predictionId?: string | null;
  orderId?: string | null;
  reason?: string | null;
  actorId?: string | null;
}

export class InsufficientCreditsError extends ApiError {
  constructor(
    readonly required: number,
    readonly balance: number,
  ) {
    super(
      "insufficient_credits",
      `This costs ${required} credit${required === 1 ? "" : "s"}; your balance is ${balance}.`,
      { required, balance },
    );
  }
}

/**
 * Apply one signed change inside `tx`. The conditional UPDATE takes the row lock, so concurrent
 * debits queue up and can never overspend. Throws InsufficientCreditsError (nothing changed) when a
 * negative change would take the balance below zero.
 */
export async function applyCreditChange(
  tx: Tx,
  change: CreditChange,
): Promise<{ transaction: CreditTransactionRow; balance: number }> {
  if (!Number.isInteger(change.amount) || change.amount === 0)
    throw new Error("credit change must be a non-zero integer");
  let updated = await tx
    .update(creditAccount)
    .set({ balance: sql`${creditAccount.balance} + ${change.amount}`, updatedAt: new Date() })
    .where(and(eq(creditAccount.userId, change.userId), sql`${creditAccount.balance} + ${change.amount} >= 0`))
    .returning({ balance: creditAccount.balance });
  if (updated.length === 0) {
    const [acct] = await tx
      .select({ balance: creditAccount.balance })
      .from(creditAccount)
      .where(eq(creditAccount.userId, change.userId))
      .for("update");
    if (acct) throw new InsufficientCreditsError(-change.amount, acct.balance);
    if (change.amount < 0) {
      // No account yet means a balance of 0; still create it so the next read is consistent.
      await tx.insert(creditAccount).values({ userId: change.userId, balance: 0 }).onConflictDoNothing();
      throw new InsufficientCreditsError(-change.amount, 0);
    }
    updated = await tx
      .insert(creditAccount)
      .values({ userId: change.userId, balance: change.amount })
      .onConflictDoUpdate({
        target: creditAccount.userId,
        set: { balance: sql`${creditAccount.balance} + ${change.amount}`, updatedAt: new Date() },
      })
      .returning({ balance: creditAccount.balance });
  }
  const balance = updated[0]?.balance ?? 0;
  const [transaction] = await tx
    .insert(creditTransaction)
    .values({
      userId: change.userId,
      type: change.type,
      amount: change.amount,
      balanceAfter: balance,
      predictionId: change.predictionId ?? null,
      orderId: change.orderId ?? null,
      reason: change.reason ?? null,
      actorId: change.actorId ?? null,
    })
    .returning();
  if (!transaction) throw new Error("ledger insert returned nothing");
  return { transaction, balance };
}

export async function getBalance(db: Executor, userId: string): Promise<number> {
  const [row] = await db
    .select({ balance: creditAccount.balance })
    .from(creditAccount)
    .where(eq(creditAccount.userId, userId));
  return row?.balance ?? 0;
}

/** Grants the one-time signup bonus; a second call for the same user is a no-op (unique index). */
export async function grantSignupBonus(db: Database, userId: string, amount: number): Promise<void> {
  if (amount <= 0) return;
  try {
    await db.transaction((tx) =>
      applyCreditChange(tx, { userId, type: "signup_bonus", amount, reason: "Welcome credits" }),
    );
  } catch (err) {
    if (isUniqueViolation(err)) return;
    throw err;
  }
}

/** Postgres unique_violation (23505), as thrown by pg or PGlite, possibly wrapped by Drizzle. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const x = e as { code?: string; constraint?: string };
    if (x.code === "23505" && (!constraint || x.constraint === constraint)) return true;
  }
  return false;
}

/**
 * Moves everything a guest owns to the account it linked to, in one transaction: the balance as a
 * pair of `transfer` rows (guest −n, user +n), then the guest's ledger rows, predictions and orders.
 * Afterwards the guest has no balance row, so Better Auth can delete it without cascading anything away.
 */
export async function transferGuestAccount(db: Database, guestId: string, userId: string): Promise<{ moved: number }> {
  if (guestId === userId) return { moved: 0 };
  return db.transaction(async (tx) => {
    const [guest] = await tx
      .select({ balance: creditAccount.balance })
      .from(creditAccount)
      .where(eq(creditAccount.userId, guestId))
      .for("update");
    const moved = guest?.balance ?? 0;
    if (moved > 0) {
      await applyCreditChange(tx, {
        userId: guestId,
        type: "transfer",
        amount: -moved,
        reason: `Moved to account ${userId}`,
      });
      await applyCreditChange(tx, {
        userId,
        type: "transfer",
        amount: moved,
        reason: `Moved from guest account ${guestId}`,
      });
    }
    await tx.update(creditTransaction).set({ userId }).where(eq(creditTransaction.userId, guestId));
    await tx.update(prediction).set({ userId }).where(eq(prediction.userId, guestId));
    await tx.update(polarOrder).set({ userId }).where(eq(polarOrder.userId, guestId));
    await tx.delete(creditAccount).where(eq(creditAccount.userId, guestId));
    return { moved };
  });
}
