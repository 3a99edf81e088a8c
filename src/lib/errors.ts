import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const ERROR_CODES = [
  "validation_error",
  "unauthorized",
  "insufficient_credits",
  "forbidden",
  "not_found",
  "conflict",
  "payload_too_large",
  "idempotency_key_reused",
  "rate_limited",
  "internal_error",
  "provider_error",
  "service_unavailable",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const STATUS_OF: Record<ErrorCode, ContentfulStatusCode> = {
  validation_error: 400,
  unauthorized: 401,
  insufficient_credits: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal_error: 500,
  provider_error: 502,
  service_unavailable: 503,
};

/** STATUS_OF read backwards: every status the API answers with stands for one code. */
const CODE_OF_STATUS: ReadonlyMap<number, ErrorCode> = new Map(ERROR_CODES.map((code) => [STATUS_OF[code], code]));

/** The code of an error status, or undefined for a status none of our codes has. */
export const codeOfStatus = (status: number): ErrorCode | undefined => CODE_OF_STATUS.get(status);

/** The one typed error of the API: thrown anywhere, rendered by onError as the Error envelope. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Extra response headers (e.g. Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = STATUS_OF[code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: Record<string, unknown> };
}

export function errorBody(c: Context, code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorBody {
  // A request the edge did not scope (an app without it: a test's) has no id.
  const requestId = (c.env as { requestId?: string } | undefined)?.requestId ?? "unknown";
  return { error: { code, message, requestId, ...(details ? { details } : {}) } };
}

/** The Error envelope with the status of its code. */
export function sendError(c: Context, code: ErrorCode, message: string, details?: Record<string, unknown>): Response {
  return c.json(errorBody(c, code, message, details), STATUS_OF[code]);
}

export function errorResponse(c: Context, err: ApiError): Response {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  return sendError(c, err.code, err.message, err.details);
}

/**
 * 404 for a path nothing answers. The path is quoted cut to 300 characters and without control characters, so
 * the message stays within the envelope's bounds (no NUL, which the message pattern excludes).
 */
export const noRoute = (c: Context) => {
  const path = c.req.path.slice(0, 300).replace(/\p{Cc}/gu, "?");
  return sendError(c, "not_found", `No route for ${c.req.method.slice(0, 20)} ${path}.`);
};

export const notFound = (what = "Resource") => new ApiError("not_found", `${what} not found.`);
export const forbidden = (message = "You do not have access to this resource.") => new ApiError("forbidden", message);
export const unauthorized = (message = "Sign in, or send a bearer token or an API key.") =>
  new ApiError("unauthorized", message);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new ApiError("conflict", message, details);
