import type { Context } from "hono";
import { getAuthUser } from "../auth/session";
import type { AppEnv } from "../deps";
import type { AuthUser } from "../domain/user";
import { ApiError } from "../lib/errors";
import type { RateLimitResult } from "../services/rate-limit-store";
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
export function rateLimitCheck(tier: RateLimitTier): (c: Context<AppEnv>) => void | Promise<void> {
  const setting = LIMIT_SETTING[tier];
  // Without a promise when the caller is known at once and the store answers at once (memory), as on most reads.
  const count = (c: Context<AppEnv>, user: AuthUser | null): void | Promise<void> => {
    const { config, rateLimitStore, clock } = c.env.deps;
    const limit = config[setting];
    const who = user ? `u:${user.id}` : `ip:${c.env.clientAddress()}`;
    const now = clock.now().getTime();
    const hit = rateLimitStore.hit(`${tier}:${who}`, WINDOW_MS, now);
    return hit instanceof Promise ? hit.then((r) => answer(c, limit, now, r)) : answer(c, limit, now, hit);
  };
  return (c) => {
    const user = tier === "callback" ? null : getAuthUser(c);
    return user instanceof Promise ? user.then((u) => count(c, u)) : count(c, user);
  };
}

/** The counted request: refused over the limit (429), else its RateLimit-* headers staged. */
function answer(c: Context<AppEnv>, limit: number, now: number, { count, resetAt }: RateLimitResult): void {
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
}
