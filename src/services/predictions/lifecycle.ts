import { and, eq, inArray, lte, or, sql } from "drizzle-orm";
import { prediction } from "../../db/schema";
import type { PredictionRow, PredictionView } from "../../db/schemas/predictions";
import { MAX_OUTPUT_IMAGES } from "../../domain/limits";
import {
  ACTIVE_STATUSES,
  type FinalStatus,
  isFinal,
  PREDICTION_ERRORS,
  type PredictionErrorCode,
} from "../../domain/predictions";
import { conflict } from "../../lib/errors";
import { Waker } from "../../lib/waker";
import { toPrediction } from "../../schemas/predictions";
import { finishJob } from "../jobs";
import { copyOutputs } from "../outputs";
import type { Needs } from "../ports";
import { isProviderError, type ProviderPrediction, providerFor } from "../providers/provider";
import { loadRow } from "./queries";

/** The ports of a prediction's lifecycle: the database, the clock, the providers, storage and the change signal. */
export type LifecycleDeps = Needs<
  | "config"
  | "db"
  | "clock"
  | "logger"
  | "provider"
  | "testProvider"
  | "predictionSyncs"
  | "changes"
  | "storage"
  | "selfFetch"
>;

/**
 * The generation flow: charge and create, sync from the provider, finish (and refund) exactly once.
 *
 * Money rules, enforced here and by the database:
 * - the debit is in the same transaction as the prediction insert (applyCreditChange locks the balance row);
 * - every final transition is a conditional UPDATE … WHERE status IN ('queued','processing') in the
 *   same transaction as its refund, so two pollers, two instances or the reconciler can never both
 *   finish a prediction; the ledger's unique (prediction_id) WHERE type='refund' index backs that up.
 */

/** At most one provider call per prediction per this many ms, however many clients poll. */
export const MIN_SYNC_INTERVAL_MS = 1000;

// ---------------------------------------------------------------- finish (the one final transition)

export interface Finish {
  status: FinalStatus;
  output?: string[] | null;
  error?: PredictionErrorCode;
  raw?: unknown;
  /** The provider's own image URLs, kept for support whatever the outcome. */
  providerOutput?: string[];
}

/**
 * Moves an active prediction to a final status through the job lifecycle (finishJob): guarded by the status so that
 * only the first caller wins, with its `completed` webhook and — unless it succeeded — its refund in the same
 * transaction. Returns the updated row, or null when the prediction was already final (nothing changed).
 */
export async function finishPrediction(deps: LifecycleDeps, id: string, f: Finish): Promise<PredictionRow | null> {
  const now = deps.clock.now();
  const refund = f.status !== "succeeded";
  return finishJob<PredictionRow>(deps.db, {
    type: "prediction",
    now,
    transition: async (tx) => {
      const [row] = await tx
        .update(prediction)
        .set({
          status: f.status,
          output: f.status === "succeeded" ? (f.output?.slice(0, MAX_OUTPUT_IMAGES) ?? null) : null,
          error: f.error ? { code: f.error, message: PREDICTION_ERRORS[f.error] } : null,
          completedAt: now,
          lastSyncedAt: now,
          updatedAt: now,
          version: sql`${prediction.version} + 1`,
          ...(f.raw !== undefined && f.raw !== null ? { providerResponse: f.raw as object } : {}),
          ...(f.providerOutput ? { providerOutput: f.providerOutput } : {}),
          ...(refund ? { creditsRefunded: sql`${prediction.creditsCharged}` } : {}),
        })
        .where(and(eq(prediction.id, id), inArray(prediction.status, [...ACTIVE_STATUSES])))
        .returning();
      return row ?? null;
    },
    refundReason: () =>
      !refund ? null : f.status === "canceled" ? "Prediction canceled" : `Prediction failed (${f.error ?? "failed"})`,
    toResource: toPrediction,
  });
}

// ---------------------------------------------------------------- sync from the provider

/**
 * A fresh view of an active prediction: asks the provider at most once per MIN_SYNC_INTERVAL_MS per
 * prediction across every poller and instance (an in-process single-flight map, plus a conditional
 * claim of last_synced_at in the database). Final rows, rows not yet at the provider, and rows synced
 * within the interval are returned as stored.
 */
