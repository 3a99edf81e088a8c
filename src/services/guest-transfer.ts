import { eq, sql } from "drizzle-orm";
import { type Database, type Executor, queryRows } from "../db";
import {
  creditAccount,
  creditTransaction,
  guestLink,
  polarOrder,
  USER_OWNED_TABLES,
  user,
  webhookSecret,
} from "../db/schema";
import { moveLedger } from "./ledger";

/** A guest that signs up or signs in: everything it owns moves to the account, nothing is lost. */

/**
 * Moves everything a guest owns to the account it linked to, in one transaction: its ledger (by the ledger's own
 * moveLedger), then the rows of every table in USER_OWNED_TABLES (predictions, assets, orders, webhook events,
 * queued or still to come) and — when the account has none yet — its signing secret, so events
 * of the guest's jobs are still delivered and verify with the secret the guest's receiver knows.
 * Afterwards the guest has no balance row, so Better Auth can delete it without cascading anything away.
 */
export async function transferGuestAccount(db: Database, guestId: string, userId: string): Promise<{ moved: number }> {
  if (guestId === userId) return { moved: 0 };
  return db.transaction(async (tx) => {
    // Same lock order as order settlement (user, polar_order, credit_account): a webhook for the guest's
    // order arriving during the link waits for it, then finds the guest_link row and pays the new account.
    await tx.select({ id: user.id }).from(user).where(eq(user.id, guestId)).for("update");
    await tx
      .select({ orderId: polarOrder.orderId })
      .from(polarOrder)
      .where(eq(polarOrder.userId, guestId))
      .for("update");
    const moved = await moveLedger(tx, guestId, userId);
    // In the list's order, the outbox last: after the jobs (whose rows this transaction then holds), an event
    // written by a job that finished before is moved here; one written after reads the new owner from its job.
    // Left with the guest, an event could never be signed (the guest's secret goes with the guest).
    for (const owned of USER_OWNED_TABLES)
      await tx.execute(
        sql`update ${owned.table} set ${sql.identifier(owned.userId.name)} = ${userId} where ${owned.userId} = ${guestId}`,
      );
    await tx.execute(
      sql`update ${webhookSecret} set user_id = ${userId} where user_id = ${guestId}
          and not exists (select 1 from ${webhookSecret} w where w.user_id = ${userId})`,
    );
    await tx.insert(guestLink).values({ guestId, userId }).onConflictDoNothing();
    return { moved };
  });
}

/**
 * Whether the user has anything money-related that deleting it would strand or erase: a credit account,
 * ledger rows, predictions, assets or Polar orders (all kept by RESTRICT foreign keys, by design).
 */
export async function hasAccountHistory(db: Executor, userId: string): Promise<boolean> {
  const owned = [
    { table: creditAccount, userId: creditAccount.userId },
    { table: creditTransaction, userId: creditTransaction.userId },
    ...USER_OWNED_TABLES,
  ].map((o) => sql`exists (select 1 from ${o.table} where ${o.userId} = ${userId})`);
  const [row] = await queryRows<{ found: boolean }>(db, sql`select ${sql.join(owned, sql` or `)} as found`);
  return Boolean(row?.found);
}
