import { and, eq, sql } from "drizzle-orm";
import type { Database, Executor } from "../db";
import { prepared } from "../db/prepared";
import { creditAccount, creditTransaction, user, welcomeCredit } from "../db/schema";
import { type CreditTransactionRow, type CreditTransactionView, creditTransactionView } from "../db/schemas/credits";
import { conflict, notFound } from "../lib/errors";
import { type Cursor, keysetAfterPlaceholders, keysetOrder, preparedPage } from "../lib/pagination";
import { applyCreditChange, InsufficientCreditsError, isUniqueViolation } from "./ledger";

/** What users and admins read and do with credits: the balance, the ledger page, welcome credits, adjustments. */

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
  /** the welcome credits the account got, and why it got none when its address's budget was spent */
  welcome: { granted: number; withheld: "address_budget" | null };
}

const EMPTY_SUMMARY: CreditSummary = {
  balance: 0,
  totalPurchased: 0,
  totalSpent: 0,
  totalRefunded: 0,
  totalAdjusted: 0,
  welcome: { granted: 0, withheld: null },
};

/**
 * The credit summary's query, placeholders `userId` and `livemode`: the account's counters of a mode and the
 * welcome record, by the user's primary key (scripts/bench/floor.ts runs its SQL text too).
 */
export function creditSummaryQuery(db: Pick<Executor, "select">) {
  return db
    .select({
      balance: creditAccount.balance,
      totalPurchased: creditAccount.totalPurchased,
      totalSpent: creditAccount.totalSpent,
      totalRefunded: creditAccount.totalRefunded,
      totalAdjusted: creditAccount.totalAdjusted,
      welcomeGranted: welcomeCredit.granted,
      welcomeWithheld: welcomeCredit.withheld,
    })
    .from(user)
    .leftJoin(
      creditAccount,
      and(eq(creditAccount.userId, user.id), eq(creditAccount.livemode, sql.placeholder("livemode"))),
    )
    .leftJoin(welcomeCredit, eq(welcomeCredit.userId, user.id))
    .where(eq(user.id, sql.placeholder("userId")));
}

/**
 * The account's counters and its welcome credits, by primary key, as a named prepared statement (no SQL text rebuilt
 * per request): the account of a mode (live unless said; a test key's is the test balance). An account without a
 * balance row (nothing granted, nothing bought) reads as zeros.
 */
export async function getCreditSummary(db: Executor, userId: string, livemode = true): Promise<CreditSummary> {
  const statement = prepared(db, "credit_summary", (d, name) => creditSummaryQuery(d).prepare(name));
  const [row] = await statement.execute({ userId, livemode });
  if (!row) return EMPTY_SUMMARY;
  return {
    balance: row.balance ?? 0,
    totalPurchased: row.totalPurchased ?? 0,
    totalSpent: row.totalSpent ?? 0,
    totalRefunded: row.totalRefunded ?? 0,
    totalAdjusted: row.totalAdjusted ?? 0,
    welcome: { granted: row.welcomeGranted ?? 0, withheld: row.welcomeWithheld ?? null },
  };
}

/**
 * A page of a user's ledger of one mode, newest first (placeholders userId, livemode, limit; with `afterCursor`, the
 * keyset's too): its one statement, also read by the bench's floor (scripts/bench/floor.ts).
 */
export function creditTransactionPageQuery(d: Executor, afterCursor: boolean) {
  return (
    d
      // Only what the page shows: every column read is decoded on every row.
      .select(creditTransactionView)
      .from(creditTransaction)
      .where(
        and(
          eq(creditTransaction.userId, sql.placeholder("userId")),
          eq(creditTransaction.livemode, sql.placeholder("livemode")),
          afterCursor ? keysetAfterPlaceholders(creditTransaction.createdAt, creditTransaction.id) : undefined,
        ),
      )
      .orderBy(...keysetOrder(creditTransaction.createdAt, creditTransaction.id))
      .limit(sql.placeholder("limit"))
  );
}

/** One page of a user's ledger of one mode (live unless said), newest first. */
export async function listCreditTransactions(
  db: Executor,
  userId: string,
  opts: { limit: number; cursor?: Cursor; livemode?: boolean },
): Promise<{ data: CreditTransactionView[]; nextCursor: string | null }> {
  const name = opts.cursor ? "credit_transactions_after" : "credit_transactions_first";
  const statement = prepared(db, name, (d) => creditTransactionPageQuery(d, opts.cursor !== undefined).prepare(name));
  return preparedPage(statement, { userId, livemode: opts.livemode ?? true }, opts.limit, opts.cursor);
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

/**
 * Test mode: brings the caller's test balance up to `target` (TEST_CREDITS) with one test_top_up row, or leaves
 * it when it is already there. The test account's row lock orders concurrent top-ups: the first adds the
 * difference, the next find it made, so any number of them end at `target` with one row between them. Only the
 * test account moves; the live one is never read or written.
 */
export async function topUpTestCredits(
  db: Database,
  userId: string,
  target: number,
): Promise<{ summary: CreditSummary; added: number }> {
  return db.transaction(async (tx) => {
    await tx.insert(creditAccount).values({ userId, livemode: false, balance: 0 }).onConflictDoNothing();
    const [acct] = await tx
      .select({ balance: creditAccount.balance })
      .from(creditAccount)
      .where(and(eq(creditAccount.userId, userId), eq(creditAccount.livemode, false)))
      .for("update");
    const added = Math.max(0, target - (acct?.balance ?? 0));
    if (added > 0)
      await applyCreditChange(tx, {
        userId,
        type: "test_top_up",
        amount: added,
        reason: `Test balance topped up to ${target}`,
        livemode: false,
      });
    return { summary: await getCreditSummary(tx, userId, false), added };
  });
}
