import { and, asc, inArray, sql } from "drizzle-orm";
import { prediction } from "../db/schema";
import { ACTIVE_STATUSES, isFinal } from "../domain/predictions";
import { backgroundLoop, type Lifecycle } from "../lib/lifecycle";
import { failOverdueAssets } from "./assets/runner";
import { leaseFree } from "./jobs";
import { finishPrediction, type LifecycleDeps, type PredictionRow, syncFromProvider } from "./predictions";
import { providerFor } from "./providers/provider";

/** The reconciler drives predictions through their lifecycle: its ports. */
type ReconcilerDeps = LifecycleDeps;

/**
 * The background reconciler: so that a failed generation is refunded even when nobody polls, and a deliverable
 * past its deadline is failed and refunded whatever became of the instance running it.
 * Each pass claims stale active predictions with FOR UPDATE SKIP LOCKED (several instances share
 * the work and never take the same row), marks them synced, refreshes them from the provider, and
 * fails + refunds those past PREDICTION_DEADLINE_MS. The final transition itself is the guarded
 * one in finishPrediction, so a poller racing the reconciler still refunds only once.
 */

const BATCH = 50;
const PARALLEL = 5;

export interface ReconcileResult {
  claimed: number;
  refreshed: number;
  timedOut: number;
  /** deliverables past ASSET_DEADLINE_MS, failed and refunded */
  assetsTimedOut: number;
}

export async function reconcileOnce(deps: ReconcilerDeps): Promise<ReconcileResult> {
  const { db, config } = deps;
  const now = deps.clock.now();
  const staleBefore = new Date(now.getTime() - config.PREDICTION_STALE_AFTER_MS);
  const claimed: PredictionRow[] = await db.transaction(async (tx) => {
    const rows = await tx
      .select({ id: prediction.id })
      .from(prediction)
      .where(
        and(
          inArray(prediction.status, [...ACTIVE_STATUSES]),
          // A sync is a lease of PREDICTION_STALE_AFTER_MS: the prediction is free once the last one is that old.
          leaseFree(prediction.lastSyncedAt, staleBefore),
        ),
      )
      .orderBy(sql`${prediction.lastSyncedAt} asc nulls first`, asc(prediction.createdAt))
      .limit(BATCH)
      .for("update", { skipLocked: true });
    if (rows.length === 0) return [];
    return tx
      .update(prediction)
      .set({ lastSyncedAt: now })
      .where(
        inArray(
          prediction.id,
          rows.map((r) => r.id),
        ),
      )
      .returning();
  });

  const result: ReconcileResult = { claimed: claimed.length, refreshed: 0, timedOut: 0, assetsTimedOut: 0 };
  const deadlineBefore = now.getTime() - config.PREDICTION_DEADLINE_MS;
  for (let i = 0; i < claimed.length; i += PARALLEL) {
    await Promise.all(
      claimed.slice(i, i + PARALLEL).map(async (row) => {
        try {
          let current = row;
          if (row.providerPredictionId) {
            current = await syncFromProvider(deps, row);
            result.refreshed++;
          }
          if (!isFinal(current.status) && current.createdAt.getTime() <= deadlineBefore) {
            if (current.providerPredictionId)
              await providerFor(deps, current.livemode)
                ?.cancel(current.providerPredictionId)
                .catch(() => undefined);
            const failed = await finishPrediction(deps, row.id, { status: "failed", error: "timeout" });
            if (failed) {
              result.timedOut++;
              deps.logger.warn({ predictionId: row.id }, "prediction passed its deadline; failed and refunded");
            }
          }
        } catch (err) {
          deps.logger.error({ err, predictionId: row.id }, "reconcile failed for a prediction");
        }
      }),
    );
  }
  // Every job kind has a deadline: deliverables too (their lease takeover is the runner's).
  result.assetsTimedOut = await failOverdueAssets(deps).catch((err: unknown) => {
    deps.logger.warn({ err }, "asset deadline pass failed");
    return 0;
  });
  return result;
}

/** Runs reconcileOnce every RECONCILER_INTERVAL_MS (on the deps' clock); off when it is 0. */
export function createReconcilerLifecycle(deps: ReconcilerDeps): Lifecycle {
  return backgroundLoop(async (signal) => {
    if (deps.config.RECONCILER_INTERVAL_MS <= 0) return;
    for (;;) {
      await deps.clock.sleep(deps.config.RECONCILER_INTERVAL_MS, signal);
      if (signal.aborted) return;
      try {
        const r = await reconcileOnce(deps);
        if (r.claimed > 0) deps.logger.debug(r, "reconciler pass");
      } catch (err) {
        // A failed pass (the database is away) is logged; the next one runs on schedule.
        deps.logger.error({ err }, "reconciler pass failed");
      }
    }
  });
}
