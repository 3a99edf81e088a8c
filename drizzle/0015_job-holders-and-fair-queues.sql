ALTER TABLE "asset" ADD COLUMN "claimed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outgoing_webhook" ADD COLUMN "host" text;--> statement-breakpoint
CREATE INDEX "asset_user_claimed_idx" ON "asset" USING btree ("user_id","claimed_at");--> statement-breakpoint
UPDATE "outgoing_webhook" SET "host" = lower(substring("url" from '^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?(\[[^]]*\]|[^:/?#]*)'));