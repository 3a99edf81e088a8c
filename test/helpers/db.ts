import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
export async function createPostgresDatabase(
  base: string,
  template?: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `logo_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const create = `create database "${name}"${template ? ` template "${template}"` : ""}`;
  // 55006: another test process is copying the same template this instant; PostgreSQL lets one copy at a time.
  for (let attempt = 1; ; attempt++) {
    const failed = await adminQuery(base, create).then(
      () => undefined,
      (err: { code?: string }) => err,
    );
    if (!failed) break;
    if (failed.code !== "55006" || attempt >= 50) throw failed;
    await new Promise((r) => setTimeout(r, 20 * attempt));
  }
  return {
    url: databaseUrl(base, name),
    drop: async () => {
      await adminQuery(base, `drop database if exists "${name}" with (force)`);
    },
  };
}

async function adminQuery(base: string, statement: string) {
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    return await client.query(statement);
  } finally {
    await client.end();
  }
}

function databaseUrl(base: string, name: string) {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

let postgresTemplate: Promise<string> | undefined;

/**
 * A migrated PostgreSQL database to copy (CREATE DATABASE … TEMPLATE, much cheaper than migrating), named after
 * the migrations it holds, so later runs with the same migrations reuse it. Built under a temporary name and
 * renamed when complete, so a copy never starts from a half-migrated template, and no connection to it stays
 * open (PostgreSQL refuses to copy a database that has sessions). CI drops it with the other logo_test_ databases.
 */
function migratedPostgresTemplate(base: string): Promise<string> {
  postgresTemplate ??= (async () => {
    const name = `logo_test_template_${migrationsHash()}`;
    const exists = await adminQuery(base, `select 1 from pg_database where datname = '${name}'`);
    if (exists.rowCount) return name;
    const building = await createPostgresDatabase(base);
    const handle = connectPostgres({ url: building.url, poolMax: 2 });
    try {
      await handle.migrate();
    } finally {
      await handle.close();
    }
    const buildingName = new URL(building.url).pathname.slice(1);
    // Another test process may have finished the same template first: then ours is not needed.
    await adminQuery(base, `alter database "${buildingName}" rename to "${name}"`).catch(building.drop);
    return name;
  })();
  return postgresTemplate;
}

const pgliteDumps = new Map<"empty" | "migrated", Promise<Blob>>();

/**
 * A PGlite data directory as a tarball to start a database from (`connectPglite(dir, dump)`): "empty" is
 * initialised and holds no table, "migrated" has every migration applied. PGlite's initdb costs seconds of CPU,
 * so a dump is made once and kept in the temporary directory, named after the PGlite version and the
 * migrations, for every later test process (a run of one test file included).
 */
export function pgliteDump(kind: "empty" | "migrated"): Promise<Blob> {
  let dump = pgliteDumps.get(kind);
  if (!dump) {
    dump = (async () => {
      const version = JSON.parse(readFileSync(join(ROOT, "node_modules/@electric-sql/pglite/package.json"), "utf8"));
      const file = join(tmpdir(), `logo-test-pglite-${version.version}-${migrationsHash()}-${kind}.tar`);
      const kept = await readFile(file).catch(() => undefined);
      if (kept) return new Blob([kept]);
      const h = await connectPglite();
      if (kind === "migrated") await h.migrate();
      const made = await (h as unknown as { pglite: PGlite }).pglite.dumpDataDir("none");
      await h.close();
      // Written aside and renamed: another test process never reads half a file.
      const aside = `${file}.${process.pid}.tmp`;
      await writeFile(aside, Buffer.from(await made.arrayBuffer()));
      await rename(aside, file);
      return made;
    })();
    pgliteDumps.set(kind, dump);
  }
  return dump;
}

const ROOT = join(import.meta.dir, "..", "..");

/** Names the migrations in drizzle/ (a template made from other migrations is another template). */
function migrationsHash(): string {
  const migrations = join(ROOT, "drizzle");
  const hash = createHash("sha256");
  for (const file of readdirSync(migrations)
    .filter((f) => f.endsWith(".sql"))
    .sort())
    hash.update(file).update(readFileSync(join(migrations, file)));
  return hash.digest("hex").slice(0, 16);
}

export async function createTestDatabase(): Promise<DatabaseHandle & { url?: string }> {
  const base = testDatabaseUrl();
  if (base) {
    const { url, drop } = await createPostgresDatabase(base, await migratedPostgresTemplate(base));
    const handle = connectPostgres({ url, poolMax: 20 });
    // A no-op on the migrated copy; it keeps the guarantee (and the check) that the schema is current.
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
  return connectPglite(undefined, await pgliteDump("migrated"));
}

/**
 * Per user and per mode (the live account and the test account are two accounts, each with its own rows):
 * balance = sum(ledger) and balance >= 0, and every lifetime total of credit_account equals its
 * sum over the ledger (src/services/credits.ts CREDIT_TOTALS); returns the offending rows (empty when sound).
 */
export async function ledgerViolations(db: Executor) {
  return queryRows<{
    user_id: string;
    livemode: boolean;
    balance: number | null;
    ledger: number | null;
    totals: [number, number, number, number] | null;
    ledger_totals: [number, number, number, number] | null;
  }>(db, sql.raw(LEDGER_VIOLATIONS_SQL));
}

/**
 * Accounts (user, mode) whose balance differs from the sum of their ledger rows of that mode, is negative, or whose lifetime totals differ from
 * their ledger's (the fleet test runs the same query on its own pool: scripts/fleet/checks.ts).
 */
export const LEDGER_VIOLATIONS_SQL = `
    with l as (
      select user_id, livemode, sum(amount)::int as ledger,
             array[coalesce(sum(amount) filter (where type in ('purchase', 'purchase_refund')), 0)::int,
                   coalesce(-sum(amount) filter (where type in ('generation', 'asset')), 0)::int,
                   coalesce(sum(amount) filter (where type in ('refund', 'asset_refund')), 0)::int,
                   coalesce(sum(amount) filter (where type = 'admin_adjustment'), 0)::int] as ledger_totals
      from credit_transaction group by user_id, livemode)
    select coalesce(a.user_id, l.user_id) as user_id, coalesce(a.livemode, l.livemode) as livemode, a.balance, l.ledger,
           array[a.total_purchased, a.total_spent, a.total_refunded, a.total_adjusted] as totals, l.ledger_totals
    from credit_account a full outer join l on l.user_id = a.user_id and l.livemode = a.livemode
    where coalesce(a.balance, 0) <> coalesce(l.ledger, 0) or a.balance < 0
       or coalesce(array[a.total_purchased, a.total_spent, a.total_refunded, a.total_adjusted], array[0, 0, 0, 0])
          <> coalesce(l.ledger_totals, array[0, 0, 0, 0])`;
