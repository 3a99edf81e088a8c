ALTER TYPE "public"."credit_transaction_type" ADD VALUE 'test_top_up';--> statement-breakpoint
DROP INDEX "asset_user_idempotency_key_idx";--> statement-breakpoint
DROP INDEX "prediction_user_idempotency_key_idx";--> statement-breakpoint
ALTER TABLE "asset" ADD COLUMN "livemode" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_account" ADD COLUMN "livemode" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_transaction" ADD COLUMN "livemode" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "prediction" ADD COLUMN "livemode" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "outgoing_webhook" ADD COLUMN "livemode" boolean DEFAULT true NOT NULL;--> statement-breakpoint
-- Hand-edited: drizzle-kit cannot name the primary key it replaces (credit_account_pkey, PostgreSQL's default
-- name), and the new key needs the column added above. One account per (user, mode).
ALTER TABLE "credit_account" DROP CONSTRAINT "credit_account_pkey";--> statement-breakpoint
ALTER TABLE "credit_account" ADD CONSTRAINT "credit_account_pkey" PRIMARY KEY("user_id","livemode");--> statement-breakpoint
CREATE UNIQUE INDEX "asset_user_idempotency_key_idx" ON "asset" USING btree ("user_id","livemode","idempotency_key") WHERE "asset"."idempotency_key" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "prediction_user_idempotency_key_idx" ON "prediction" USING btree ("user_id","livemode","idempotency_key") WHERE "prediction"."idempotency_key" is not null;
