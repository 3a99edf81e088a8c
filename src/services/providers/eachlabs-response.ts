/**
 * Pure interpretation of Eachlabs prediction JSON: their status spellings (which their own docs disagree on),
 * their output shapes and their failure shapes, turned into our ProviderPrediction. No I/O here.
 */
import { MAX_OUTPUT_IMAGES, MAX_OUTPUT_URL_LENGTH } from "../../domain/limits";
import { isRecord } from "../../lib/validation";
import type { ProviderPrediction, ProviderStatus } from "./provider";

export const MAX_ERROR_MESSAGE_LENGTH = 500;
export const MAX_ERROR_CODE_LENGTH = 64;
export const DEFAULT_ERROR_CODE = "provider_failed";
export const DEFAULT_ERROR_MESSAGE = "The image provider could not generate this logo.";

/**
 * Eachlabs status → ours. Their docs disagree on spellings, so anything not known to be final counts as still
 * processing (the caller's reconciler bounds how long "processing" may last, so an unknown status cannot hide a
 * failure forever).
 */
export function mapEachlabsStatus(status: unknown): ProviderStatus {
  if (typeof status !== "string") return "processing";
  switch (status.trim().toLowerCase()) {
    case "success":
    case "succeeded":
      return "succeeded";
    case "error":
    case "failed":
      return "failed";
    case "cancelled":
    case "canceled":
      return "canceled";
    default:
      return "processing";
  }
}

function asImageUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const s = value.trim();
  if (s.length === 0 || s.length > MAX_OUTPUT_URL_LENGTH) return null;
  try {
    const url = new URL(s);
    return url.protocol === "https:" || url.protocol === "http:" ? s : null;
  } catch {
    return null;
  }
}

function urlOf(item: unknown): string | null {
  if (typeof item === "string") return asImageUrl(item);
  if (item && typeof item === "object" && !Array.isArray(item)) return asImageUrl((item as { url?: unknown }).url);
  return null;
}

/**
 * The documented output shapes — a URL string, an array of URL strings, an object with `url`, or an array of such
 * objects — as a non-empty list of http(s) URLs; null when nothing usable is in it.
 */
export function normaliseOutput(output: unknown): string[] | null {
  const items = Array.isArray(output) ? output : [output];
  const urls: string[] = [];
  for (const item of items) {
    const url = urlOf(item);
    if (url !== null) urls.push(url);
    if (urls.length === MAX_OUTPUT_IMAGES) break;
  }
  return urls.length > 0 ? urls : null;
}

/** Control characters and runs of whitespace become single spaces. */
const oneLine = (s: string) => s.replace(/[\p{Cc}\s]+/gu, " ").trim();

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A safe machine code: lowercase snake_case, ≤ 64 characters, or the default. */
export function safeErrorCode(code: unknown): string {
  if (typeof code !== "string" && typeof code !== "number") return DEFAULT_ERROR_CODE;
  const safe = String(code)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, MAX_ERROR_CODE_LENGTH)
    .replace(/_+$/, "");
  return safe.length > 0 ? safe : DEFAULT_ERROR_CODE;
}

function textOf(value: unknown): string | null {
  if (typeof value === "string") {
    const s = oneLine(value);
    return s.length > 0 ? s : null;
  }
  if (Array.isArray(value)) {
    // logs are sometimes a list of lines: the last non-empty ones say what went wrong
    const lines = value.map(textOf).filter((l): l is string => l !== null);
    return lines.length > 0 ? lines.slice(-5).join(" ") : null;
  }
  return null;
}

/**
 * The failure of a failed prediction, from its JSON: `output` like `{error_code, error_message}` (also `code` /
 * `message` / `error` spellings), a plain string `output`, a top-level `error`, or the tail of `logs`.
 * Code lowercased and made safe (default "provider_failed"), message at most 500 characters.
 */
export function extractProviderError(body: unknown): { code: string; message: string } {
  const b = isRecord(body) ? body : {};
  const out = b.output;
  let code: unknown;
  let message: string | null = null;

  if (isRecord(out)) {
    code = out.error_code ?? out.code;
    message = textOf(out.error_message) ?? textOf(out.message) ?? textOf(out.error) ?? textOf(out.detail);
  } else if (typeof out === "string" && asImageUrl(out) === null) {
    message = textOf(out);
  }
  if (isRecord(b.error)) {
    code ??= b.error.code ?? b.error.error_code;
    message ??= textOf(b.error.message) ?? textOf(b.error.error_message);
  }
  code ??= b.error_code;
  message ??= textOf(b.error_message) ?? textOf(b.error) ?? textOf(b.logs) ?? textOf(b.message);

  return {
    code: safeErrorCode(code),
    message: truncate(message ?? DEFAULT_ERROR_MESSAGE, MAX_ERROR_MESSAGE_LENGTH),
  };
}

/**
 * A GET /v1/prediction/{id} answer as our ProviderPrediction. A "success" without one usable image URL is a
 * failure (`empty_output`): we must never mark a prediction succeeded with nothing to show for it.
 */
export function interpretEachlabsPrediction(requestedId: string, body: unknown): ProviderPrediction {
  const b = isRecord(body) ? body : {};
  const id = typeof b.id === "string" && b.id.length > 0 ? b.id : requestedId;
  const status = mapEachlabsStatus(b.status);
  switch (status) {
    case "succeeded": {
      const output = normaliseOutput(b.output);
      if (output) return { id, status, output, error: null, raw: body };
      return {
        id,
        status: "failed",
        output: null,
        error: { code: "empty_output", message: "The image provider finished without returning an image." },
        raw: body,
      };
    }
    case "failed":
      return { id, status, output: null, error: extractProviderError(b), raw: body };
    default:
      return { id, status, output: null, error: null, raw: body };
  }
}
