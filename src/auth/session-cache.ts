import type { AuthUser } from "./user";

/**
 * A short-lived in-process cache of bearer-token → user, so that polling clients do not pay Better
 * Auth's session lookup (~3 ms, two queries) on every request. Only bearer tokens are cached: cookies
 * have Better Auth's own cookie cache, and API keys must reach Better Auth on every request for their
 * per-key rate limit. A sign-out, link or any other auth POST made with the token drops its entry at
 * once, and any admin auth action clears the cache; other revocations take effect within the TTL.
 */
export interface SessionCache {
  get(token: string, now: number): AuthUser | undefined;
  set(token: string, user: AuthUser, now: number): void;
  delete(token: string): void;
  clear(): void;
}

export function createSessionCache(ttlMs: number, maxEntries = 10_000): SessionCache {
  const entries = new Map<string, { user: AuthUser; expiresAt: number }>();
  if (ttlMs <= 0)
    return {
      get: () => undefined,
      set: () => {},
      delete: () => {},
      clear: () => {},
    };
  return {
    get(token, now) {
      const e = entries.get(token);
      if (!e) return undefined;
      if (e.expiresAt <= now) {
        entries.delete(token);
        return undefined;
      }
      return e.user;
    },
    set(token, user, now) {
      if (entries.size >= maxEntries) {
        // Drop the oldest insertion (Map keeps insertion order).
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(token, { user, expiresAt: now + ttlMs });
    },
    delete: (token) => void entries.delete(token),
    clear: () => entries.clear(),
  };
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function parseBearer(authorization: string | null | undefined): string | undefined {
  const m = /^bearer\s+(.+)$/i.exec(authorization ?? "");
  return m?.[1]?.trim() || undefined;
}

/** The bearer token of a request that carries no API key, or undefined. */
export function bearerToken(headers: Headers): string | undefined {
  return headers.has("x-api-key") ? undefined : parseBearer(headers.get("authorization"));
}
