import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { PREDICTION_STATUSES } from "../../domain/predictions";
import { user } from "./auth";

export const predictionStatus = pgEnum("prediction_status", PREDICTION_STATUSES);

export const prediction = pgTable(
  "prediction",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "restrict" }),
    model: text("model").notNull(),
    status: predictionStatus("status").notNull().default("queued"),
    input: jsonb("input").notNull(),
    prompt: text("prompt").notNull(),
    providerPredictionId: text("provider_prediction_id"),
    /** The provider's last raw answer, kept for support; never sent to clients. */
    providerResponse: jsonb("provider_response"),
    /** Our URLs for the stored images (GET /files/{key} or S3_PUBLIC_URL): what clients see. */
    output: jsonb("output").$type<string[]>(),
    /** The provider's own image URLs, kept for support (they expire); never sent to clients. */
    providerOutput: jsonb("provider_output").$type<string[]>(),
    error: jsonb("error").$type<{ code: string; message: string }>(),
    creditsCharged: integer("credits_charged").notNull(),
    creditsRefunded: integer("credits_refunded").notNull().default(0),
    // Millisecond precision so keyset cursors (JS Dates) compare exactly; clock_timestamp orders rows within a transaction.
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`date_trunc('milliseconds', clock_timestamp())`),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    lastSyncedAt: timestamp("last_synced_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    /** Outgoing webhook: where prediction events are POSTed (null: none), and which events. */
    webhook: text("webhook"),
    webhookEvents: text("webhook_events").array(),
    /**
     * Bumped by every UPDATE that changes what GET answers: the `id:` of stream events, compared on resume
     * (Last-Event-ID). A bump is announced on `logo_job_changed` by a trigger (see the migration) in the same
     * transaction.
     */
    version: integer("version").notNull().default(1),
    /**
     * The Idempotency-Key it was created with, if any: written with the charge, so a retry of a request whose
     * outcome was never recorded (its instance died, the database went away) finds this job instead of charging
     * for a second one.
     */
    idempotencyKey: text("idempotency_key"),
  },
  (t) => [
    // The list orders (GET /api/generations, /api/predictions): keyset `created_at desc, id desc` (NULLS FIRST,
    // as ORDER BY DESC means), per user, and per user with a status or a model filter.
    index("prediction_user_created_idx").on(t.userId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index("prediction_user_status_created_idx").on(
      t.userId,
      t.status,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    uniqueIndex("prediction_user_idempotency_key_idx")
      .on(t.userId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index("prediction_user_model_created_idx").on(
      t.userId,
      t.model,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index("prediction_active_sync_idx").on(t.lastSyncedAt).where(sql`${t.status} in ('queued', 'processing')`),
    // Time ranges for the admin analytics. BRIN, not a B-tree: rows arrive in created_at order, and a B-tree on
    // created_at alone offered the planner an ordered scan that it picked for a user owning most rows, then
    // walked past every newer row of other users (1 ms and growing, against 0.05 ms on the per-user index).
    index("prediction_created_idx").using("brin", t.createdAt),
    check(
      "prediction_refund_le_charge",
      sql`${t.creditsRefunded} >= 0 AND ${t.creditsRefunded} <= ${t.creditsCharged}`,
    ),
  ],
);

export type PredictionRow = typeof prediction.$inferSelect;

/** What clients see of a prediction (toPrediction): the columns list pages read, without the provider's raw data. */
export const predictionView = {
  id: prediction.id,
  status: prediction.status,
  model: prediction.model,
  input: prediction.input,
  prompt: prediction.prompt,
  output: prediction.output,
  error: prediction.error,
  creditsCharged: prediction.creditsCharged,
  creditsRefunded: prediction.creditsRefunded,
  createdAt: prediction.createdAt,
  startedAt: prediction.startedAt,
  completedAt: prediction.completedAt,
  version: prediction.version,
};

export type PredictionView = Pick<PredictionRow, keyof typeof predictionView>;
