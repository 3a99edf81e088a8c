import { index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Password sign-in attempts per account (email, trimmed and lowercased) in the current 15-minute window,
 * shared by every instance. An attempt is counted before it is checked and uncounted unless it was a
 * wrong password; a successful sign-in deletes the row.
 */
export const signinFailure = pgTable("signin_failure", {
  email: text("email").primaryKey(),
  failures: integer("failures").notNull(),
  windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull(),
});

/** Welcome credits granted per client address: the last 24 hours of rows are the address's spent budget. */
export const freeCreditGrant = pgTable(
  "free_credit_grant",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    address: text("address").notNull(),
    userId: uuid("user_id").notNull(),
    amount: integer("amount").notNull(),
    grantedAt: timestamp("granted_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("free_credit_grant_address_time").on(t.address, t.grantedAt)],
);
