import { createMiddleware } from "hono/factory";
import { getAuthUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { ApiError } from "../lib/errors";

/** callback: a provider's completion callbacks, counted per client address (no user credentials there). */
export type RateLimitTier = "strict" | "moderate" | "poll" | "callback";

const WINDOW_MS = 60_000;

/**
 * Per-caller limits (user id when signed in, with a session or an API key; else the client address), with RateLimit-* headers on
 * every response and Retry-After on 429.
 */
export function rateLimit(tier: RateLimitTier) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { config, rateLimitStore, clock } = c.get("deps");
    const limit = {
      strict: config.RATE_LIMIT_STRICT_PER_MIN,
      moderate: config.RATE_LIMIT_MODERATE_PER_MIN,
      poll: config.RATE_LIMIT_POLL_PER_MIN,
      callback: config.RATE_LIMIT_CALLBACK_PER_MIN,
    }[tier];
    const user = tier === "callback" ? null : await getAuthUser(c);
    const who = user ? `u:${user.id}` : `ip:${c.get("clientAddress")()}`;
    const now = clock.now().getTime();
    const { count, resetAt } = await rateLimitStore.hit(`${tier}:${who}`, WINDOW_MS, now);
    const reset = Math.max(0, Math.ceil((resetAt - now) / 1000));
    const headers = {
      "RateLimit-Limit": String(limit),
      "RateLimit-Remaining": String(Math.max(0, limit - count)),
      "RateLimit-Reset": String(reset),
    };
    if (count > limit) {
      throw new ApiError(
        "rate_limited",
        `Too many requests: ${limit} per minute. Retry in ${reset} seconds.`,
        { limit, retryAfterSeconds: reset },
        { ...headers, "Retry-After": String(reset) },
      );
    }
    // Staged before the route, so its response is built with them (src/middleware/edge.ts says why).
    const stageHeader = c.get("stageHeader");
    for (const [k, v] of Object.entries(headers)) stageHeader(k, v);
    await next();
  });
}
