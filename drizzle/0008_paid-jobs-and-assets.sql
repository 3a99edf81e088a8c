CREATE TYPE "public"."asset_status" AS ENUM('queued', 'processing', 'succeeded', 'failed');--> statement-breakpoint
ALTER TYPE "public"."credit_transaction_type" ADD VALUE 'asset';--> statement-breakpoint
ALTER TYPE "public"."credit_transaction_type" ADD VALUE 'asset_refund';--> statement-breakpoint
CREATE TABLE "asset" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"prediction_id" uuid NOT NULL,
	"output_index" integer NOT NULL,
	"kind" text NOT NULL,
	"status" "asset_status" DEFAULT 'queued' NOT NULL,
	"options" jsonb NOT NULL,
	"files" jsonb,
	"error" jsonb,
	"credits_charged" integer NOT NULL,
	"credits_refunded" integer DEFAULT 0 NOT NULL,
	"webhook" text,
	"webhook_events" text[],
	"claimed_by" text,
	"lease_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT date_trunc('milliseconds', clock_timestamp()) NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "asset_kind" CHECK ("asset"."kind" in ('vector', 'transparent', 'icons', 'brand-kit')),
	CONSTRAINT "asset_refund_le_charge" CHECK ("asset"."credits_refunded" >= 0 AND "asset"."credits_refunded" <= "asset"."credits_charged")
);
--> statement-breakpoint
ALTER TABLE "outgoing_webhook" DROP CONSTRAINT "outgoing_webhook_prediction_id_prediction_id_fk";
--> statement-breakpoint
DROP INDEX "outgoing_webhook_prediction_event_idx";--> statement-breakpoint
ALTER TABLE "outgoing_webhook" ALTER COLUMN "prediction_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "credit_transaction" ADD COLUMN "asset_id" uuid;--> statement-breakpoint
ALTER TABLE "outgoing_webhook" ADD COLUMN "job_type" text;--> statement-breakpoint
ALTER TABLE "outgoing_webhook" ADD COLUMN "job_id" uuid;--> statement-breakpoint
UPDATE "outgoing_webhook" SET "job_type" = 'prediction', "job_id" = "prediction_id";--> statement-breakpoint
ALTER TABLE "outgoing_webhook" ALTER COLUMN "job_type" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "outgoing_webhook" ALTER COLUMN "job_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "asset" ADD CONSTRAINT "asset_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "asset" ADD CONSTRAINT "asset_prediction_id_prediction_id_fk" FOREIGN KEY ("prediction_id") REFERENCES "public"."prediction"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "asset_user_created_idx" ON "asset" USING btree ("user_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "asset_prediction_created_idx" ON "asset" USING btree ("prediction_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "asset_active_idx" ON "asset" USING btree ("created_at") WHERE "asset"."status" in ('queued', 'processing');--> statement-breakpoint
CREATE UNIQUE INDEX "credit_transaction_asset_once" ON "credit_transaction" USING btree ("asset_id","type");--> statement-breakpoint
CREATE UNIQUE INDEX "outgoing_webhook_job_event_idx" ON "outgoing_webhook" USING btree ("job_type","job_id","event");--> statement-breakpoint
ALTER TABLE "outgoing_webhook" ADD CONSTRAINT "outgoing_webhook_job_type" CHECK ("outgoing_webhook"."job_type" in ('prediction', 'asset'));