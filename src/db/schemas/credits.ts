import { sql } from "drizzle-orm";
import { check, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { CREDIT_TRANSACTION_TYPES } from "../../domain/credits";
import { user } from "./auth";

/**
 * One row per user: the current balance and the lifetime totals GET /api/credits shows, kept as counters
 * (each = a sum over the user's ledger, see src/services/credits.ts CREDIT_TOTALS). Every change goes
 * through src/services/credits.ts, in the same transaction as its ledger row.
 */
export const creditAccount = pgTable(
  "credit_account",
  {
    // RESTRICT, not CASCADE: a user with money history cannot silently vanish (guest linking moves it first).
    userId: uuid("user_id")
      .primaryKey()
      .references(() => user.id, { onDelete: "restrict" }),
    balance: integer("balance").notNull().default(0),
    /** sum(amount) of purchase and purchase_refund rows: bought, net of what purchase refunds took back */
    totalPurchased: integer("total_purchased").notNull().default(0),
    /** -sum(amount) of generation and asset rows */
    totalSpent: integer("total_spent").notNull().default(0),
    /** sum(amount) of refund and asset_refund rows */
    totalRefunded: integer("total_refunded").notNull().default(0),
    /** sum(amount) of admin_adjustment rows (signed) */
    totalAdjusted: integer("total_adjusted").notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("credit_account_balance_non_negative", sql`${t.balance} >= 0`)],
);

export const creditTransactionType = pgEnum("credit_transaction_type", CREDIT_TRANSACTION_TYPES);

/** Append-only ledger: the balance always equals the sum of a user's rows. */
export const creditTransaction = pgTable(
  "credit_transaction",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "restrict" }),
    type: creditTransactionType("type").notNull(),
    amount: integer("amount").notNull(),
    balanceAfter: integer("balance_after").notNull(),
    /** The subject of a job's charge or refund: a prediction (generation, refund) … */
    predictionId: uuid("prediction_id"),
    /** … or a deliverable (asset, asset_refund). */
    assetId: uuid("asset_id"),
    orderId: text("order_id"),
    reason: text("reason"),
    actorId: uuid("actor_id"),
    // Millisecond precision so keyset cursors (JS Dates) compare exactly; clock_timestamp orders rows within a transaction.
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`date_trunc('milliseconds', clock_timestamp())`),
  },
  (t) => [
    // Exactly the keyset order (`order by created_at desc, id desc` is NULLS FIRST; Drizzle's bare .desc() is
    // NULLS LAST, which PostgreSQL cannot use for that order and sorted the whole history instead).
    index("credit_transaction_user_created_idx").on(
      t.userId,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    // Exactly-once money movements, enforced by the database rather than by hope.
    uniqueIndex("credit_transaction_generation_once").on(t.predictionId).where(sql`${t.type} = 'generation'`),
    uniqueIndex("credit_transaction_refund_once").on(t.predictionId).where(sql`${t.type} = 'refund'`),
    // Only asset and asset_refund rows name an asset: one of each per asset. (No partial index on the new enum
    // values: the migration that adds them cannot use them in the same transaction.)
    uniqueIndex("credit_transaction_asset_once").on(t.assetId, t.type),
    uniqueIndex("credit_transaction_purchase_once").on(t.orderId).where(sql`${t.type} = 'purchase'`),
    uniqueIndex("credit_transaction_signup_once").on(t.userId).where(sql`${t.type} = 'signup_bonus'`),
    check("credit_transaction_amount_non_zero", sql`${t.amount} <> 0`),
    check("credit_transaction_balance_after_non_negative", sql`${t.balanceAfter} >= 0`),
  ],
);

/**
 * Which account a guest became. Polar keeps the guest's id on orders paid before the guest signed up,
 * so an order.paid that arrives after the link still finds its owner.
 */
export const guestLink = pgTable("guest_link", {
  guestId: uuid("guest_id").primaryKey(),
  userId: uuid("user_id")
    .notNull()
    .references(() => user.id, { onDelete: "restrict" }),
  linkedAt: timestamp("linked_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The welcome credits an account got when it was created, and why it got fewer than configured: `address_budget`
 * when its client address had spent its free-credit budget (FREE_CREDITS_PER_ADDRESS_PER_DAY). GET /api/credits
 * shows it, so a zero balance is never silent. Goes with the user (a linked guest's row goes when the guest does).
 */
export const welcomeCredit = pgTable(
  "welcome_credit",
  {
    userId: uuid("user_id")
      .primaryKey()
      .references(() => user.id, { onDelete: "cascade" }),
    granted: integer("granted").notNull(),
    withheld: text("withheld", { enum: ["address_budget"] }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("welcome_credit_granted_non_negative", sql`${t.granted} >= 0`),
    check("welcome_credit_withheld_known", sql`${t.withheld} is null or ${t.withheld} = 'address_budget'`),
  ],
);

export type CreditTransactionRow = typeof creditTransaction.$inferSelect;

/** What clients see of a ledger row (toCreditTransaction): the columns the ledger page reads. */
export const creditTransactionView = {
  id: creditTransaction.id,
  type: creditTransaction.type,
  amount: creditTransaction.amount,
  balanceAfter: creditTransaction.balanceAfter,
  predictionId: creditTransaction.predictionId,
  assetId: creditTransaction.assetId,
  orderId: creditTransaction.orderId,
  reason: creditTransaction.reason,
  createdAt: creditTransaction.createdAt,
};

export type CreditTransactionView = Pick<CreditTransactionRow, keyof typeof creditTransactionView>;
