DROP INDEX "prediction_created_idx";--> statement-breakpoint
CREATE INDEX "prediction_created_idx" ON "prediction" USING brin ("created_at");