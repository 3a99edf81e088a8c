CREATE TABLE "outgoing_webhook" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"webhook_id" text NOT NULL,
	"prediction_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"event" text NOT NULL,
	"url" text NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "outgoing_webhook_webhook_id_unique" UNIQUE("webhook_id"),
	CONSTRAINT "outgoing_webhook_event" CHECK ("outgoing_webhook"."event" in ('start', 'completed'))
);
--> statement-breakpoint
CREATE TABLE "webhook_delivery" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"outgoing_webhook_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"response_status" integer,
	"error" text,
	"next_attempt_at" timestamp with time zone,
	"claim_id" uuid,
	"claimed_until" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "webhook_delivery_status" CHECK ("webhook_delivery"."status" in ('pending', 'succeeded', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "webhook_secret" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"current_encrypted" text NOT NULL,
	"previous_encrypted" text,
	"previous_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"rotated_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "prediction" ADD COLUMN "webhook" text;--> statement-breakpoint
ALTER TABLE "prediction" ADD COLUMN "webhook_events" text[];--> statement-breakpoint
ALTER TABLE "outgoing_webhook" ADD CONSTRAINT "outgoing_webhook_prediction_id_prediction_id_fk" FOREIGN KEY ("prediction_id") REFERENCES "public"."prediction"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_delivery" ADD CONSTRAINT "webhook_delivery_outgoing_webhook_id_outgoing_webhook_id_fk" FOREIGN KEY ("outgoing_webhook_id") REFERENCES "public"."outgoing_webhook"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_secret" ADD CONSTRAINT "webhook_secret_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "outgoing_webhook_prediction_event_idx" ON "outgoing_webhook" USING btree ("prediction_id","event");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_delivery_event_attempt_idx" ON "webhook_delivery" USING btree ("outgoing_webhook_id","attempt");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_delivery_one_pending_idx" ON "webhook_delivery" USING btree ("outgoing_webhook_id") WHERE "webhook_delivery"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_delivery_due_idx" ON "webhook_delivery" USING btree ("next_attempt_at") WHERE "webhook_delivery"."status" = 'pending';