import { and, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { type Database, type Executor, queryRows, type Tx } from "../db";
import { prepared } from "../db/prepared";
import { creditAccount, creditTransaction, guestLink, polarOrder, prediction, user } from "../db/schema";
import { type CreditTransactionRow, type CreditTransactionView, creditTransactionView } from "../db/schemas/credits";
import { ApiError, conflict, notFound } from "../lib/errors";
import { type Cursor, cursorParams, keysetAfterPlaceholders, keysetOrder, page } from "../lib/pagination";

/**
 * The credits ledger. This module is the only writer of credit_account and credit_transaction:
 * every movement updates the balance and appends one ledger row in the same transaction, so
 * balance = sum(ledger) always holds, and the CHECK constraint keeps balance >= 0.
 */

export type CreditTransactionType = (typeof creditTransaction.$inferSelect)["type"];
export type { CreditTransactionRow };

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

type TotalKey = "totalPurchased" | "totalSpent" | "totalRefunded" | "totalAdjusted";

/**
 * Which lifetime total of credit_account each ledger row type moves, and with which sign: every counter
 * equals sign × sum(amount) over the user's rows of these types (test/helpers/db.ts ledgerViolations checks
 * it; drizzle/0006 back-filled it with the same definitions). signup_bonus and transfer move no total.
 */
export const CREDIT_TOTALS: Partial<Record<CreditTransactionType, { key: TotalKey; sign: 1 | -1 }>> = {
  purchase: { key: "totalPurchased", sign: 1 },
  purchase_refund: { key: "totalPurchased", sign: 1 },
  generation: { key: "totalSpent", sign: -1 },
  refund: { key: "totalRefunded", sign: 1 },
  admin_adjustment: { key: "totalAdjusted", sign: 1 },
};

const TOTAL_KEYS: readonly TotalKey[] = ["totalPurchased", "totalSpent", "totalRefunded", "totalAdjusted"];

function totalsChange(change: CreditChange): Partial<Record<TotalKey, SQL>> {
  const total = CREDIT_TOTALS[change.type];
  if (!total) return {};
  return { [total.key]: sql`${creditAccount[total.key]} + ${total.sign * change.amount}` };
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
  const totals = totalsChange(change);
  let updated = await tx
    .update(creditAccount)
    .set({ balance: sql`${creditAccount.balance} + ${change.amount}`, ...totals, updatedAt: sql`now()` })
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
    const total = CREDIT_TOTALS[change.type];
    updated = await tx
      .insert(creditAccount)
      .values({
        userId: change.userId,
        balance: change.amount,
        ...(total ? { [total.key]: total.sign * change.amount } : {}),
      })
      .onConflictDoUpdate({
        target: creditAccount.userId,
        set: { balance: sql`${creditAccount.balance} + ${change.amount}`, ...totals, updatedAt: sql`now()` },
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
    // Same lock order as order settlement (user, polar_order, credit_account): a webhook for the guest's
    // order arriving during the link waits for it, then finds the guest_link row and pays the new account.
    await tx.select({ id: user.id }).from(user).where(eq(user.id, guestId)).for("update");
    await tx
      .select({ orderId: polarOrder.orderId })
      .from(polarOrder)
      .where(eq(polarOrder.userId, guestId))
      .for("update");
    const [guest] = await tx.select().from(creditAccount).where(eq(creditAccount.userId, guestId)).for("update");
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
    // The guest's welcome credits stay in the history, but as a `transfer`: the user has (or will get) its own
    // signup_bonus row, and credit_transaction_signup_once allows one per user.
    await tx
      .update(creditTransaction)
      .set({ type: "transfer", reason: sql`'Guest welcome credits: ' || coalesce(${creditTransaction.reason}, '')` })
      .where(and(eq(creditTransaction.userId, guestId), eq(creditTransaction.type, "signup_bonus")));
    await tx.update(creditTransaction).set({ userId }).where(eq(creditTransaction.userId, guestId));
    // The guest's rows now count in the user's totals (the transfer pair itself moves none).
    if (guest && TOTAL_KEYS.some((k) => guest[k] !== 0)) {
      const add = Object.fromEntries(TOTAL_KEYS.map((k) => [k, sql`${creditAccount[k]} + ${guest[k]}`]));
      await tx
        .insert(creditAccount)
        .values({ userId, balance: 0, ...Object.fromEntries(TOTAL_KEYS.map((k) => [k, guest[k]])) })
        .onConflictDoUpdate({ target: creditAccount.userId, set: { ...add, updatedAt: sql`now()` } });
    }
    await tx.update(prediction).set({ userId }).where(eq(prediction.userId, guestId));
    await tx.update(polarOrder).set({ userId }).where(eq(polarOrder.userId, guestId));
    await tx.delete(creditAccount).where(eq(creditAccount.userId, guestId));
    await tx.insert(guestLink).values({ guestId, userId }).onConflictDoNothing();
    return { moved };
  });
}

/** The balance and the lifetime totals a user sees: the counters of credit_account (see CREDIT_TOTALS). */
export interface CreditSummary {
  balance: number;
  /** credits bought, net of what purchase refunds took back */
  totalPurchased: number;
  /** credits charged for generations (positive) */
  totalSpent: number;
  /** credits returned for failed or canceled generations */
  totalRefunded: number;
  /** signed sum of admin adjustments */
  totalAdjusted: number;
}

const EMPTY_SUMMARY: CreditSummary = {
  balance: 0,
  totalPurchased: 0,
  totalSpent: 0,
  totalRefunded: 0,
  totalAdjusted: 0,
};

/** One row by primary key, as a named prepared statement (no SQL text rebuilt per request). */
export async function getCreditSummary(db: Executor, userId: string): Promise<CreditSummary> {
  const statement = prepared(db, "credit_summary", (d, name) =>
    d
      .select({
        balance: creditAccount.balance,
        totalPurchased: creditAccount.totalPurchased,
        totalSpent: creditAccount.totalSpent,
        totalRefunded: creditAccount.totalRefunded,
        totalAdjusted: creditAccount.totalAdjusted,
      })
      .from(creditAccount)
      .where(eq(creditAccount.userId, sql.placeholder("userId")))
      .prepare(name),
  );
  const [row] = await statement.execute({ userId });
  return row ?? EMPTY_SUMMARY;
}

/** One page of a user's ledger, newest first. */
export async function listCreditTransactions(
  db: Executor,
  userId: string,
  opts: { limit: number; cursor?: Cursor },
): Promise<{ data: CreditTransactionView[]; nextCursor: string | null }> {
  const name = opts.cursor ? "credit_transactions_after" : "credit_transactions_first";
  const statement = prepared(db, name, (d) =>
    d
      // Only what the page shows: every column read is decoded on every row.
      .select(creditTransactionView)
      .from(creditTransaction)
      .where(
        and(
          eq(creditTransaction.userId, sql.placeholder("userId")),
          opts.cursor ? keysetAfterPlaceholders(creditTransaction.createdAt, creditTransaction.id) : undefined,
        ),
      )
      .orderBy(...keysetOrder(creditTransaction.createdAt, creditTransaction.id))
      .limit(sql.placeholder("limit"))
      .prepare(name),
  );
  const rows = await statement.execute({
    userId,
    limit: opts.limit + 1,
    ...(opts.cursor ? cursorParams(opts.cursor) : {}),
  });
  return page(rows, opts.limit);
}

/**
 * An administrator adds or removes credits. Unknown user → 404; a removal that would take the
 * balance below zero → 409 and nothing changes.
 */
export async function adjustCreditsByAdmin(
  db: Database,
  input: { userId: string; amount: number; reason: string; actorId: string },
): Promise<{ transaction: CreditTransactionRow; balance: number }> {
  return db.transaction(async (tx) => {
    const [target] = await tx.select({ id: user.id }).from(user).where(eq(user.id, input.userId));
    if (!target) throw notFound("User");
    try {
      return await applyCreditChange(tx, {
        userId: input.userId,
        type: "admin_adjustment",
        amount: input.amount,
        reason: input.reason,
        actorId: input.actorId,
      });
    } catch (err) {
      if (err instanceof InsufficientCreditsError)
        throw conflict(
          `Removing ${err.required} credit${err.required === 1 ? "" : "s"} would take the balance below zero; it is ${err.balance}.`,
          { required: err.required, balance: err.balance },
        );
      throw err;
    }
  });
}

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
      .where(eq(creditAccount.userId, stored.userId))
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

/** Ledger flows between `from` (inclusive) and `to` (exclusive). */
export async function creditFlowTotals(db: Executor, range: { from: Date; to: Date }) {
  const sumOf = (types: string) =>
    sql<number>`coalesce(sum(${creditTransaction.amount}) filter (where ${creditTransaction.type}::text in (${sql.raw(types)})), 0)::int`;
  const [flows] = await db
    .select({
      purchased: sumOf("'purchase'"),
      purchaseRefunded: sumOf("'purchase_refund'"),
      spent: sumOf("'generation'"),
      refunded: sumOf("'refund'"),
      adjusted: sumOf("'admin_adjustment'"),
      bonus: sumOf("'signup_bonus'"),
    })
    .from(creditTransaction)
    .where(and(gte(creditTransaction.createdAt, range.from), lt(creditTransaction.createdAt, range.to)));
  return {
    purchased: Number(flows?.purchased ?? 0),
    purchaseRefunded: -Number(flows?.purchaseRefunded ?? 0),
    spent: -Number(flows?.spent ?? 0),
    refunded: Number(flows?.refunded ?? 0),
    adjusted: Number(flows?.adjusted ?? 0),
    bonus: Number(flows?.bonus ?? 0),
  };
}

/** Credits held by all users now (the sum of every balance). */
export async function creditsOutstanding(db: Executor): Promise<number> {
  const [row] = await db
    .select({ total: sql<number>`coalesce(sum(${creditAccount.balance}), 0)::bigint` })
    .from(creditAccount);
  return Number(row?.total ?? 0);
}

/**
 * Whether the user has anything money-related that deleting it would strand or erase: a credit account,
 * ledger rows, predictions or Polar orders (all kept by RESTRICT foreign keys, by design).
 */
export async function hasAccountHistory(db: Executor, userId: string): Promise<boolean> {
  const [row] = await queryRows<{ found: boolean }>(
    db,
    sql`select exists (select 1 from ${creditAccount} where ${creditAccount.userId} = ${userId})
        or exists (select 1 from ${creditTransaction} where ${creditTransaction.userId} = ${userId})
        or exists (select 1 from ${prediction} where ${prediction.userId} = ${userId})
        or exists (select 1 from ${polarOrder} where ${polarOrder.userId} = ${userId}) as found`,
  );
  return Boolean(row?.found);
}
