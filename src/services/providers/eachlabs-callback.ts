/**
 * The address Eachlabs calls when a prediction is done: `{PUBLIC_URL}/api/webhooks/eachlabs?prediction={id}&token=…`.
 * Eachlabs signs nothing, so the URL carries its own proof: an HMAC-SHA256 of our prediction id, keyed with a
 * key derived from BETTER_AUTH_SECRET (HKDF, its own label, so it is never the key of anything else). A valid
 * token only says "this URL was handed out for this prediction"; what happened is always read back from Eachlabs.
 */
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

const KEY_LABEL = "logo-api eachlabs-callback-token v1";
export const EACHLABS_CALLBACK_PATH = "/api/webhooks/eachlabs";

const keys = new Map<string, Buffer>();
function callbackKey(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = Buffer.from(hkdfSync("sha256", secret, "", KEY_LABEL, 32));
    keys.set(secret, key);
  }
  return key;
}

/** base64url HMAC-SHA256 of the prediction id (43 characters). */
export function eachlabsCallbackToken(secret: string, predictionId: string): string {
  return createHmac("sha256", callbackKey(secret)).update(predictionId).digest("base64url");
}

/** Constant-time check of a token against the one minted for this prediction. */
export function verifyEachlabsCallbackToken(secret: string, predictionId: string, token: string): boolean {
  const expected = Buffer.from(eachlabsCallbackToken(secret, predictionId));
  const given = Buffer.from(token);
  // The length of a valid token is public (always 43); only equal lengths reach the constant-time compare.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function eachlabsCallbackUrl(publicUrl: string, secret: string, predictionId: string): string {
  const url = new URL(`${publicUrl.replace(/\/+$/, "")}${EACHLABS_CALLBACK_PATH}`);
  url.searchParams.set("prediction", predictionId);
  url.searchParams.set("token", eachlabsCallbackToken(secret, predictionId));
  return url.href;
}
