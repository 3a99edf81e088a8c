import type { z } from "@hono/zod-openapi";
import { codeOfStatus, type ErrorCode } from "../lib/errors";
import { ErrorSchema } from "../schemas/common";

/** Building blocks of the route kit: response objects whose 4xx/5xx reference the Error component. */

const int = (description: string, example: number) =>
  ({ description, schema: { type: "integer", format: "int32", minimum: 0, maximum: 1_000_000, example } }) as const;

export const rateLimitHeaders = {
  "RateLimit-Limit": int("Requests allowed in the current window.", 30),
  "RateLimit-Remaining": int("Requests left in the current window.", 29),
  "RateLimit-Reset": int("Seconds until the window resets.", 42),
} as const;

export const requestIdHeader = {
  "X-Request-Id": {
    description: "Echoes the request's X-Request-Id, or a generated id. Also in every error body.",
    schema: { type: "string", maxLength: 200, pattern: "^[A-Za-z0-9_=-]+$", example: "01J9Z6V7K3R4T1ZQ8W5Y2X0ABC" },
  },
} as const;

/** What each error code tells a client; a description names the code and its status (STATUS_OF) together. */
const ERROR_MEANINGS: Record<ErrorCode, string> = {
  validation_error: "Validation failed; `details.issues` lists each problem.",
  unauthorized: "Not signed in.",
  insufficient_credits: "Not enough credits; `details.required` and `details.balance` say how many.",
  forbidden:
    "Signed in but not allowed; a write authenticated by the session cookie without an `Origin` (or `Referer`) in `ALLOWED_ORIGINS` is refused so too.",
  not_found: "Not found.",
  conflict: "Conflict with the current state.",
  payload_too_large:
    "Request body too large. Refused before the rate limiter when the Content-Length alone is too large, so RateLimit-* may be absent.",
  idempotency_key_reused: "The Idempotency-Key was used with a different body.",
  rate_limited: "Too many requests; retry after `Retry-After` seconds.",
  internal_error: "Unexpected server error; no detail is exposed, quote the requestId.",
  provider_error: "The upstream provider failed.",
  service_unavailable: "A dependency is unavailable or not configured.",
};

/** The description of an error response: the code its status stands for, then `meaning` or the code's own. */
export function errorDescription(status: number, meaning?: string): string {
  const code = codeOfStatus(status);
  if (!code) return meaning ?? "Error.";
  return `\`${code}\`: ${meaning ?? ERROR_MEANINGS[code]}`;
}

export type Headers = Record<string, { description: string; schema: Record<string, unknown> }>;

export function errorResponse(status: number, opts: { rateLimited?: boolean; description?: string } = {}) {
  // Declared on every answer of a rate-limited route (OWASP's rate-limit rule). They are optional headers:
  // a 413 refused on its Content-Length before the route's limiter ran does not carry them.
  const headers: Headers = { ...requestIdHeader, ...(opts.rateLimited ? rateLimitHeaders : {}) };
  if (status === 429)
    headers["Retry-After"] = int("Seconds to wait before retrying.", 12) as unknown as Headers[string];
  return {
    description: opts.description ?? errorDescription(status),
    headers,
    content: { "application/json": { schema: ErrorSchema } },
  };
}

/**
 * Error responses for the given statuses (500 is always added; 429 on rate-limited routes; 503 where
 * credentials are checked, since a session lookup needs the database).
 */
export function errorResponses<const S extends readonly number[]>(statuses: S, opts: { rateLimited?: boolean } = {}) {
  const all = [
    ...new Set([...statuses, ...(opts.rateLimited ? [429] : []), 500, ...(statuses.includes(401) ? [503] : [])]),
  ].sort((a, b) => a - b);
  return Object.fromEntries(all.map((s) => [s, errorResponse(s, opts)])) as {
    [K in S[number] | 500]: ReturnType<typeof errorResponse>;
  };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string, opts: { headers?: Headers } = {}) {
  return {
    description,
    headers: { ...requestIdHeader, ...opts.headers },
    content: { "application/json": { schema } },
  };
}

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  description,
  content: { "application/json": { schema } },
});
