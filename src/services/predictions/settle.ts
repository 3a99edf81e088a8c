import type { PredictionRow } from "../../db/schemas/predictions";
import { isFinal } from "../../domain/predictions";
import type { Needs } from "../ports";
import { type LifecycleDeps, refreshAndWait } from "./lifecycle";
import { loadRow } from "./queries";

/** The lifecycle's ports and the completions being settled on this instance. */
export type SettleDeps = LifecycleDeps & Needs<"eachlabsCallbacks">;

/**
 * How long a completion announcement (an Eachlabs callback, the sandbox's own) keeps refreshing before it
 * answers. Refreshes are single-flight and at most one per MIN_SYNC_INTERVAL_MS, so a callback that lands during a poll's sync, or just after one, would otherwise be
 * absorbed: if the provider's GET then still lagged behind its own callback, or a second callback came inside
 * the interval, nothing would look again until a client polled or the reconciler ran. Waiting out the interval
 * (on the injected clock) and reading again, for a few seconds, makes the callback itself carry the prediction
 * to its final state; it also covers a callback that arrives before the create call has stored the provider's id.
 */
export const CALLBACK_SETTLE_SECONDS = 5;

/**
 * What a completion announcement triggers, whoever makes it (an Eachlabs callback, or the sandbox in-process): the
 * prediction refreshed from its provider through the single-flight path until it is final or the settle time has
 * passed.
 */
export async function settleCompletion(deps: SettleDeps, predictionId: string): Promise<PredictionRow> {
  const row = await loadRow(deps.db, predictionId);
  if (isFinal(row.status)) return row;
  const settling = deps.eachlabsCallbacks;
  if (settling.has(predictionId)) return row;
  settling.add(predictionId);
  let settled: PredictionRow;
  try {
    settled = await refreshAndWait(deps, row, CALLBACK_SETTLE_SECONDS);
  } finally {
    settling.delete(predictionId);
  }
  if (!isFinal(settled.status))
    deps.logger.info(
      { predictionId, status: settled.status },
      "completion announced: the provider does not report the prediction final yet; polls and the reconciler continue",
    );
  return settled;
}
