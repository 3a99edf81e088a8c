import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { JOB_TYPES } from "../../domain/jobs";
import { WEBHOOK_EVENTS } from "../../domain/webhooks";
import { literalList } from "../literals";
import { user } from "./auth";

/**
 * A user's signing secret for outgoing webhooks, encrypted at rest (AES-256-GCM, key derived from
 * BETTER_AUTH_SECRET). After a rotation the previous one keeps signing until `previous_expires_at`.
 */
export const webhookSecret = pgTable("webhook_secret", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => user.id, { onDelete: "cascade" }),
  currentEncrypted: text("current_encrypted").notNull(),
  previousEncrypted: text("previous_encrypted"),
  previousExpiresAt: timestamp("previous_expires_at", { withTimezone: true }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  rotatedAt: timestamp("rotated_at", { withTimezone: true }),
});

/**
 * One event to deliver (the outbox): written in the same transaction as a job's status change, unique per
 * (job type, job, event) so a prediction or an asset can never send the same event twice. `body` is the exact
 * JSON sent on every attempt; `webhook_id` is the Standard Webhooks message id, the same on every retry.
 */
export const outgoingWebhook = pgTable(
  "outgoing_webhook",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    webhookId: text("webhook_id").notNull().unique(),
    /** The paid job the event is about: its kind ('prediction', 'asset') and id. */
    jobType: text("job_type").notNull(),
    jobId: uuid("job_id").notNull(),
    userId: uuid("user_id").notNull(),
    event: text("event").notNull(),
    url: text("url").notNull(),
    /** The receiver's host name (lowercase, no port): the sender caps and backs off per host. */
    host: text("host"),
    body: text("body").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("outgoing_webhook_job_event_idx").on(t.jobType, t.jobId, t.event),
    check("outgoing_webhook_job_type", sql`${t.jobType} in (${literalList(JOB_TYPES)})`),
    check("outgoing_webhook_event", sql`${t.event} in (${literalList(WEBHOOK_EVENTS)})`),
  ],
);

/**
 * One delivery attempt. The pending row of an event is its queue entry (at most one per event, by the partial
 * unique index): a sender claims it (claim_id, claimed_until) under FOR UPDATE SKIP LOCKED, sends, then marks it
 * succeeded or failed and — when retries are left — inserts the next attempt, in one transaction.
 */
export const webhookDelivery = pgTable(
  "webhook_delivery",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    webhookRowId: uuid("outgoing_webhook_id")
      .notNull()
      .references(() => outgoingWebhook.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    status: text("status").notNull().default("pending"),
    responseStatus: integer("response_status"),
    error: text("error"),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }),
    claimId: uuid("claim_id"),
    claimedUntil: timestamp("claimed_until", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("webhook_delivery_event_attempt_idx").on(t.webhookRowId, t.attempt),
    uniqueIndex("webhook_delivery_one_pending_idx").on(t.webhookRowId).where(sql`${t.status} = 'pending'`),
    index("webhook_delivery_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    check("webhook_delivery_status", sql`${t.status} in ('pending', 'succeeded', 'failed')`),
  ],
);

export type OutgoingWebhookRow = typeof outgoingWebhook.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDelivery.$inferSelect;
