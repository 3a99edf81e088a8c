import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { databaseUnavailable, isDatabaseUnavailable } from "../db/outage";
import type { AppEnv } from "../deps";
import { ApiError, errorResponse, noRoute, sendError } from "../lib/errors";
import { requestLogger } from "../lib/request-logger";

export function payloadTooLarge(c: Context, limitBytes: number): Response {
  return sendError(c, "payload_too_large", `The request body is larger than ${limitBytes} bytes.`, { limitBytes });
}

export const notFoundHandler: NotFoundHandler<AppEnv> = noRoute;

/** Every error becomes the Error envelope; anything unexpected is a logged 500 that tells the client nothing. */
export const errorHandler: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (isDatabaseUnavailable(err)) {
    (c.env?.deps ? requestLogger(c) : undefined)?.warn({ err, requestId: c.env?.requestId }, "database unavailable");
    return errorResponse(c, databaseUnavailable());
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 400) {
      // The JSON validator's parse failure (malformed body) and similar client errors.
      return sendError(c, "validation_error", err.message || "The request body is not valid JSON.", {
        issues: [{ path: "", message: err.message || "Malformed request" }],
      });
    }
    if (status === 401) return sendError(c, "unauthorized", "Authentication required.");
    if (status === 413) return payloadTooLarge(c, c.env.deps.config.BODY_LIMIT_BYTES);
    if (status === 415)
      return sendError(c, "validation_error", "Send the request body as JSON with Content-Type: application/json.", {
        issues: [{ path: "", message: "Content-Type must be application/json" }],
      });
  }
  const log = c.env?.deps ? requestLogger(c) : undefined;
  log?.error({ err, requestId: c.env?.requestId }, "unhandled error");
  return sendError(
    c,
    "internal_error",
    "Something went wrong on our side. Quote the request id if you contact support.",
  );
};
