/**
 * Eachlabs completion callbacks: a hint that a prediction is done, never a verdict. The token proves the URL
 * was minted for this prediction; the body is not read at all (Eachlabs signs nothing, so anything in it could
 * be forged or stale). The prediction is refreshed from Eachlabs exactly as a poll refreshes it.
 */
import type { Deps } from "../deps";
import { isFinal } from "../domain/predictions";
import { forbidden, notFound } from "../lib/errors";
import { isUuid } from "../lib/validation";
import { loadRow, type PredictionRow, refreshAndWait } from "./predictions";
import { verifyEachlabsCallbackToken } from "./providers/eachlabs-callback";

/**
 * How long one callback keeps refreshing before it answers. Refreshes are single-flight and at most one per
 * MIN_SYNC_INTERVAL_MS, so a callback that lands during a poll's sync, or just after one, would otherwise be
 * absorbed: if the provider's GET then still lagged behind its own callback, or a second callback came inside
 * the interval, nothing would look again until a client polled or the reconciler ran. Waiting out the interval
 * (on the injected clock) and reading again, for a few seconds, makes the callback itself carry the prediction
 * to its final state; it also covers a callback that arrives before the create call has stored the provider's id.
 */
export const CALLBACK_SETTLE_SECONDS = 5;

export const callbackRefused = () =>
  forbidden("The callback token is missing or invalid for this prediction. Nothing was changed.");

/** 403 unless `token` was minted for `predictionId`; checked before anything touches the database. */
export function checkEachlabsCallback(deps: Pick<Deps, "config">, predictionId: string, token: string): void {
  if (!predictionId || !token || !verifyEachlabsCallbackToken(deps.config.BETTER_AUTH_SECRET, predictionId, token))
    throw callbackRefused();
}

/**
 * The prediction after the callback's refreshes (final, or still active once the settle time has passed). A
 * callback for a prediction that another callback is already settling on this instance is answered at once with
 * the row as it stands: that one keeps re-reading (through the same single-flight refresh) for the settle time,
 * so it sees whatever this duplicate announces, and a burst of duplicates holds no request for 5 seconds. (A
 * poll's refresh in flight is not enough: its provider read may predate the completion this callback reports.)
 */
export async function receiveEachlabsCallback(deps: Deps, predictionId: string): Promise<PredictionRow> {
  if (!isUuid(predictionId)) throw notFound("Prediction");
  return settleCompletion(deps, predictionId);
}

/**
 * What a completion announcement triggers, whoever makes it (an Eachlabs callback, or the sandbox in-process): the
 * prediction refreshed from its provider through the single-flight path until it is final or the settle time has
 * passed.
 */
export async function settleCompletion(deps: Deps, predictionId: string): Promise<PredictionRow> {
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
