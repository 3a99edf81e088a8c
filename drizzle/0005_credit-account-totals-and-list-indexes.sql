DROP INDEX "credit_transaction_user_created_idx";--> statement-breakpoint
DROP INDEX "prediction_user_created_idx";--> statement-breakpoint
ALTER TABLE "credit_account" ADD COLUMN "total_purchased" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_account" ADD COLUMN "total_spent" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_account" ADD COLUMN "total_refunded" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_account" ADD COLUMN "total_adjusted" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "user_created_idx" ON "user" USING btree ("created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "prediction_user_status_created_idx" ON "prediction" USING btree ("user_id","status","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "prediction_user_model_created_idx" ON "prediction" USING btree ("user_id","model","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "credit_transaction_user_created_idx" ON "credit_transaction" USING btree ("user_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "prediction_user_created_idx" ON "prediction" USING btree ("user_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);