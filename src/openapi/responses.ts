import type { z } from "@hono/zod-openapi";
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

export const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Validation failed (`validation_error`); `details.issues` lists each problem.",
  401: "Not signed in (`unauthorized`).",
  402: "Not enough credits (`insufficient_credits`); `details.required` and `details.balance` say how many.",
  403: "Signed in but not allowed (`forbidden`).",
  404: "Not found (`not_found`).",
  409: "Conflict with the current state (`conflict`).",
  413: "Request body too large (`payload_too_large`). Refused before the rate limiter when the Content-Length alone is too large, so RateLimit-* may be absent.",
  422: "The Idempotency-Key was used with a different body (`idempotency_key_reused`).",
  429: "Too many requests (`rate_limited`); retry after `Retry-After` seconds.",
  500: "Unexpected server error (`internal_error`); no detail is exposed, quote the requestId.",
  502: "The upstream provider failed (`provider_error`).",
  503: "A dependency is unavailable or not configured (`service_unavailable`).",
};

export type Headers = Record<string, { description: string; schema: Record<string, unknown> }>;

export function errorResponse(status: number, opts: { rateLimited?: boolean; description?: string } = {}) {
  // Declared on every answer of a rate-limited route (OWASP's rate-limit rule). They are optional headers:
  // a 413 refused on its Content-Length before the route's limiter ran does not carry them.
  const headers: Headers = { ...requestIdHeader, ...(opts.rateLimited ? rateLimitHeaders : {}) };
  if (status === 429)
    headers["Retry-After"] = int("Seconds to wait before retrying.", 12) as unknown as Headers[string];
  return {
    description: opts.description ?? ERROR_DESCRIPTIONS[status] ?? "Error",
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
