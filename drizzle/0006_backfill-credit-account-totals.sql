-- Hand-written (custom drizzle migration): back-fills the lifetime totals of credit_account from the
-- ledger, with the same definitions as src/services/credits.ts CREDIT_TOTALS. An account is created
-- for any user that has ledger rows but no account (a guest's rows moved to a user with nothing to move).
INSERT INTO "credit_account" ("user_id", "balance", "total_purchased", "total_spent", "total_refunded", "total_adjusted")
SELECT "user_id",
       coalesce(sum("amount"), 0)::int,
       coalesce(sum("amount") FILTER (WHERE "type" IN ('purchase', 'purchase_refund')), 0)::int,
       coalesce(-sum("amount") FILTER (WHERE "type" = 'generation'), 0)::int,
       coalesce(sum("amount") FILTER (WHERE "type" = 'refund'), 0)::int,
       coalesce(sum("amount") FILTER (WHERE "type" = 'admin_adjustment'), 0)::int
FROM "credit_transaction"
GROUP BY "user_id"
ON CONFLICT ("user_id") DO UPDATE SET
  "total_purchased" = excluded."total_purchased",
  "total_spent" = excluded."total_spent",
  "total_refunded" = excluded."total_refunded",
  "total_adjusted" = excluded."total_adjusted";
