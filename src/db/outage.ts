import type pg from "pg";
import { ApiError } from "../lib/errors";

/**
 * Telling a database outage from a bug. A request that fails because PostgreSQL refused, dropped or
 * stopped answering its connection is answered 503 with Retry-After (the client should retry), never
 * 500 (which says the request itself broke something).
 */

/** Seconds a client is asked to wait before retrying during an outage. */
export const OUTAGE_RETRY_AFTER_SECONDS = 2;

export const databaseUnavailable = (message = "The database is unavailable right now; retry shortly.") =>
  new ApiError("service_unavailable", message, undefined, { "Retry-After": String(OUTAGE_RETRY_AFTER_SECONDS) });

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ConnectionRefused",
  "ConnectionClosed",
]);

/** SQLSTATEs that say the server went away or will not take connections, not that the query was wrong. */
const SERVER_GONE = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down, recovery)
  "53300", // too_many_connections
]);

const MESSAGES = [
  "connection terminated", // "Connection terminated unexpectedly", "Connection terminated due to connection timeout"
  "timeout exceeded when trying to connect", // pg.Pool connectionTimeoutMillis
  "query read timeout", // pg query_timeout: an established connection stopped answering
  "not queryable", // a client whose connection already failed
  "connection ended",
  "socket closed",
  "econnrefused",
  "econnreset",
];

/**
 * True when `err` (or any error in its `cause` chain: Drizzle wraps driver errors, Better Auth wraps
 * adapter errors) is a lost, refused or timed-out database connection.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string") {
      if (NETWORK_CODES.has(code) || SERVER_GONE.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
    }
    if (typeof message === "string") {
      const m = message.toLowerCase();
      if (MESSAGES.some((s) => m.includes(s))) return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const checkedOut = new WeakSet<pg.PoolClient>();

/**
 * Makes a pg.Pool survive lost connections:
 *
 * - A checked-out client (one in a transaction) whose connection fails emits "error" with no pool
 *   listener attached: unheard, that crashes the process. The query waiting on it fails anyway.
 * - Drizzle's transaction() calls BEGIN before its try/finally: when BEGIN fails the client is never
 *   released, and each such failure keeps one pool slot until the pool is exhausted for good. A client
 *   whose connection failed while checked out is therefore released (and so discarded) at once; the
 *   holder's own release, if it comes, does nothing.
 * - pg's query_timeout answers the caller but keeps the connection, with the unanswered query still at
 *   its head: every later query on that client (a transaction's ROLLBACK, the next request to borrow
 *   it) would wait behind it for another full timeout. A connection that stopped answering is not
 *   trusted again: it is destroyed, which fails the queries queued on it at once.
 */
export function guardPool(pool: pg.Pool): void {
  pool.on("acquire", (client) => checkedOut.add(client));
  pool.on("release", (_err, client) => checkedOut.delete(client));
  pool.on("connect", (client) => {
    client.on("error", (err) => {
      if (!checkedOut.has(client)) return; // an idle client: the pool's own listener discards it
      const release = client.release;
      let released = false;
      client.release = (e?: Error | boolean) => {
        if (released) return;
        released = true;
        release(e ?? err);
      };
      client.release(err);
    });
    destroyOnReadTimeout(client);
  });
}

function destroyOnReadTimeout(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const destroy = (err: unknown) => {
    // pg's own remedy in pipeline mode; its connection is not public API.
    if (err instanceof Error && err.message === "Query read timeout")
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const last = args.at(-1);
    if (typeof last === "function") {
      args[args.length - 1] = (err: unknown, res: unknown) => {
        destroy(err);
        (last as (err: unknown, res: unknown) => void)(err, res);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result instanceof Promise) result.catch(destroy);
    return result;
  };
}

/**
 * Whether the database answers a ping within `withinMs`: for callers that only see a bare 500 from a
 * library (Better Auth) and must tell an outage from a bug without waiting a full connect timeout.
 */
export async function databaseAnswers(database: { ping(): Promise<number> }, withinMs = 500): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), withinMs);
  });
  try {
    return await Promise.race([database.ping().then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
