import { createHash } from "node:crypto";
import { createMiddleware } from "hono/factory";
import { currentUser } from "../auth/session";
import { isDatabaseUnavailable } from "../db/outage";
import type { AppEnv } from "../deps";
import { ApiError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { requestLogger } from "../lib/request-logger";
import {
  ABANDONED_AFTER_MS,
  claimIdempotencyKey,
  releaseIdempotencyKey,
  saveIdempotentResponse,
} from "../services/idempotency";

const KEY_RE = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ["location", "content-type"];
/** Answers that refuse the request before any work: not kept, the key is free again. */
export const RELEASED_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 409, 413, 422, 429, 503]);

/**
 * Idempotency-Key: the same key from the same user with the same body within 24 hours replays the first
 * response with `Idempotent-Replayed: true` and does nothing again; a different body is 422
 * idempotency_key_reused; a twin still in flight is 409. Every outcome of the work is kept and replayed —
 * success, 402 insufficient_credits, 502 provider_error (the prediction failed and was refunded), 500 — so a
 * retry never charges or calls the provider twice. Refusals of the request itself (RELEASED_STATUSES: invalid
 * input, auth, a twin in flight, rate limit, service unavailable) did nothing, so they release the key and the
 * same request can be retried with it. Goes after the route's access checks (a signed-in user) in its middleware list.
 */
export function idempotent(scope: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (key === undefined) return next();
    if (!KEY_RE.test(key))
      throw new ApiError("validation_error", "Idempotency-Key must be 1–255 printable ASCII characters.", {
        issues: [{ path: "Idempotency-Key", message: "Must be 1–255 printable ASCII characters without spaces" }],
      });
    const { db, clock } = c.env.deps;
    const user = currentUser(c);
    // Test mode: a key used with a test API key and the same key used live are two different keys.
    const k = { userId: user.id, scope: user.livemode ? scope : `test:${scope}`, key };
    const body = await c.req.text();
    const requestHash = createHash("sha256").update(`${c.req.method} ${c.req.path}\n${body}`).digest("hex");

    const claimedAt = clock.now();
    const existing = await claimIdempotencyKey(db, k, requestHash, claimedAt);
    if (existing === undefined)
      throw new ApiError("conflict", "A request with this Idempotency-Key is being processed; retry shortly.");
    if (existing !== null) {
      if (existing.requestHash !== requestHash)
        throw new ApiError(
          "idempotency_key_reused",
          "This Idempotency-Key was already used with a different request body. Use a new key for a new request.",
        );
      if (existing.responseStatus === null)
        throw new ApiError("conflict", "A request with this Idempotency-Key is still in progress; retry shortly.");
      // A replayed error envelope carries this request's id, like its X-Request-Id header, so the id a
      // client reports is always one in our logs; the first request's id is logged with the replay.
      const firstError = (existing.responseBody as { error?: { requestId?: unknown } } | null)?.error;
      requestLogger(c).info(
        { scope, status: existing.responseStatus, firstRequestId: firstError?.requestId },
        "idempotent replay",
      );
      const replayed = firstError ? { error: { ...firstError, requestId: c.env.requestId } } : existing.responseBody;
      const headers = new Headers(existing.responseHeaders ?? {});
      headers.set("Idempotent-Replayed", "true");
      headers.set("X-Request-Id", c.env.requestId);
      // Through the context, so the headers staged for every response (src/middleware/edge.ts) are on it too.
      return c.newResponse(JSON.stringify(replayed), { status: existing.responseStatus as 200, headers });
    }

    c.set("idempotencyKey", key);
    const log = requestLogger(c);
    const release = () => untilDatabaseAnswers(log, "release", () => releaseIdempotencyKey(db, k, claimedAt));
    try {
      await next();
    } catch (err) {
      await release();
      throw err;
    }
    const res = c.res;
    if (RELEASED_STATUSES.has(res.status)) return release();
    const headers: Record<string, string> = {};
    for (const h of REPLAYED_HEADERS) {
      const v = res.headers.get(h);
      if (v) headers[h] = v;
    }
    const outcome = { status: res.status, body: await res.clone().json(), headers };
    // The work is done: the client gets its answer even if the database went away just now; the outcome is kept
    // as soon as it is back, and a retry meanwhile is told the first is still in progress (409), never run twice.
    await untilDatabaseAnswers(log, "save", () => saveIdempotentResponse(db, k, outcome));
  });
}

const RETRY_EVERY_MS = 1000;

/**
 * Runs a write of the key's record; when the database is unavailable (the request most likely failed for that
 * very reason: a 503), it is retried in the background until the database answers, for as long as the record
 * could otherwise block its key (ABANDONED_AFTER_MS). Without this a key claimed just before an outage stayed
 * "in progress" for two minutes: every retry of the request answered 409 although nothing was running.
 */
async function untilDatabaseAnswers(log: Logger | undefined, what: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
    return;
  } catch (err) {
    if (!isDatabaseUnavailable(err)) throw err;
  }
  const giveUpAt = Date.now() + ABANDONED_AFTER_MS;
  const retry = () => {
    const timer = setTimeout(() => {
      write().then(
        () => log?.info({ what }, "idempotency key record written after a database outage"),
        (err: unknown) => {
          if (isDatabaseUnavailable(err) && Date.now() < giveUpAt) return retry();
          log?.warn({ err, what }, "idempotency key record could not be written after a database outage");
        },
      );
    }, RETRY_EVERY_MS);
    timer.unref?.();
  };
  retry();
}
