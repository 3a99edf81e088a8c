import { hash } from "node:crypto";
import { getSessionCookie } from "better-auth/cookies";
import type { AuthUser } from "../domain/user";

/**
 * A short-lived in-process cache of credential → user, so that polling clients do not pay Better Auth's
 * session lookup (~3 ms, two queries) on every request. Bearer tokens and session cookies (their signed
 * token) are cached as they are; API keys under a hash (the plaintext key is never kept), which also spares
 * the write Better Auth's API-key plugin makes on every verification (lastRequest). A browser's cookie,
 * even with Better Auth's own cookie cache (no query), cost ~0.5 ms of CPU per request in its dispatch. A
 * sign-out, link or any other auth POST made with the credential drops its entry at once, and any admin auth
 * action or API-key deletion or update clears the cache; other revocations take effect within the TTL.
 */
export interface SessionCache {
  get(token: string, now: number): AuthUser | undefined;
  set(token: string, user: AuthUser, now: number): void;
  delete(token: string): void;
  clear(): void;
  /** Runs `load` for a credential that is not cached, once at a time: concurrent misses share its result. */
  once<T>(token: string, load: () => Promise<T>): Promise<T>;
}

export function createSessionCache(ttlMs: number, maxEntries = 10_000): SessionCache {
  const entries = new Map<string, { user: AuthUser; expiresAt: number }>();
  if (ttlMs <= 0)
    return {
      get: () => undefined,
      set: () => {},
      delete: () => {},
      clear: () => {},
      once: (_token, load) => load(),
    };
  const loading = new Map<string, Promise<unknown>>();
  return {
    once<T>(token: string, load: () => Promise<T>): Promise<T> {
      const pending = loading.get(token);
      if (pending) return pending as Promise<T>;
      const p = load().finally(() => loading.delete(token));
      loading.set(token, p);
      return p;
    },
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

/**
 * The cache key of a request's credential, in the order Better Auth reads them: "key:" + the SHA-256 of its API
 * key, "bearer:" + its bearer token, or "cookie:" + its session cookie (the signed token); the prefixes keep one
 * kind of credential from ever naming another's entry. Undefined: the request carries none of them, so Better Auth
 * would find no session either.
 */
export function credentialCacheKey(headers: Headers): string | undefined {
  const apiKey = headers.get("x-api-key")?.trim();
  // One-shot hash: a third of createHash().update().digest()'s cost, on every API-key request.
  if (apiKey) return `key:${hash("sha256", apiKey, "base64url")}`;
  const token = bearerToken(headers);
  if (token !== undefined) return `bearer:${token}`;
  const cookie = getSessionCookie(headers);
  return cookie ? `cookie:${cookie}` : undefined;
}

/** Whether the credential of this cache key is a session cookie (which a browser sends along with any page's request). */
export const isCookieKey = (key: string): boolean => key.startsWith("cookie:");

/** The bearer token of a request that carries no API key, or undefined. */
export function bearerToken(headers: Headers): string | undefined {
  return headers.has("x-api-key") ? undefined : parseBearer(headers.get("authorization"));
}
