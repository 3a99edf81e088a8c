import { createHash, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { parseBearer } from "../auth/session-cache";
import type { AppEnv } from "../deps";
import { ApiError, noRoute } from "../lib/errors";

// Clients choose the method: anything unusual is one label value, so no caller can grow the series set.
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Counts every request by its route pattern (not the raw path, which would explode the label set). */
export const requestMetrics = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  try {
    await next();
  } finally {
    const seconds = (performance.now() - started) / 1000;
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER";
    c.get("deps").httpMetrics.observe(method, routeLabel(c), c.res.status, seconds);
  }
});

function routeLabel(c: Context): string {
  // Middleware is registered with method ALL; the last route with a real method is the handler that answered.
  const handler = matchedRoutes(c)
    .filter((r) => r.method !== "ALL")
    .at(-1);
  return handler?.path ?? "unmatched";
}

/**
 * GET /metrics: when METRICS_TOKEN is set, only `Authorization: Bearer <METRICS_TOKEN>` may read it; in
 * production without one it is not served at all (404, as an unknown route). Open otherwise (development).
 */
export const requireMetricsToken = createMiddleware<AppEnv>(async (c, next) => {
  const { METRICS_TOKEN: expected, NODE_ENV } = c.get("deps").config;
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
