import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../db";

export interface RateLimitResult {
  count: number;
  resetAt: number;
}

/**
 * Fixed one-minute windows. `hit` counts one request and returns the window's state: at once from memory, as a
 * promise from PostgreSQL (a read that has nothing to wait for does not make one; src/middleware/rate-limit.ts).
 */
export interface RateLimitStore {
  hit(key: string, windowMs: number, now: number): RateLimitResult | Promise<RateLimitResult>;
}

export function createMemoryRateLimitStore(): RateLimitStore {
  const buckets = new Map<string, RateLimitResult>();
  let lastSweep = 0;
  return {
    hit(key, windowMs, now) {
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
      return { count: b.count, resetAt: b.resetAt };
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

/** What Better Auth's limiter asks of a storage: count one request against `key` and say whether it may pass. */
export interface AuthLimiterStorage {
  consume(key: string, rule: { window: number; max: number }): Promise<{ allowed: boolean; retryAfter: number | null }>;
}

/**
 * Better Auth's per-address limiter (sign-in and sign-up: 3 per 10 s…) on one of our stores, so that with
 * RATE_LIMIT_STORE=postgres its counts are shared by every instance like our tiers' (one upsert per request, on
 * the injected clock). Its rule's window is in seconds; each (address, path) is a fixed window from its first
 * request, and a refused request says when that window ends.
 */
export function authLimiterStorage(store: RateLimitStore, now: () => Date): AuthLimiterStorage {
  return {
    async consume(key, rule) {
      const at = now().getTime();
      const { count, resetAt } = await store.hit(`auth:${key}`, rule.window * 1000, at);
      if (count <= rule.max) return { allowed: true, retryAfter: null };
      return { allowed: false, retryAfter: Math.max(1, Math.ceil((resetAt - at) / 1000)) };
    },
  };
}
