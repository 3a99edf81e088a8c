/**
 * Eachlabs completion callbacks: a hint that a prediction is done, never a verdict. The token proves the URL
 * was minted for this prediction; the body is not read at all (Eachlabs signs nothing, so anything in it could
 * be forged or stale). The prediction is refreshed from Eachlabs exactly as a poll refreshes it.
 */

import { forbidden, notFound } from "../lib/errors";
import { isUuid } from "../lib/validation";
import type { Needs } from "./ports";
import { type PredictionRow, type SettleDeps, settleCompletion } from "./predictions";
import { verifyEachlabsCallbackToken } from "./providers/eachlabs-callback";

/** A callback settles the completion it announces: the settle's ports. */
type CallbackDeps = SettleDeps;

export const callbackRefused = () =>
  forbidden("The callback token is missing or invalid for this prediction. Nothing was changed.");

/** 403 unless `token` was minted for `predictionId`; checked before anything touches the database. */
export function checkEachlabsCallback(deps: Needs<"config">, predictionId: string, token: string): void {
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
export async function receiveEachlabsCallback(deps: CallbackDeps, predictionId: string): Promise<PredictionRow> {
  if (!isUuid(predictionId)) throw notFound("Prediction");
  return settleCompletion(deps, predictionId);
}
