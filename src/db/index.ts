import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { guardPool } from "./outage";
import * as schema from "./schema";

export { schema };

/** Both connections are Drizzle pg databases: code above this file never knows which one it has. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** A database or a transaction: service functions accept either. */
export type Executor = Database | Tx;

export interface DatabaseHandle {
  db: Database;
  kind: "postgres" | "pglite";
  migrate(): Promise<void>;
  ping(): Promise<number>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));

export interface PostgresOptions {
  url: string;
  poolMax?: number;
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  ssl?: boolean;
}

export function connectPostgres(o: PostgresOptions): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.poolMax ?? 10,
    idleTimeoutMillis: o.idleTimeoutMs ?? 30000,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    // A query on an established connection is bounded like a connect: a silent network (a partition)
    // otherwise holds the request forever. Keep-alive notices dead peers on idle connections.
    query_timeout: o.connectTimeoutMs ?? 5000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ssl: o.ssl ? { rejectUnauthorized: true } : undefined,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  guardPool(pool);
  const db = drizzlePg(pool, { schema }) as NodePgDatabase<typeof schema>;
  return handle(
    db as unknown as Database,
    "postgres",
    () => migratePg(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    () => pool.end(),
  );
}

/** Embedded PostgreSQL (WASM). `dataDir` undefined = in memory. */
export async function connectPglite(dataDir?: string, loadDataDir?: Blob | File): Promise<DatabaseHandle> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir, loadDataDir ? { loadDataDir } : {});
  const db = drizzlePglite(client, { schema });
  const h = handle(
    db as unknown as Database,
    "pglite",
    () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    () => client.close(),
  );
  return Object.assign(h, { pglite: client });
}

function handle(
  db: Database,
  kind: DatabaseHandle["kind"],
  migrate: () => Promise<void>,
  close: () => Promise<void>,
): DatabaseHandle {
  let closed = false;
  return {
    db,
    kind,
    migrate,
    async ping() {
      const started = performance.now();
      await db.execute(sql`select 1`);
      return Math.round((performance.now() - started) * 100) / 100;
    },
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}

/** Rows of a raw `db.execute(sql…)`: both drivers answer `{ rows }`. */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const res = (await db.execute(query)) as unknown as { rows: T[] };
  return res.rows;
}
