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
  /**
   * LISTEN on `channel` over a connection of its own (PostgreSQL: a dedicated client, never a pooled one, which
   * would lose the LISTEN on release; PGlite: its single connection's `listen`). Rejects when it cannot connect.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<Listening>;
}

/** A LISTEN in effect on a connection of its own. */
export interface Listening {
  /** Resolves (with why) when the connection is lost; the LISTEN is gone then and must be made again. */
  lost: Promise<Error>;
  /** A round trip on the listening connection: rejects if it no longer answers (a silent network partition). */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** A channel name is an identifier in LISTEN, not a parameter: only plain names are accepted. */
const CHANNEL = /^[a-z_][a-z0-9_]*$/;

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
    (channel, onPayload) => listenPostgres(o, channel, onPayload),
  );
}

async function listenPostgres(
  o: PostgresOptions,
  channel: string,
  onPayload: (payload: string) => void,
): Promise<Listening> {
  if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
  const timeout = o.connectTimeoutMs ?? 5000;
  const client = new pg.Client({
    connectionString: o.url,
    connectionTimeoutMillis: timeout,
    query_timeout: timeout,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ssl: o.ssl ? { rejectUnauthorized: true } : undefined,
  });
  let onLost: (err: Error) => void = () => {};
  const lost = new Promise<Error>((resolve) => {
    onLost = resolve;
  });
  // Listened to before connecting: a connection lost at any moment resolves `lost` and never crashes the process.
  client.on("error", (err) => onLost(err));
  client.on("end", () => onLost(new Error("the listening connection ended")));
  client.on("notification", (m) => {
    if (m.channel === channel && m.payload) onPayload(m.payload);
  });
  const end = () => client.end().catch(() => undefined);
  try {
    await client.connect();
    await client.query(`LISTEN ${channel}`);
  } catch (err) {
    await end();
    throw err;
  }
  return {
    lost,
    async check() {
      await client.query("select 1");
    },
    close: end,
  };
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
    async (channel, onPayload) => {
      if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
      const unlisten = await client.listen(channel, onPayload);
      // In the process: the connection is lost only when the database is closed.
      return {
        lost: new Promise<Error>(() => {}),
        check: async () => {
          await client.query("select 1");
        },
        close: async () => {
          if (!client.closed) await unlisten();
        },
      };
    },
  );
  return Object.assign(h, { pglite: client });
}

function handle(
  db: Database,
  kind: DatabaseHandle["kind"],
  migrate: () => Promise<void>,
  close: () => Promise<void>,
  listen: DatabaseHandle["listen"],
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
    listen,
  };
}

/** Rows of a raw `db.execute(sql…)`: both drivers answer `{ rows }`. */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const res = (await db.execute(query)) as unknown as { rows: T[] };
  return res.rows;
}