export async function refreshPrediction(deps: LifecycleDeps, row: PredictionRow): Promise<PredictionRow> {
  if (isFinal(row.status) || !row.providerPredictionId || !providerFor(deps, row.livemode)) return row;
  const inflight = deps.predictionSyncs;
  const running = inflight.get(row.id);
  if (running) return running;
  if (row.lastSyncedAt && deps.clock.now().getTime() - row.lastSyncedAt.getTime() < MIN_SYNC_INTERVAL_MS) {
    // Synced within the interval — possibly by a call that finished after this row was read (the
    // caller read it while that sync was in flight). Read it again so a poller overlapping a sync
    // never answers the state from before it.
    return loadRow(deps.db, row.id);
  }
  const p = (async () => {
    const claimed = await claimSync(deps, row.id);
    if (!claimed) return loadRow(deps.db, row.id);
    return syncFromProvider(deps, claimed);
  })().finally(() => inflight.delete(row.id));
  inflight.set(row.id, p);
  return p;
}

/** Takes the sync slot: sets last_synced_at only if the last sync is older than the interval. */
async function claimSync(deps: LifecycleDeps, id: string): Promise<PredictionRow | null> {
  const now = deps.clock.now();
  const [row] = await deps.db
    .update(prediction)
    .set({ lastSyncedAt: now })
    .where(
      and(
        eq(prediction.id, id),
        inArray(prediction.status, [...ACTIVE_STATUSES]),
        or(
          sql`${prediction.lastSyncedAt} is null`,
          lte(prediction.lastSyncedAt, new Date(now.getTime() - MIN_SYNC_INTERVAL_MS)),
        ),
      ),
    )
    .returning();
  return row ?? null;
}

/** One provider read and what follows from it. The caller has claimed the sync slot. */
export async function syncFromProvider(deps: LifecycleDeps, row: PredictionRow): Promise<PredictionRow> {
  const provider = providerFor(deps, row.livemode);
  if (!provider || !row.providerPredictionId || isFinal(row.status)) return row;
  let remote: ProviderPrediction;
  try {
    remote = await provider.get(row.providerPredictionId);
  } catch (err) {
    // Transport trouble is not a verdict: keep the prediction active; the deadline fails it eventually.
    deps.logger.warn(
      {
        predictionId: row.id,
        err,
        kind: isProviderError(err) ? err.kind : "unexpected",
        providerMessage: isProviderError(err) ? err.providerMessage : undefined,
      },
      "provider get failed",
    );
    return row;
  }
  return applyRemote(deps, row, remote);
}

async function applyRemote(
  deps: LifecycleDeps,
  row: PredictionRow,
  remote: ProviderPrediction,
): Promise<PredictionRow> {
  let finished: PredictionRow | null = null;
  switch (remote.status) {
    case "processing":
      return keepProcessing(deps, row, remote.raw);
    case "succeeded":
      if (remote.output && remote.output.length > 0) {
        // Provider URLs expire: the row says succeeded only once every image is in our storage, and
        // `output` lists our URLs. A copy that may work later leaves it processing (the next poll or
        // the reconciler tries again) until the deadline; one that cannot work fails and refunds it.
        const providerOutput = remote.output.slice(0, MAX_OUTPUT_IMAGES);
        const copied = await copyOutputs(deps, providerOutput);
        if (copied.ok) {
          finished = await finishPrediction(deps, row.id, {
            status: "succeeded",
            output: copied.urls,
            providerOutput,
            raw: remote.raw,
          });
          break;
        }
        const pastDeadline = deps.clock.now().getTime() - row.createdAt.getTime() >= deps.config.PREDICTION_DEADLINE_MS;
        const failures = copied.failures.map((f) => ({ reason: f.reason, kind: f.kind, url: f.url }));
        if (copied.kind === "transient" && !pastDeadline) {
          deps.logger.warn({ predictionId: row.id, failures }, "output copy failed; will retry");
          return keepProcessing(deps, row, remote.raw, providerOutput);
        }
        deps.logger.warn({ predictionId: row.id, failures }, "output copy failed for good; refunding");
        finished = await finishPrediction(deps, row.id, {
          status: "failed",
          error: copied.kind === "transient" ? "timeout" : "generation_failed",
          providerOutput,
          raw: remote.raw,
        });
        break;
      }
      deps.logger.warn({ predictionId: row.id }, "provider reported success without images; failing");
      finished = await finishPrediction(deps, row.id, {
        status: "failed",
        error: "generation_failed",
        raw: remote.raw,
      });
      break;
    case "failed":
      deps.logger.warn(
        { predictionId: row.id, providerError: remote.error },
        "provider reported the generation failed; refunding",
      );
      finished = await finishPrediction(deps, row.id, {
        status: "failed",
        error: "generation_failed",
        raw: remote.raw,
      });
      break;
    case "canceled":
      finished = await finishPrediction(deps, row.id, { status: "canceled", raw: remote.raw });
      break;
  }
  return finished ?? loadRow(deps.db, row.id);
}

