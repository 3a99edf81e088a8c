CREATE TABLE "welcome_credit" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"granted" integer NOT NULL,
	"withheld" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "welcome_credit_granted_non_negative" CHECK ("welcome_credit"."granted" >= 0),
	CONSTRAINT "welcome_credit_withheld_known" CHECK ("welcome_credit"."withheld" is null or "welcome_credit"."withheld" = 'address_budget')
);
--> statement-breakpoint
ALTER TABLE "welcome_credit" ADD CONSTRAINT "welcome_credit_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- Accounts created before this table: what their welcome credits were, from the ledger.
INSERT INTO "welcome_credit" ("user_id", "granted", "withheld") SELECT "user_id", "amount", NULL FROM "credit_transaction" WHERE "type" = 'signup_bonus' ON CONFLICT DO NOTHING;
