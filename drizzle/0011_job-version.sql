ALTER TABLE "asset" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "prediction" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;