import type { Context } from "hono";
import { getAuthUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { ApiError } from "../lib/errors";
import { stageHeader } from "./edge";

/** callback: a provider's completion callbacks, counted per client address (no user credentials there). */
export type RateLimitTier = "strict" | "moderate" | "poll" | "callback";

const WINDOW_MS = 60_000;

const LIMIT_SETTING = {
  strict: "RATE_LIMIT_STRICT_PER_MIN",
  moderate: "RATE_LIMIT_MODERATE_PER_MIN",
  poll: "RATE_LIMIT_POLL_PER_MIN",
  callback: "RATE_LIMIT_CALLBACK_PER_MIN",
} as const;

/**
 * Per-caller limits (user id when signed in, with a session or an API key; else the client address), with
 * RateLimit-* headers on every response and Retry-After on 429. As a check (not a middleware) so that a route's
 * access checks run as one middleware (src/openapi/kit.ts): each async middleware is a level of Hono's chain,
 * paid on every request.
 */
export function rateLimitCheck(tier: RateLimitTier): (c: Context<AppEnv>) => Promise<void> {
  const setting = LIMIT_SETTING[tier];
  return async (c) => {
    const { config, rateLimitStore, clock } = c.env.deps;
    const limit = config[setting];
    const user = tier === "callback" ? null : await getAuthUser(c);
    const who = user ? `u:${user.id}` : `ip:${c.env.clientAddress()}`;
    const now = clock.now().getTime();
    const { count, resetAt } = await rateLimitStore.hit(`${tier}:${who}`, WINDOW_MS, now);
    const reset = Math.max(0, Math.ceil((resetAt - now) / 1000));
    const remaining = String(Math.max(0, limit - count));
    if (count > limit) {
      throw new ApiError(
        "rate_limited",
        `Too many requests: ${limit} per minute. Retry in ${reset} seconds.`,
        { limit, retryAfterSeconds: reset },
        {
          "RateLimit-Limit": String(limit),
          "RateLimit-Remaining": remaining,
          "RateLimit-Reset": String(reset),
          "Retry-After": String(reset),
        },
      );
    }
    // Staged before the route, so its response is built with them (src/middleware/edge.ts says why).
    stageHeader(c, "RateLimit-Limit", String(limit));
    stageHeader(c, "RateLimit-Remaining", remaining);
    stageHeader(c, "RateLimit-Reset", String(reset));
  };
}
