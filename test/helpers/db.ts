import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import pg from "pg";
import { connectPglite, connectPostgres, type DatabaseHandle, type Executor, queryRows } from "../../src/db";

/**
 * A fresh, migrated database per test file: a new PostgreSQL database when TEST_DATABASE_URL (or
 * DATABASE_URL) is set — created here and dropped on close — otherwise an in-memory PGlite cloned
 * from a migrated template (cloning is ~4x faster than migrating a new instance).
 */
export const testDatabaseUrl = () => process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;

/**
 * A new, empty PostgreSQL database beside the one `base` points at (named logo_test_…, which CI also
 * sweeps up if a crashed test file leaves one behind), and how to drop it.
 */
export async function createPostgresDatabase(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `logo_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists "${name}" with (force)`) };
}

let pgliteTemplate: Promise<File | Blob> | undefined;

export async function createTestDatabase(): Promise<DatabaseHandle & { url?: string }> {
  const base = testDatabaseUrl();
  if (base) {
    const { url, drop } = await createPostgresDatabase(base);
    const handle = connectPostgres({ url, poolMax: 20 });
    await handle.migrate();
    const close = handle.close;
    return {
      ...handle,
      url,
      async close() {
        await close();
        await drop();
      },
    };
  }
  pgliteTemplate ??= (async () => {
    const h = await connectPglite();
    await h.migrate();
    const dump = await (h as unknown as { pglite: PGlite }).pglite.dumpDataDir("none");
    await h.close();
    return dump;
  })();
  return connectPglite(undefined, await pgliteTemplate);
}

/**
 * balance = sum(ledger) and balance >= 0 for every user, and every lifetime total of credit_account equals its
 * sum over the ledger (src/services/credits.ts CREDIT_TOTALS); returns the offending rows (empty when sound).
 */
export async function ledgerViolations(db: Executor) {
  return queryRows<{
    user_id: string;
    balance: number | null;
    ledger: number | null;
    totals: [number, number, number, number] | null;
    ledger_totals: [number, number, number, number] | null;
  }>(
    db,
    sql`
    with l as (
      select user_id, sum(amount)::int as ledger,
             array[coalesce(sum(amount) filter (where type in ('purchase', 'purchase_refund')), 0)::int,
                   coalesce(-sum(amount) filter (where type = 'generation'), 0)::int,
                   coalesce(sum(amount) filter (where type = 'refund'), 0)::int,
                   coalesce(sum(amount) filter (where type = 'admin_adjustment'), 0)::int] as ledger_totals
      from credit_transaction group by user_id)
    select coalesce(a.user_id, l.user_id) as user_id, a.balance, l.ledger,
           array[a.total_purchased, a.total_spent, a.total_refunded, a.total_adjusted] as totals, l.ledger_totals
    from credit_account a full outer join l on l.user_id = a.user_id
    where coalesce(a.balance, 0) <> coalesce(l.ledger, 0) or a.balance < 0
       or coalesce(array[a.total_purchased, a.total_spent, a.total_refunded, a.total_adjusted], array[0, 0, 0, 0])
          <> coalesce(l.ledger_totals, array[0, 0, 0, 0])`,
  );
}
