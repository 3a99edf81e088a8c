import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import { asset, prediction } from "../../db/schema";
import type { AssetFileRecord, AssetRow } from "../../db/schemas/assets";
import { ACTIVE_ASSET_STATUSES, type AssetErrorCode } from "../../domain/assets";
import { fileKeyOfUrl, isStoredType, newFileKey, type StoredType } from "../../domain/files";
import { backgroundLoop, type Lifecycle } from "../../lib/lifecycle";
import { createImagingPool, type ImagingPool, nativeSlotsFor } from "../deliverables/pool";
import { ImagingError } from "../imaging";
import type { Needs } from "../ports";
import { finishAsset } from "./lifecycle";

/** The ports this module uses. */
type RunnerDeps = Needs<"config" | "db" | "clock" | "logger" | "storage">;

/**
 * Runs deliverables. Jobs live in PostgreSQL: any instance claims a queued one (FOR UPDATE SKIP LOCKED), marks it
 * processing under its lease (ASSET_LEASE_MS, renewed while it works), reads the source from our storage, makes
 * the files in a worker thread (never on the event loop), stores them and finishes the asset. A job whose instance
 * died keeps its lease until it runs out; then any instance takes it over. A job that took its instance down
 * MAX_ATTEMPTS times fails (refunded) instead of taking the next one down too. Deadlines are the reconciler's.
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

const MAX_ATTEMPTS = 3;

export function createAssetRunner(deps: RunnerDeps, pool?: ImagingPool): AssetRunner {
  const instanceId = randomUUID();
  // ASSET_WORKERS=0: a web-only instance, which records and serves assets but leaves the work to others.
  const capacity = pool?.size ?? deps.config.ASSET_WORKERS;
  const workers =
    pool ??
    (capacity > 0
      ? createImagingPool({ size: capacity, nativeSlots: nativeSlotsFor(deps.config.UV_THREADPOOL_SIZE) })
      : null);
  const running = new Set<Promise<void>>();
  let claiming: Promise<void> | null = null;
  let again = false;
  let closed = false;

  const claimLoop = async () => {
    do {
      again = false;
      while (!closed && workers && running.size < capacity) {
        const row = await claimOne(deps, instanceId);
        if (!row) break;
        const job = runJob(deps, workers, instanceId, row).finally(() => {
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

/** Takes the oldest queued job, or one whose lease ran out, for this instance. */
async function claimOne(deps: RunnerDeps, instanceId: string): Promise<AssetRow | null> {
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const [next] = await tx
      .select({ id: asset.id })
      .from(asset)
      .where(
        or(
          eq(asset.status, "queued"),
          and(eq(asset.status, "processing"), or(sql`${asset.leaseUntil} is null`, lt(asset.leaseUntil, now))),
        ),
      )
      .orderBy(asc(asset.createdAt))
      .limit(1)
      .for("update", { skipLocked: true });
    if (!next) return null;
    const [row] = await tx
      .update(asset)
      .set({
        status: "processing",
        claimedBy: instanceId,
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

async function runJob(deps: RunnerDeps, pool: ImagingPool, instanceId: string, row: AssetRow) {
  const log = deps.logger.child({ assetId: row.id, kind: row.kind, attempt: row.attempts });
  if (row.attempts > MAX_ATTEMPTS) {
    log.error("asset job was interrupted too often; failing and refunding");
    await finishAsset(deps, row.id, { status: "failed", error: "internal_error" });
    return;
  }
  // Keep the lease while the job runs, so no other instance takes it over.
  const renew = setInterval(
    () => {
      const now = deps.clock.now();
      deps.db
        .update(asset)
        .set({ leaseUntil: new Date(now.getTime() + deps.config.ASSET_LEASE_MS) })
        .where(
          and(eq(asset.id, row.id), eq(asset.claimedBy, instanceId), inArray(asset.status, [...ACTIVE_ASSET_STATUSES])),
        )
        .catch((err: unknown) => log.warn({ err }, "asset lease renewal failed"));
    },
    Math.max(50, Math.floor(deps.config.ASSET_LEASE_MS / 3)),
  );
  try {
    const source = await readSource(deps, row);
    if (typeof source === "string") {
      await finishAsset(deps, row.id, { status: "failed", error: source });
      return;
    }
    const started = performance.now();
    const made = await pool.run(
      row.kind,
      source.bytes,
      row.options as Record<string, unknown>,
      { maxPixels: deps.config.ASSET_MAX_PIXELS, maxSide: deps.config.ASSET_MAX_SIDE },
      { brandName: source.brandName },
    );
    const files: AssetFileRecord[] = [];
    for (const f of made) {
      const type = storedType(f.contentType);
      const key = newFileKey(type);
      await deps.storage.put(key, f.bytes, type);
      files.push({ name: f.name, key, contentType: type, bytes: f.bytes.byteLength, width: f.width, height: f.height });
    }
    const done = await finishAsset(deps, row.id, { status: "succeeded", files });
    log.info({ ms: Math.round(performance.now() - started), files: files.length, won: done !== null }, "asset made");
  } catch (err) {
    if (err instanceof ImagingError) {
      log.warn({ code: err.code, reason: err.message }, "asset source refused; failing and refunding");
      await finishAsset(deps, row.id, { status: "failed", error: err.code });
      return;
    }
    // Storage or database trouble: leave the job processing; its lease runs out and any instance retries it
    // (up to MAX_ATTEMPTS), and the deadline refunds it at the latest.
    log.error({ err }, "asset job failed; it will be retried after its lease");
  } finally {
    clearInterval(renew);
  }
}

/** The source image's bytes from our storage, or why there are none (the asset then fails, refunded). */
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
