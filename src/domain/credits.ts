/** The facts about the ledger that the database, the contract and the services share. */

/** Every kind of ledger row (the database enum credit_transaction_type is built from it). */
export const CREDIT_TRANSACTION_TYPES = [
  "signup_bonus",
  "purchase",
  "generation",
  "refund",
  "purchase_refund",
  "admin_adjustment",
  "transfer",
  "asset",
  "asset_refund",
] as const;
export type CreditTransactionType = (typeof CREDIT_TRANSACTION_TYPES)[number];

/** How the lifetime flows group the row types (admin analytics, the account's totals). */
export const SPENDING_TYPES = ["generation", "asset"] as const satisfies readonly CreditTransactionType[];
export const JOB_REFUND_TYPES = ["refund", "asset_refund"] as const satisfies readonly CreditTransactionType[];
