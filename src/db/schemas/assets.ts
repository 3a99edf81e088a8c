import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { ASSET_STATUSES } from "../../domain/assets";
import { ASSET_KINDS } from "../../services/deliverables";
import { literalList } from "../literals";
import { user } from "./auth";
import { prediction } from "./predictions";

export const assetStatus = pgEnum("asset_status", ASSET_STATUSES);

/** One stored file of a finished asset: `key` names it in storage (served at /files/{key} or S3_PUBLIC_URL). */
export interface AssetFileRecord {
  name: string;
  key: string;
  contentType: string;
  bytes: number;
  width: number | null;
  height: number | null;
}

/**
 * A deliverable made from one output of a succeeded prediction (vector, transparent, icons, brand-kit): a paid
 * job like a prediction, run by a worker thread of whichever instance claims it. `claimed_by`/`lease_until`
 * say which instance runs it and until when it is that instance's; a lease that runs out lets another take it.
 */
export const asset = pgTable(
  "asset",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "restrict" }),
    predictionId: uuid("prediction_id")
      .notNull()
      .references(() => prediction.id, { onDelete: "restrict" }),
    outputIndex: integer("output_index").notNull(),
    kind: text("kind").notNull(),
    status: assetStatus("status").notNull().default("queued"),
    options: jsonb("options").notNull(),
    files: jsonb("files").$type<AssetFileRecord[]>(),
    error: jsonb("error").$type<{ code: string; message: string }>(),
    creditsCharged: integer("credits_charged").notNull(),
    creditsRefunded: integer("credits_refunded").notNull().default(0),
    webhook: text("webhook"),
    webhookEvents: text("webhook_events").array(),
    claimedBy: text("claimed_by"),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    attempts: integer("attempts").notNull().default(0),
    /** When a worker last claimed it: the user whose latest claim is oldest has the next turn (round-robin). */
    claimedAt: timestamp("claimed_at", { withTimezone: true }),
    // Millisecond precision so keyset cursors (JS Dates) compare exactly.
    createdAt: timestamp("created_at", { withTimezone: true })
      .notNull()
      .default(sql`date_trunc('milliseconds', clock_timestamp())`),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    /** As prediction.version: bumped by every change GET shows, announced on `logo_job_changed`. */
    version: integer("version").notNull().default(1),
    /** As prediction.idempotency_key: a retry whose first outcome was lost finds this asset, not a second charge. */
    idempotencyKey: text("idempotency_key"),
  },
  (t) => [
    uniqueIndex("asset_user_idempotency_key_idx")
      .on(t.userId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index("asset_user_created_idx").on(t.userId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index("asset_prediction_created_idx").on(t.predictionId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    // The claim queue: only active rows, oldest first within a user's turn.
    index("asset_active_idx").on(t.createdAt).where(sql`${t.status} in ('queued', 'processing')`),
    // Whose turn it is: each user's latest claim, read per candidate user.
    index("asset_user_claimed_idx").on(t.userId, t.claimedAt),
    // The kinds of the deliverables registry: a new kind's declaration regenerates this constraint's migration.
    check("asset_kind", sql`${t.kind} in (${literalList(ASSET_KINDS)})`),
    check("asset_refund_le_charge", sql`${t.creditsRefunded} >= 0 AND ${t.creditsRefunded} <= ${t.creditsCharged}`),
  ],
);

export type AssetRow = typeof asset.$inferSelect;
