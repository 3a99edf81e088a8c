import { and, eq, gte, inArray, lt, lte, notExists, or, type SQL, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { type Executor, queryRows } from "../db";
import {
  idempotencyKey,
  outgoingWebhook,
  rateLimitBucket,
  signinAddressFailure,
  signinFailure,
  webhookDelivery,
} from "../db/schema";
import { isFileKey } from "../domain/files";
import { backgroundLoop, type Lifecycle } from "../lib/lifecycle";
import type { Needs } from "./ports";
import { SIGNIN_WINDOW_MS } from "./signin-throttle";

/**
 * Rows and files nothing needs any more, removed on a schedule (HOUSEKEEPING_INTERVAL_MS) by every instance:
 * - Idempotency-Key records past their 24 hours;
 * - sign-in failure counters (per account, per account and address) whose 15-minute window has passed, and rate
 *   limit windows (ours and Better Auth's) that have ended: an ended window starts over on its next hit anyway;
 * - outgoing webhook events with nothing pending whose last attempt ended more than WEBHOOK_RETENTION_DAYS ago,
 *   with their delivery rows;
 * - stored files that no prediction output and no asset file names, last modified more than
 *   STORAGE_ORPHAN_GRACE_MS ago (a file is written before the row that names it commits; a job runs for minutes
 *   at most, the grace period is a day by default).
 *
 * Several instances may run passes at once: the database part takes a transaction-level advisory lock (an
 * instance that finds it taken skips its pass, the storage sweep included), and every delete is idempotent, so a
 * file or row removed twice is no error. Time is the injected clock's.
 */

/** pg_try_advisory_xact_lock's key for the database part of a pass (any constant no other lock uses). */
const LOCK_KEY = 0x6c6f676f_01;
/** Webhook events per pass (a backlog drains over passes), and candidate files per reference query. */
const WEBHOOK_BATCH = 1000;
const FILE_BATCH = 1000;

export interface HousekeepingResult {
  /** false when another instance held the lock: this pass removed nothing (that instance does the work) */
  ranDatabasePart: boolean;
  idempotencyKeys: number;
  signinFailures: number;
  rateLimitWindows: number;
  webhookEvents: number;
  orphanFiles: number;
}

type HousekeepingDeps = Needs<"db" | "config" | "storage" | "clock" | "logger">;

/** Deletes the rows of `table` that `where` matches and counts them in the database (no row comes back). */
const deletedCount = async (db: Executor, table: PgTable, where: SQL | undefined) =>
  Number(
    (
      await queryRows<{ n: number | string }>(
        db,
        sql`with d as (delete from ${table} where ${where} returning 1) select count(*) as n from d`,
      )
    )[0]?.n ?? 0,
  );

export async function housekeepOnce(deps: HousekeepingDeps): Promise<HousekeepingResult> {
  const now = deps.clock.now();
  const result: HousekeepingResult = {
    ranDatabasePart: false,
    idempotencyKeys: 0,
    signinFailures: 0,
    rateLimitWindows: 0,
    webhookEvents: 0,
    orphanFiles: 0,
  };
  await deps.db.transaction(async (tx) => {
    const [lock] = await queryRows<{ locked: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(${LOCK_KEY}) as locked`,
    );
    if (!lock?.locked) return;
    result.ranDatabasePart = true;
    result.idempotencyKeys = await deletedCount(tx, idempotencyKey, lt(idempotencyKey.expiresAt, now));
    const windowStart = new Date(now.getTime() - SIGNIN_WINDOW_MS);
    result.signinFailures =
      (await deletedCount(tx, signinFailure, lte(signinFailure.windowStartedAt, windowStart))) +
      (await deletedCount(tx, signinAddressFailure, lte(signinAddressFailure.windowStartedAt, windowStart)));
    result.rateLimitWindows = await deletedCount(tx, rateLimitBucket, lte(rateLimitBucket.resetAt, now));
    // An event is kept while any attempt is pending or ended within the retention period; its deliveries go
    // with it (ON DELETE CASCADE).
    const keptSince = new Date(now.getTime() - deps.config.WEBHOOK_RETENTION_DAYS * 86_400_000);
    const expired = deps.db
      .select({ id: outgoingWebhook.id })
      .from(outgoingWebhook)
      .where(
        and(
          lt(outgoingWebhook.createdAt, keptSince),
          notExists(
            deps.db
              .select({ one: sql`1` })
              .from(webhookDelivery)
              .where(
                and(
                  eq(webhookDelivery.webhookRowId, outgoingWebhook.id),
                  or(
                    eq(webhookDelivery.status, "pending"),
                    gte(sql`coalesce(${webhookDelivery.completedAt}, ${webhookDelivery.createdAt})`, keptSince),
                  ),
                ),
              ),
          ),
        ),
      )
      .limit(WEBHOOK_BATCH);
    result.webhookEvents = await deletedCount(tx, outgoingWebhook, inArray(outgoingWebhook.id, expired));
  });
  // The storage sweep lists every file: only the instance that did the database part does it this time.
  if (result.ranDatabasePart) result.orphanFiles = await deleteOrphanFiles(deps, now);
  return result;
}

/**
 * Stored files older than the grace period that nothing names. Only keys of our own form are considered (other
 * objects in a shared bucket are left alone); a prediction names a file by the last segment of an output URL
 * (whatever PUBLIC_URL or S3_PUBLIC_URL was when it was written), an asset by its files' `key`.
 */
async function deleteOrphanFiles(deps: HousekeepingDeps, now: Date): Promise<number> {
  const olderThan = now.getTime() - deps.config.STORAGE_ORPHAN_GRACE_MS;
  let deleted = 0;
  let candidates: string[] = [];
  const sweep = async () => {
    for (const key of await unnamed(deps, candidates)) {
      await deps.storage.delete(key);
      deleted++;
    }
    candidates = [];
  };
  // The whole listing, a batch of candidates at a time: each batch is one query against the names in use.
  for await (const file of deps.storage.list()) {
    if (isFileKey(file.key) && file.lastModified.getTime() < olderThan) candidates.push(file.key);
    if (candidates.length >= FILE_BATCH) await sweep();
  }
  if (candidates.length) await sweep();
  return deleted;
}

/** Of these keys, those no prediction output and no asset file names. */
async function unnamed(deps: HousekeepingDeps, keys: string[]): Promise<string[]> {
  const rows = await queryRows<{ key: string }>(
    deps.db,
    sql`with candidate as (select jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb) as key),
        named as (
          select substring(u from '[^/]+$') as key
            from prediction p cross join lateral jsonb_array_elements_text(p.output) u
           where p.output is not null and jsonb_typeof(p.output) = 'array'
          union
          select f->>'key' from asset a cross join lateral jsonb_array_elements(a.files) f
           where a.files is not null and jsonb_typeof(a.files) = 'array')
        select c.key from candidate c where not exists (select 1 from named n where n.key = c.key)`,
  );
  return rows.map((r) => r.key);
}

/** A pass every HOUSEKEEPING_INTERVAL_MS (on the deps' clock), the first one interval after the start; off at 0. */
export function createHousekeepingLifecycle(deps: HousekeepingDeps): Lifecycle {
  return backgroundLoop(async (signal) => {
    if (deps.config.HOUSEKEEPING_INTERVAL_MS <= 0) return;
    for (;;) {
      await deps.clock.sleep(deps.config.HOUSEKEEPING_INTERVAL_MS, signal);
      if (signal.aborted) return;
      try {
        const r = await housekeepOnce(deps);
        const removed = r.idempotencyKeys + r.signinFailures + r.rateLimitWindows + r.webhookEvents + r.orphanFiles;
        if (removed > 0) deps.logger.info(r, "housekeeping pass");
      } catch (err) {
        // The database or the storage is away: the next pass runs on schedule.
        deps.logger.warn({ err }, "housekeeping pass failed");
      }
    }
  });
}
