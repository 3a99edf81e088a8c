import { index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Password sign-in attempts per account (email, trimmed and lowercased) in the current 15-minute window, from
 * every address, shared by every instance: the account-wide bound (SIGNIN_MAX_FAILURES_PER_ACCOUNT). An attempt
 * is counted before it is checked and uncounted unless it was a wrong password; a successful sign-in deletes it.
 */
export const signinFailure = pgTable("signin_failure", {
  email: text("email").primaryKey(),
  failures: integer("failures").notNull(),
  windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull(),
});

/**
 * The same per (account, client address): the lock at SIGNIN_MAX_FAILURES, so that one address guessing cannot
 * lock the owner out of an account from another address.
 */
export const signinAddressFailure = pgTable(
  "signin_address_failure",
  {
    email: text("email").notNull(),
    address: text("address").notNull(),
    failures: integer("failures").notNull(),
    windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.email, t.address] })],
);

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
