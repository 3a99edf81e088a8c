import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { user } from "./auth";

/** A Polar order that granted credits; tracks how much of it was taken back by refunds. */
export const polarOrder = pgTable(
  "polar_order",
  {
    orderId: text("order_id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "restrict" }),
    packageId: text("package_id").notNull(),
    productId: text("product_id"),
    creditsGranted: integer("credits_granted").notNull(),
    creditsRevoked: integer("credits_revoked").notNull().default(0),
    creditsUnrecoverable: integer("credits_unrecoverable").notNull().default(0),
    totalAmount: integer("total_amount").notNull(),
    refundedAmount: integer("refunded_amount").notNull().default(0),
    currency: text("currency").notNull(),
    status: text("status").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("polar_order_user_idx").on(t.userId),
    index("polar_order_created_idx").on(t.createdAt),
    check("polar_order_revoked_range", sql`${t.creditsRevoked} >= 0 AND ${t.creditsRevoked} <= ${t.creditsGranted}`),
  ],
);

/** Every verified webhook delivery, unique by its `webhook-id`, with what processing it did. */
export const webhookEvent = pgTable(
  "webhook_event",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    source: text("source").notNull().default("polar"),
    webhookId: text("webhook_id").notNull().unique(),
    type: text("type").notNull(),
    payload: jsonb("payload").notNull(),
    /** received | processed | ignored | failed */
    status: text("status").notNull().default("received"),
    outcome: text("outcome"),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp("processed_at", { withTimezone: true }),
  },
  (t) => [index("webhook_event_type_idx").on(t.type, t.receivedAt)],
);
