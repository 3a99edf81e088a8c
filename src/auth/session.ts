import { APIError } from "better-auth/api";
import type { Context } from "hono";
import { databaseUnavailable } from "../db/outage";
import type { AppEnv, Deps } from "../deps";
import { isLiveCredential } from "../domain/modes";
import { type AuthUser, isAdmin } from "../domain/user";
import { ApiError, forbidden, unauthorized } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { requestLogger } from "../lib/request-logger";
import { credentialCacheKey, isCookieKey } from "./session-cache";

/**
 * The signed-in user from a session cookie, `Authorization: Bearer <session token>` or
 * `x-api-key`, resolved once per request. Banned users count as signed out. At once (no promise) when it is resolved
 * already or its credential is in the session cache, as on most reads: the route's checks then pass without a
 * promise each (src/openapi/kit.ts).
 */
export function getAuthUser(c: Context<AppEnv>): AuthUser | null | Promise<AuthUser | null> {
  if (c.get("authResolved")) return c.get("user") ?? null;
  const headers = c.req.raw.headers;
  const key = credentialCacheKey(headers);
  const user = userOfKey(c.env.deps, () => requestLogger(c), headers, key);
  return user instanceof Promise ? user.then((u) => resolved(c, u, key)) : resolved(c, user, key);
}

function resolved(c: Context<AppEnv>, user: AuthUser | null, key: string | undefined): AuthUser | null {
  // The user came from the session cookie, which a browser sends along with a foreign page's form or fetch. An
  // unsafe request must then come from one of our origins.
  if (user && key && isCookieKey(key)) refuseCrossSiteWrite(c);
  c.set("authResolved", true);
  if (user) c.set("user", user);
  return user;
}

/**
 * The user the credentials of these headers (session cookie, bearer token or API key) stand for, or null; through
 * the session cache for a bearer token or an API key. A database outage is a 503, not "signed out" (logged through
 * `log`, called only then).
 */
export async function userOfCredentials(deps: Deps, log: () => Logger, headers: Headers): Promise<AuthUser | null> {
  return userOfKey(deps, log, headers, credentialCacheKey(headers));
}

/**
 * The user of the credential with this cache key: at once when it is cached, or null (signed out) for a request with
 * no credential at all (no bearer token, no API key, no session cookie), such as an anonymous read of a public route,
 * whose rate limit asks who it is (a lookup through Better Auth's dispatch cost ~65 µs of CPU to find nobody);
 * otherwise Better Auth's answer.
 */
function userOfKey(
  deps: Deps,
  log: () => Logger,
  headers: Headers,
  key: string | undefined,
): AuthUser | null | Promise<AuthUser | null> {
  if (!key) return null;
  return deps.sessionCache.get(key, deps.clock.now().getTime()) ?? lookupUser(deps, log, headers, key);
}

/** Better Auth's answer for these credentials (not in the cache), cached under `token`. */
function lookupUser(deps: Deps, log: () => Logger, headers: Headers, token: string): Promise<AuthUser | null> {
  const { sessionCache, clock } = deps;
  const lookup = async (): Promise<AuthUser | null> => {
    const session = await deps.auth.api.getSession({ headers }).catch((err: unknown) => {
      // Refused credentials (a bad or expired API key): signed out.
      if (err instanceof APIError && err.statusCode < 500) return null;
      // An outage is not "signed out": a 503 tells the client to retry, a 401 would tell it to sign in again.
      log().error({ err }, "session lookup failed");
      throw databaseUnavailable("Sessions cannot be checked right now; retry shortly.");
    });
    const u = session?.user as (AuthUser & { banned?: boolean | null }) | undefined;
    if (!u || u.banned) return null;
    const found: AuthUser = {
      id: u.id,
      email: u.email,
      name: u.name,
      role: u.role ?? null,
      isAnonymous: Boolean(u.isAnonymous),
      // The API-key plugin verified this key (its prefix included: it is part of the hashed secret).
      livemode: isLiveCredential(headers.get("x-api-key")?.trim()),
    };
    sessionCache.set(token, found, clock.now().getTime());
    return found;
  };
  // A burst from one busy credential whose entry just expired makes one lookup, not one per request.
  return sessionCache.once(token, lookup);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Cross-site request forgery: an unsafe request (POST, PUT, PATCH, DELETE) authenticated by the session cookie
 * must carry an Origin in ALLOWED_ORIGINS, or, when a browser sent no Origin, a Referer on one; otherwise 403.
 * Better Auth holds its own endpoints to the same rule; bearer tokens and API keys cannot be attached by a
 * foreign page, so those requests are not concerned.
 */
function refuseCrossSiteWrite(c: Context<AppEnv>): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  const allowed = c.env.deps.config.ALLOWED_ORIGINS;
  const origin = c.req.header("origin");
  const referer = c.req.header("referer");
  let from: string | undefined;
  if (origin !== undefined) from = origin;
  else if (referer) {
    try {
      from = new URL(referer).origin;
    } catch {
      from = undefined;
    }
  }
  if (from && allowed.includes(from)) return;
  throw forbidden(
    "A request authenticated by the session cookie that changes something must come from an allowed origin (Origin or Referer).",
  );
}

/** A signed-in caller, or 401. As a check, for a route's one access middleware (src/openapi/kit.ts). */
export function ensureUser(c: Context<AppEnv>): void | Promise<void> {
  const user = getAuthUser(c);
  return user instanceof Promise ? user.then(signedIn) : signedIn(user);
}

function signedIn(user: AuthUser | null): void {
  if (!user) throw unauthorized();
}

/** A signed-in administrator, or 401 (signed out) / 403. */
export function ensureAdmin(c: Context<AppEnv>): void | Promise<void> {
  const user = getAuthUser(c);
  return user instanceof Promise ? user.then(administrator) : administrator(user);
}

function administrator(user: AuthUser | null): void {
  if (!user) throw unauthorized();
  if (!isAdmin(user)) throw new ApiError("forbidden", "This endpoint is for administrators.");
}

/** The user set by ensureUser/ensureAdmin; a route without them calling this is a bug. */
export function currentUser(c: Context<AppEnv>): AuthUser {
  const u = c.get("user");
  if (!u) throw unauthorized();
  return u;
}
