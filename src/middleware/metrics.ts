import { createHash, timingSafeEqual } from "node:crypto";
import { createMiddleware } from "hono/factory";
import { parseBearer } from "../auth/session-cache";
import type { AppEnv } from "../deps";
import { ApiError, noRoute } from "../lib/errors";

/**
 * GET /metrics: when METRICS_TOKEN is set, only `Authorization: Bearer <METRICS_TOKEN>` may read it; in
 * production without one it is not served at all (404, as an unknown route). Open otherwise (development).
 */
export const requireMetricsToken = createMiddleware<AppEnv>(async (c, next) => {
  const { METRICS_TOKEN: expected, NODE_ENV } = c.env.deps.config;
  if (!expected && NODE_ENV === "production") return noRoute(c);
  if (expected && !sameSecret(parseBearer(c.req.header("authorization")) ?? "", expected))
    throw new ApiError("unauthorized", "Send the metrics token as Authorization: Bearer <METRICS_TOKEN>.");
  await next();
});

/** Constant-time comparison (over digests, so lengths do not leak either). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}
