import { sql } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { type Database, queryRows } from "../db";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../types";
import { getAuthUser } from "./auth";

export type RateLimitTier = "strict" | "moderate" | "poll";

export interface RateLimitResult {
  count: number;
  resetAt: number;
}

/** Fixed one-minute windows. `hit` counts one request and returns the window's state. */
export interface RateLimitStore {
  hit(key: string, windowMs: number, now: number): Promise<RateLimitResult>;
}

export function createMemoryRateLimitStore(): RateLimitStore {
  const buckets = new Map<string, RateLimitResult>();
  let lastSweep = 0;
  return {
    async hit(key, windowMs, now) {
      if (now - lastSweep > windowMs) {
        lastSweep = now;
        for (const [k, b] of buckets) if (b.resetAt <= now) buckets.delete(k);
      }
      let b = buckets.get(key);
      if (!b || b.resetAt <= now) {
        b = { count: 0, resetAt: now + windowMs };
        buckets.set(key, b);
      }
      b.count++;
      return { ...b };
    },
  };
}

/** Shared by every instance on the database: one upsert per request. */
export function createPostgresRateLimitStore(db: Database): RateLimitStore {
  return {
    async hit(key, windowMs, now) {
      const resetAt = new Date(now + windowMs);
      const rows = await queryRows<{ count: number; reset_at: string | Date }>(
        db,
        sql`
        insert into rate_limit_bucket (key, count, reset_at) values (${key}, 1, ${resetAt.toISOString()})
        on conflict (key) do update set
          count = case when rate_limit_bucket.reset_at <= ${new Date(now).toISOString()} then 1 else rate_limit_bucket.count + 1 end,
          reset_at = case when rate_limit_bucket.reset_at <= ${new Date(now).toISOString()} then excluded.reset_at else rate_limit_bucket.reset_at end
        returning count, reset_at`,
      );
      const row = rows[0];
      if (!row) throw new Error("rate limit upsert returned nothing");
      return { count: Number(row.count), resetAt: new Date(row.reset_at).getTime() };
    },
  };
}

const WINDOW_MS = 60_000;

/**
 * Per-caller limits (user id when signed in, else client address), with RateLimit-* headers on
 * every response and Retry-After on 429.
 */
export function rateLimit(tier: RateLimitTier) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { config, rateLimitStore, clock } = c.var.deps;
    const limit =
      tier === "strict"
        ? config.RATE_LIMIT_STRICT_PER_MIN
        : tier === "poll"
          ? config.RATE_LIMIT_POLL_PER_MIN
          : config.RATE_LIMIT_MODERATE_PER_MIN;
    const user = await getAuthUser(c);
    const who = user ? `u:${user.id}` : `ip:${clientAddress(c.req.raw, c.env)}`;
    const now = clock().getTime();
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
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  });
}

function clientAddress(req: Request, env: unknown): string {
  // Behind a proxy the first X-Forwarded-For hop is the client; otherwise the socket address when the adapter exposes it.
  const fwd = req.headers.get("x-forwarded-for");
  if (fwd) return fwd.split(",")[0]?.trim() || "unknown";
  const e = env as
    | { incoming?: { socket?: { remoteAddress?: string } }; requestIP?: (r: Request) => { address: string } | null }
    | undefined;
  return e?.incoming?.socket?.remoteAddress ?? e?.requestIP?.(req)?.address ?? "unknown";
}
