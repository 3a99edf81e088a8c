import { and, eq, type SQL, sql } from "drizzle-orm";
import type { Executor, Tx } from "../db";
import { prepared } from "../db/prepared";
import { creditAccount, creditTransaction } from "../db/schema";
import type { CreditTransactionRow } from "../db/schemas/credits";
import type { JobSubject, JobType } from "../domain/jobs";
import { ApiError } from "../lib/errors";

/**
 * The credits ledger. This module is the only writer of credit_account and credit_transaction:
 * every movement updates the balance and appends one ledger row in the same transaction, so
 * balance = sum(ledger) always holds, and the CHECK constraint keeps balance >= 0. A paid job (a
 * prediction, an asset) is charged with `charge` and refunded with `refundOnce`; unique indexes per
 * (row type, subject) make each happen at most once, whoever calls.
 */

export type CreditTransactionType = (typeof creditTransaction.$inferSelect)["type"];
export type { CreditTransactionRow };

export interface CreditChange {
  userId: string;
  type: CreditTransactionType;
  /** signed; never 0 */
  amount: number;
  predictionId?: string | null;
  assetId?: string | null;
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

export type TotalKey = "totalPurchased" | "totalSpent" | "totalRefunded" | "totalAdjusted";

/**
 * Which lifetime total of credit_account each ledger row type moves, and with which sign: every counter
 * equals sign × sum(amount) over the user's rows of these types (test/helpers/db.ts ledgerViolations checks
 * it; drizzle/0006 back-filled it with the same definitions). signup_bonus and transfer move no total.
 */
export const CREDIT_TOTALS: Partial<Record<CreditTransactionType, { key: TotalKey; sign: 1 | -1 }>> = {
  purchase: { key: "totalPurchased", sign: 1 },
  purchase_refund: { key: "totalPurchased", sign: 1 },
  generation: { key: "totalSpent", sign: -1 },
  asset: { key: "totalSpent", sign: -1 },
  refund: { key: "totalRefunded", sign: 1 },
  asset_refund: { key: "totalRefunded", sign: 1 },
  admin_adjustment: { key: "totalAdjusted", sign: 1 },
};

export const TOTAL_KEYS: readonly TotalKey[] = ["totalPurchased", "totalSpent", "totalRefunded", "totalAdjusted"];

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
      assetId: change.assetId ?? null,
      orderId: change.orderId ?? null,
      reason: change.reason ?? null,
      actorId: change.actorId ?? null,
    })
    .returning();
  if (!transaction) throw new Error("ledger insert returned nothing");
  return { transaction, balance };
}

/** Postgres unique_violation (23505), as thrown by pg or PGlite, possibly wrapped by Drizzle. */
/**
 * Moves a guest's ledger to the account it linked to (in the caller's transaction, the guest's balance row locked
 * by it): its balance as a pair of `transfer` rows (guest −n, account +n), its rows with their history (its welcome
 * credits kept as a `transfer`: the account has, or will get, its own signup_bonus and one is allowed per user),
 * its lifetime totals added to the account's, and its balance row removed. Returns the credits moved.
 */
