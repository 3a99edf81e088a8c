/** The facts about a prediction that the database, the contract and the flow share. */
/** The lifecycle (the database enum prediction_status is built from it): queued → processing → succeeded | failed | canceled. */
export const PREDICTION_STATUSES = ["queued", "processing", "succeeded", "failed", "canceled"] as const;
export type PredictionStatus = (typeof PREDICTION_STATUSES)[number];

/** Not final yet: the provider may still change them. Every other status is final. */
export const ACTIVE_STATUSES = ["queued", "processing"] as const satisfies readonly PredictionStatus[];
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];
export type FinalStatus = Exclude<PredictionStatus, ActiveStatus>;

export const isFinal = (status: PredictionStatus): status is FinalStatus =>
  !(ACTIVE_STATUSES as readonly PredictionStatus[]).includes(status);

/** Why a prediction failed, as clients see it; each has one fixed message (its credits are refunded). */
export const PREDICTION_ERRORS = {
  provider_error: "The image provider could not start this generation. Your credits have been refunded.",
  generation_failed: "The image provider could not generate this logo. Your credits have been refunded.",
  timeout: "The generation did not finish in time. Your credits have been refunded.",
} as const;
export type PredictionErrorCode = keyof typeof PREDICTION_ERRORS;
export const PREDICTION_ERROR_CODES = Object.keys(PREDICTION_ERRORS) as [PredictionErrorCode, ...PredictionErrorCode[]];

export const LOGO_STYLES = [
  "minimal",
  "modern",
  "playful",
  "vintage",
  "luxury",
  "geometric",
  "hand-drawn",
  "mascot",
] as const;
export type LogoStyle = (typeof LOGO_STYLES)[number];
