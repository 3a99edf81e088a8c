import type { AssetRow } from "../db/schemas/assets";
import type { OwnerResolver } from "../openapi/kit";
import { findAsset } from "../services/assets/queries";
import { findPrediction, findPredictionView, type PredictionRow } from "../services/predictions";

/** How the owner routes find the caller's resource (src/openapi/kit.ts checks it is the caller's): one read each. */

/** The whole prediction row, for routes that change it. */
export const ownPrediction: OwnerResolver<PredictionRow> = {
  name: "Prediction",
  load: (deps, id) => findPrediction(deps.db, id),
};

/** Only the columns clients see (and the owner): the polling path reads no more than it answers. */
export const ownPredictionView: OwnerResolver<Awaited<ReturnType<typeof findPredictionView>> & { userId: string }> = {
  name: "Prediction",
  load: (deps, id) => findPredictionView(deps.db, id),
};

/** A deliverable, for its reads. */
export const ownAsset: OwnerResolver<AssetRow> = {
  name: "Asset",
  load: (deps, id) => findAsset(deps.db, id),
};