export async function moveLedger(tx: Tx, guestId: string, userId: string): Promise<number> {
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
  await tx
    .update(creditTransaction)
    .set({ type: "transfer", reason: sql`'Guest welcome credits: ' || coalesce(${creditTransaction.reason}, '')` })
    .where(and(eq(creditTransaction.userId, guestId), eq(creditTransaction.type, "signup_bonus")));
  await tx.update(creditTransaction).set({ userId }).where(eq(creditTransaction.userId, guestId));
  // The guest's rows now count in the account's totals (the transfer pair itself moves none).
  if (guest && TOTAL_KEYS.some((k) => guest[k] !== 0)) {
    const add = Object.fromEntries(TOTAL_KEYS.map((k) => [k, sql`${creditAccount[k]} + ${guest[k]}`]));
    await tx
      .insert(creditAccount)
      .values({ userId, balance: 0, ...Object.fromEntries(TOTAL_KEYS.map((k) => [k, guest[k]])) })
      .onConflictDoUpdate({ target: creditAccount.userId, set: { ...add, updatedAt: sql`now()` } });
  }
  await tx.delete(creditAccount).where(eq(creditAccount.userId, guestId));
  return moved;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const x = e as { code?: string; constraint?: string };
    if (x.code === "23505" && (!constraint || x.constraint === constraint)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- paid jobs

/** The ledger row types of a job kind's charge and refund, and the column that names the job. */
const JOB_LEDGER = {
  prediction: { charge: "generation", refund: "refund", column: "predictionId" },
  asset: { charge: "asset", refund: "asset_refund", column: "assetId" },
} as const satisfies Record<
  JobType,
  { charge: CreditTransactionType; refund: CreditTransactionType; column: "predictionId" | "assetId" }
>;

export interface JobMovement {
  userId: string;
  subject: JobSubject;
  /** credits, positive */
  amount: number;
  reason: string;
}

/** Charges a job inside `tx` (InsufficientCreditsError, nothing changed, when the balance is short). */
export function charge(tx: Tx, m: JobMovement) {
  const kind = JOB_LEDGER[m.subject.type];
  return applyCreditChange(tx, {
    userId: m.userId,
    type: kind.charge,
    amount: -m.amount,
    [kind.column]: m.subject.id,
    reason: m.reason,
  });
}

/**
 * Returns a job's credits inside `tx`. The caller is the one winner of a job's guarded final transition; the
 * unique index on (refund type, subject) turns any second refund into an error that rolls its transaction back.
 */
export function refundOnce(tx: Tx, m: JobMovement) {
  const kind = JOB_LEDGER[m.subject.type];
  return applyCreditChange(tx, {
    userId: m.userId,
    type: kind.refund,
    amount: m.amount,
    [kind.column]: m.subject.id,
    reason: m.reason,
  });
}

/**
 * A new job and its charge as ONE statement (one round trip, one commit): the guarded debit of the account (its
 * row lock queues concurrent debits, and `balance >= price` is checked again after the wait, so nothing
 * overspends), the job's row (`insertJob`, which selects from the `debit` CTE so it exists only if the debit
 * happened), and its ledger row with the balance after. A statement is atomic: all three happen or none.
 * Prepared once per database under `name`; `execute` binds `userId`, `price`, `reason` and the job's own
 * placeholders, and answers the new job's id, or nothing when nothing was charged (the caller then finds out why
 * in a transaction with `charge`).
 */
export function preparedChargeWithJob(
  db: Executor,
  name: string,
  type: JobType,
  insertJob: (placeholder: (key: string) => SQL) => SQL,
) {
  return prepared(db, name, (d, statementName) => {
    const col = (c: { name: string }) => sql.identifier(c.name);
    const p = (key: string) => sql.placeholder(key) as unknown as SQL;
    const kind = JOB_LEDGER[type];
    const total = CREDIT_TOTALS[kind.charge];
    if (!total) throw new Error(`no lifetime total for ${kind.charge}`);
    const debit = d.$with("debit", { balance: creditAccount.balance }).as(sql`
      update ${creditAccount}
         set ${col(creditAccount.balance)} = ${col(creditAccount.balance)} - ${p("price")}::int,
             ${col(creditAccount[total.key])} = ${col(creditAccount[total.key])} + ${p("price")}::int,
             ${col(creditAccount.updatedAt)} = now()
       where ${col(creditAccount.userId)} = ${p("userId")}::uuid and ${col(creditAccount.balance)} >= ${p("price")}::int
      returning ${col(creditAccount.balance)}`);
    const inserted = d.$with("inserted", { id: sql<string>`id`.as("id") }).as(insertJob(p));
    const ledger = d.$with("ledger", { ledgerId: sql<string>`ledger_id`.as("ledger_id") }).as(sql`
      insert into ${creditTransaction} (${col(creditTransaction.userId)}, ${col(creditTransaction.type)},
                  ${col(creditTransaction.amount)}, ${col(creditTransaction.balanceAfter)},
                  ${col(creditTransaction[kind.column])}, ${col(creditTransaction.reason)})
      select ${p("userId")}::uuid, ${kind.charge}, -${p("price")}::int, debit.${col(creditAccount.balance)}, inserted.id,
             ${p("reason")}::text
        from debit, inserted
      returning ${col(creditTransaction.id)} as ledger_id`);
    // Data-modifying CTEs run whether or not they are read; the join only makes the answer say so.
    return d
      .with(debit, inserted, ledger)
      .select({ id: inserted.id })
      .from(inserted)
      .innerJoin(ledger, sql`true`)
      .prepare(statementName);
  });
}
