CREATE TABLE "signin_address_failure" (
	"email" text NOT NULL,
	"address" text NOT NULL,
	"failures" integer NOT NULL,
	"window_started_at" timestamp with time zone NOT NULL,
	CONSTRAINT "signin_address_failure_email_address_pk" PRIMARY KEY("email","address")
);
