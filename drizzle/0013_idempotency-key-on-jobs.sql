ALTER TABLE "asset" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "prediction" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "asset_user_idempotency_key_idx" ON "asset" USING btree ("user_id","idempotency_key") WHERE "asset"."idempotency_key" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "prediction_user_idempotency_key_idx" ON "prediction" USING btree ("user_id","idempotency_key") WHERE "prediction"."idempotency_key" is not null;