/** Records the provider's answer on a prediction that stays active. */
async function keepProcessing(
  deps: LifecycleDeps,
  row: PredictionRow,
  raw: unknown,
  providerOutput?: string[],
): Promise<PredictionRow> {
  const [updated] = await deps.db
    .update(prediction)
    .set({
      providerResponse: raw as object,
      ...(providerOutput ? { providerOutput } : {}),
      updatedAt: deps.clock.now(),
    })
    .where(and(eq(prediction.id, row.id), inArray(prediction.status, [...ACTIVE_STATUSES])))
    .returning();
  return updated ?? loadRow(deps.db, row.id);
}

// ---------------------------------------------------------------- waits and cancel

/**
 * The caller's prediction as clients see it (GET /api/predictions/{id}), from the view its owner check read. A
 * final prediction never changes, so it is answered as read; an active one is loaded whole, refreshed and, for
 * `Prefer: wait=N`, waited for.
 */
export async function readOwnedPrediction(
  deps: LifecycleDeps,
  view: PredictionView,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<PredictionView> {
  if (isFinal(view.status)) return view;
  return refreshAndWait(deps, await loadRow(deps.db, view.id), waitSeconds, signal);
}

/**
 * Refreshes, then — for `Prefer: wait=N` — keeps re-refreshing about once a second until the
 * prediction is final, N seconds pass, or the client goes away. A change committed by any instance (the change
 * feed) ends the wait at once: a completion callback, the sandbox or the reconciler finishing it elsewhere is
 * answered within a round trip, not at the next refresh.
 */
export async function refreshAndWait(
  deps: LifecycleDeps,
  row: PredictionRow,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<PredictionRow> {
  const { clock } = deps;
  if (waitSeconds <= 0 || isFinal(row.status)) return refreshPrediction(deps, row);
  // Subscribed before the first read, so a change committed after that read wakes the wait below.
  const changed = new Waker();
  const unsubscribe = deps.changes.subscribe("prediction", row.id, () => changed.wake());
  try {
    let current = await refreshPrediction(deps, row);
    const deadline = clock.now().getTime() + waitSeconds * 1000;
    while (!isFinal(current.status) && clock.now().getTime() < deadline && !signal?.aborted) {
      // Wake when the next provider call is allowed (about once a second), never past the deadline.
      const now = clock.now().getTime();
      const nextSync = (current.lastSyncedAt?.getTime() ?? 0) + MIN_SYNC_INTERVAL_MS - now + 10;
      await changed.wait(clock, Math.min(Math.max(250, nextSync), deadline - now), signal);
      current = await refreshPrediction(deps, await loadRow(deps.db, row.id));
    }
    return current;
  } finally {
    unsubscribe();
  }
}

/** Cancels the caller's prediction (its owner check read the row) and refunds it, once; 409 when it is final. */
export async function cancelPrediction(deps: LifecycleDeps, row: PredictionRow): Promise<PredictionRow> {
  if (isFinal(row.status)) throw alreadyFinal(row);
  const provider = providerFor(deps, row.livemode);
  if (row.providerPredictionId && provider) {
    await provider.cancel(row.providerPredictionId).catch((err: unknown) => {
      deps.logger.warn(
        { predictionId: row.id, err, providerMessage: isProviderError(err) ? err.providerMessage : undefined },
        "provider cancel failed (best effort)",
      );
    });
  }
  const finished = await finishPrediction(deps, row.id, { status: "canceled" });
  if (!finished) throw alreadyFinal(await loadRow(deps.db, row.id));
  return finished;
}

const alreadyFinal = (row: PredictionRow) =>
  conflict(`This prediction is already ${row.status} and cannot be canceled.`, { status: row.status });
