import { and, asc, eq, inArray, lte, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { asset, prediction } from "../../db/schema";
import type { AssetFileRecord, AssetRow } from "../../db/schemas/assets";
import { ACTIVE_ASSET_STATUSES, type AssetErrorCode } from "../../domain/assets";
import { fileKeyOfUrl, isStoredType, newFileKey, type StoredType } from "../../domain/files";
import type { Config } from "../../env";
import { backgroundLoop, type Lifecycle } from "../../lib/lifecycle";
import type { Logger } from "../../lib/logger";
import {
  createImagingPool,
  ImagingJobTimeout,
  type ImagingPool,
  ImagingPoolClosed,
  nativeSlotsFor,
} from "../deliverables/pool";
import { ImagingError } from "../imaging";
import { holdLease, leaseFree, newHolder, nextRetry, type RetryPolicy } from "../jobs";
import type { Needs } from "../ports";
import { finishAsset } from "./lifecycle";

/** The ports this module uses. */
type RunnerDeps = Needs<"config" | "db" | "clock" | "logger" | "storage">;

/**
 * Runs deliverables. Jobs live in PostgreSQL: any instance claims one (FOR UPDATE SKIP LOCKED) — round-robin
 * across users: the user whose latest claim is oldest goes first, then their oldest job — marks it processing
 * under a fresh holder and a lease (ASSET_LEASE_MS, renewed while it works; ../jobs), reads the source from our
 * storage, makes the files in a worker thread (never on the event loop), stores them and finishes the asset,
 * every write guarded by its holder. A failure caused by the source (the image layer refused it, threw on it, or
 * ran past its time on it) is final at once and refunded. Storage or database trouble gives the job back for a
 * later attempt (ASSET_MAX_ATTEMPTS, ASSET_RETRY_BACKOFF_MS); so does an instance's death, by its lease running
 * out. Deadlines are the reconciler's.
 */

export interface AssetRunner {
  /** Look for work now (after a create on this instance); returns at once. */
  kick(): void;
  /** Resolves when no job of this instance is running or being claimed (tests, shutdown). */
  idle(): Promise<void>;
  /** The idle poll for jobs created elsewhere or left by a dead instance. */
  lifecycle: Lifecycle;
  /** Stops claiming, waits for running jobs, ends the worker threads. */
  close(): Promise<void>;
}

/** ASSET_MAX_ATTEMPTS and ASSET_RETRY_BACKOFF_MS as the job kit's retry policy. */
export const assetRetryPolicy = (config: Config): RetryPolicy => ({
  maxAttempts: config.ASSET_MAX_ATTEMPTS,
  backoffMs: config.ASSET_RETRY_BACKOFF_MS,
  jitter: 0.2,
});

export function createAssetRunner(deps: RunnerDeps, pool?: ImagingPool): AssetRunner {
  // ASSET_WORKERS=0: a web-only instance, which records and serves assets but leaves the work to others.
  const capacity = pool?.size ?? deps.config.ASSET_WORKERS;
  const workers =
    pool ??
    (capacity > 0
      ? createImagingPool({ size: capacity, nativeSlots: nativeSlotsFor(deps.config.UV_THREADPOOL_SIZE) })
      : null);
  const retry = assetRetryPolicy(deps.config);
  const running = new Set<Promise<void>>();
  let claiming: Promise<void> | null = null;
  let again = false;
  let closed = false;

  const claimLoop = async () => {
    do {
      again = false;
      while (!closed && workers && running.size < capacity) {
        const row = await claimOne(deps);
        if (!row) break;
        const job = runJob(deps, workers, row, retry).finally(() => {
          running.delete(job);
          if (!closed) runner.kick();
        });
        running.add(job);
      }
    } while (again && !closed);
  };

  const runner: AssetRunner = {
    kick() {
      if (closed) return;
      if (claiming) {
        again = true;
        return;
      }
      claiming = claimLoop()
        .catch((err: unknown) => deps.logger.error({ err }, "asset claim failed"))
        .finally(() => {
          claiming = null;
        });
    },
    async idle() {
      while (claiming || running.size > 0) await Promise.all([claiming, ...running]);
    },
    lifecycle: backgroundLoop(async (signal) => {
      if (deps.config.ASSET_POLL_INTERVAL_MS <= 0) return;
      while (!signal.aborted) {
        runner.kick();
        await deps.clock.sleep(deps.config.ASSET_POLL_INTERVAL_MS, signal);
      }
    }),
    async close() {
      closed = true;
      await runner.lifecycle.stop();
      await runner.idle();
      await workers?.close();
    },
  };
  return runner;
}

/**
 * Takes the next job for a fresh holder: queued, or processing with no live lease (its instance died, or it was
 * given back to wait out a retry's backoff). Users take turns: the one whose latest claim is oldest (or who has
 * none) first, then that user's oldest job; so one user's long queue delays another's job by one job, not by the
 * whole queue.
 */
async function claimOne(deps: RunnerDeps): Promise<AssetRow | null> {
  const now = deps.clock.now();
  const holder = newHolder();
  const turn = alias(asset, "turn");
  return deps.db.transaction(async (tx) => {
    const [next] = await tx
      .select({ id: asset.id })
      .from(asset)
      .where(or(eq(asset.status, "queued"), and(eq(asset.status, "processing"), leaseFree(asset.leaseUntil, now))))
      .orderBy(
        sql`(select max(${turn.claimedAt}) from ${asset} ${turn} where ${turn.userId} = ${asset.userId}) asc nulls first`,
        asc(asset.createdAt),
      )
      .limit(1)
      .for("update", { skipLocked: true });
    if (!next) return null;
    const [row] = await tx
      .update(asset)
      .set({
        status: "processing",
        claimedBy: holder,
        claimedAt: now,
        leaseUntil: new Date(now.getTime() + deps.config.ASSET_LEASE_MS),
        startedAt: sql`coalesce(${asset.startedAt}, ${now})`,
        attempts: sql`${asset.attempts} + 1`,
        updatedAt: now,
        version: sql`${asset.version} + 1`,
      })
      .where(eq(asset.id, next.id))
      .returning();
    return row ?? null;
  });
}

/** Why the image layer's failure on this source is final, or null when it says nothing about the source. */
function sourceFailure(err: unknown): AssetErrorCode | null {
  if (err instanceof ImagingError) return err.code;
  // The pool was closed under the job (shutdown): another attempt, here or elsewhere.
  if (err instanceof ImagingPoolClosed) return null;
  // Its worker ran out of time on this source: it would again.
  if (err instanceof ImagingJobTimeout) return "source_too_large";
  // An exception of the decoder or the tracer on this source, or a worker that died of it.
  return "source_invalid";
}

async function runJob(deps: RunnerDeps, pool: ImagingPool, row: AssetRow, retry: RetryPolicy) {
  const holder = row.claimedBy ?? "";
  const log = deps.logger.child({ assetId: row.id, kind: row.kind, attempt: row.attempts });
  if (row.attempts > retry.maxAttempts) {
    log.error("asset job was interrupted too often; failing and refunding");
    await finishAsset(deps, row.id, { status: "failed", error: "internal_error" }, holder);
    return;
  }
  const lease = holdLease({
    clock: deps.clock,
    leaseMs: deps.config.ASSET_LEASE_MS,
    heldUntil: row.leaseUntil ?? deps.clock.now(),
    renew: async (until) => {
      const renewed = await deps.db
        .update(asset)
        .set({ leaseUntil: until })
        .where(
          and(eq(asset.id, row.id), eq(asset.claimedBy, holder), inArray(asset.status, [...ACTIVE_ASSET_STATUSES])),
        )
        .returning({ id: asset.id });
      return renewed.length > 0;
    },
    onLost: (reason, err) => log.warn({ reason, err }, "asset lease lost; the job is no longer this worker's"),
  });
  try {
    const source = await readSource(deps, row);
    if (typeof source === "string") {
      await finishAsset(deps, row.id, { status: "failed", error: source }, holder);
      return;
    }
    const started = performance.now();
    let made: Awaited<ReturnType<ImagingPool["run"]>>;
    try {
      made = await pool.run(
        row.kind,
        source.bytes,
        row.options as Record<string, unknown>,
        { maxPixels: deps.config.ASSET_MAX_PIXELS, maxSide: deps.config.ASSET_MAX_SIDE },
        { brandName: source.brandName },
      );
    } catch (err) {
      const code = sourceFailure(err);
      if (!code) throw err;
      log.warn({ code, reason: err instanceof Error ? err.message : String(err) }, "asset source refused; failed");
      await finishAsset(deps, row.id, { status: "failed", error: code }, holder);
      return;
    }
    if (lease.signal.aborted) return;
    const files: AssetFileRecord[] = [];
    for (const f of made) {
      const type = storedType(f.contentType);
      const key = newFileKey(type);
      await deps.storage.put(key, f.bytes, type);
      files.push({ name: f.name, key, contentType: type, bytes: f.bytes.byteLength, width: f.width, height: f.height });
    }
    // A holder that lost its lease writes nothing more (its stored files are orphans; housekeeping removes them).
    if (lease.signal.aborted) return;
    const done = await finishAsset(deps, row.id, { status: "succeeded", files }, holder);
    log.info({ ms: Math.round(performance.now() - started), files: files.length, won: done !== null }, "asset made");
  } catch (err) {
    await retryLater(deps, row, holder, retry, err, log).catch((e: unknown) =>
      // The database is away: the lease runs out and any instance takes the job over (its attempts still count).
      log.error({ err: e }, "asset job could not be given back; its lease will run out"),
    );
  } finally {
    lease.release();
  }
}

/**
 * Storage or database trouble (or the pool closed under the job): the job goes back to the queue, claimable once
 * its retry's backoff has passed, while attempts remain; then it fails, refunded. Guarded by the holder.
 */
async function retryLater(
  deps: RunnerDeps,
  row: AssetRow,
  holder: string,
  retry: RetryPolicy,
  err: unknown,
  log: Logger,
) {
  const next = nextRetry(retry, row.attempts);
  if (!next.retry) {
    log.error({ err }, "asset job failed on its last attempt; failing and refunding");
    await finishAsset(deps as RunnerDeps, row.id, { status: "failed", error: "internal_error" }, holder);
    return;
  }
  log.warn({ err, retryInMs: next.delayMs }, "asset job failed; it will be tried again");
  const now = deps.clock.now();
  await deps.db
    .update(asset)
    .set({ claimedBy: null, leaseUntil: new Date(now.getTime() + next.delayMs), updatedAt: now })
    .where(and(eq(asset.id, row.id), eq(asset.claimedBy, holder), eq(asset.status, "processing")));
}

/** The source image from our own storage, and the brand name a deliverable may set (a lockup, a manifest). */
async function readSource(
  deps: RunnerDeps,
  row: AssetRow,
): Promise<{ bytes: Uint8Array; brandName: string | null } | AssetErrorCode> {
  const [p] = await deps.db
    .select({ output: prediction.output, input: prediction.input })
    .from(prediction)
    .where(eq(prediction.id, row.predictionId));
  const url = p?.output?.[row.outputIndex];
  const key = url ? fileKeyOfUrl(url) : null;
  if (!key) return "source_invalid";
  const bytes = await deps.storage.get(key);
  if (!bytes) return "source_invalid";
  const brandName = (p?.input as { brandName?: unknown } | undefined)?.brandName;
  return { bytes, brandName: typeof brandName === "string" ? brandName : null };
}

function storedType(contentType: string): StoredType {
  if (!isStoredType(contentType)) throw new Error(`the image layer made a file of unknown type ${contentType}`);
  return contentType;
}

/** The reconciler's share of assets: those past ASSET_DEADLINE_MS fail and are refunded (any instance, once). */
export async function failOverdueAssets(deps: RunnerDeps): Promise<number> {
  const before = new Date(deps.clock.now().getTime() - deps.config.ASSET_DEADLINE_MS);
  const overdue = await deps.db
    .select({ id: asset.id })
    .from(asset)
    .where(and(inArray(asset.status, [...ACTIVE_ASSET_STATUSES]), lte(asset.createdAt, before)))
    .limit(100);
  let failed = 0;
  for (const { id } of overdue)
    if (await finishAsset(deps, id, { status: "failed", error: "deadline_exceeded" })) failed++;
  return failed;
}
