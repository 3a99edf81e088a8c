/** The facts about deliverables that the database, the contract and the workers share (the kinds are in services/deliverables). */
/** queued → processing → succeeded | failed (the database enum asset_status is built from it). */
export const ASSET_STATUSES = ["queued", "processing", "succeeded", "failed"] as const;
export type AssetStatus = (typeof ASSET_STATUSES)[number];
export const ACTIVE_ASSET_STATUSES = ["queued", "processing"] as const satisfies readonly AssetStatus[];
export const isAssetFinal = (s: AssetStatus) => s === "succeeded" || s === "failed";

/** Why an asset failed, as clients see it; each has one fixed message (its credits are refunded). */
export const ASSET_ERRORS = {
  source_invalid: "The source image could not be read (not an image, or corrupt). Your credits have been refunded.",
  source_too_large: "The source image has more pixels than this server processes. Your credits have been refunded.",
  deadline_exceeded: "The deliverable was not ready in time. Your credits have been refunded.",
  internal_error: "The deliverable could not be made. Your credits have been refunded.",
} as const;
export type AssetErrorCode = keyof typeof ASSET_ERRORS;
export const ASSET_ERROR_CODES = Object.keys(ASSET_ERRORS) as [AssetErrorCode, ...AssetErrorCode[]];
