/** Bounds of what a client may send and what we keep: the request schemas, the prompt builder and the flow use these. */

export const BRAND_NAME_MAX = 80;
export const DESCRIPTION_MAX = 500;
export const EXTRA_PROMPT_MAX = 1000;
export const MAX_COLORS = 3;
/** Longest prompt buildPrompt can produce from a valid request (the stored `prompt` fits in it). */
export const PROMPT_MAX_LENGTH = 4000;

/** Longest image URL we accept from the provider. */
export const MAX_OUTPUT_URL_LENGTH = 2048;
/** Most image URLs we keep from one prediction (no model in the catalog makes more than 4). */
export const MAX_OUTPUT_IMAGES = 10;

/** `Prefer: wait=N` is clamped to this many seconds. */
export const MAX_WAIT_SECONDS = 30;
