import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../db";
import { freeCreditGrant, welcomeCredit } from "../db/schema";
import { applyCreditChange, isUniqueViolation } from "./ledger";

/**
 * Welcome credits (a guest's or a sign-up's) cost real generations, so each client address has a budget:
 * at most `perDay` credits in any 24 hours (rolling), shared by every instance through the database. A
 * grant is all or nothing: one that does not fit in what is left is not made, and the account starts
 * without welcome credits (it can still buy). Either way the outcome is kept (welcome_credit) for GET /api/credits.
 */
export const FREE_CREDIT_WINDOW_MS = 24 * 60 * 60 * 1000;

export type WelcomeGrant = { granted: true } | { granted: false; reason: "budget_exhausted" | "already_granted" };

/**
 * Grants `amount` welcome credits to a new account, drawn on `address`'s budget. Without an address (an
 * account created by a script, not by a client request) nothing is budgeted. Two grants for one address at
 * once queue on a transaction-scoped advisory lock of that address, so they cannot both take the last
 * credits; the ledger row and the budget row commit together.
 */
export async function grantWelcomeCredits(
  db: Database,
  input: { userId: string; amount: number; address: string | null; perDay: number; now: Date },
): Promise<WelcomeGrant> {
  const { userId, amount, address, perDay, now } = input;
  if (amount <= 0) {
    await db.insert(welcomeCredit).values({ userId, granted: 0, withheld: null }).onConflictDoNothing();
    return { granted: true };
  }
  try {
    return await db.transaction(async (tx) => {
      if (address !== null) {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`free-credits:${address}`}, 0))`);
        const since = new Date(now.getTime() - FREE_CREDIT_WINDOW_MS).toISOString();
        // Rows older than the window are no longer part of any budget.
        await tx.execute(sql`delete from free_credit_grant where address = ${address} and granted_at <= ${since}`);
        const [row] = await queryRows<{ spent: number }>(
          tx,
          sql`select coalesce(sum(amount), 0)::int as spent from free_credit_grant where address = ${address}`,
        );
        if (Number(row?.spent ?? 0) + amount > perDay) {
          await tx
            .insert(welcomeCredit)
            .values({ userId, granted: 0, withheld: "address_budget" })
            .onConflictDoNothing();
          return { granted: false, reason: "budget_exhausted" } as const;
        }
        await tx.insert(freeCreditGrant).values({ address, userId, amount, grantedAt: now });
      }
      await applyCreditChange(tx, { userId, type: "signup_bonus", amount, reason: "Welcome credits" });
      await tx.insert(welcomeCredit).values({ userId, granted: amount, withheld: null }).onConflictDoNothing();
      return { granted: true } as const;
    });
  } catch (err) {
    // The one-per-user unique index: this account already had its welcome credits (and the budget row rolled back).
    if (isUniqueViolation(err)) return { granted: false, reason: "already_granted" };
    throw err;
  }
}
