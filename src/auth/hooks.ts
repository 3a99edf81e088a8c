/**
 * Our rules on Better Auth's endpoints, as a plugin of its own with a before-hook: they run for every way in
 * (HTTP and auth.api calls), before the endpoint itself, so an upgrade of Better Auth cannot route around them.
 */
import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware } from "better-auth/api";
import type { Database } from "../db";
import { isAdmin } from "../domain/user";
import { CLIENT_ADDRESS_HEADER } from "../lib/client-address";
import type { Clock } from "../lib/clock";
import { isUuid } from "../lib/validation";
import { hasAccountHistory } from "../services/guest-transfer";
import {
  clearSigninFailures,
  deviceCookieName,
  deviceTag,
  releaseSigninAttempt,
  reserveSigninAttempt,
} from "../services/signin-throttle";
import { API_KEY_AUTH_PATHS, authBodyIssues, authOperation } from "./operations";
import { credentialCacheKey, type SessionCache } from "./session-cache";

export interface AuthHookDeps {
  db: Database;
  sessionCache: SessionCache;
  /** The caller's user from request headers, through the whole of Better Auth (cookie, bearer or API key). */
  sessionUser(headers: Headers): Promise<{ id: string; role?: string | null; isAnonymous?: boolean | null } | null>;
  clock: Clock;
  /** Wrong passwords for one email from one client address in 15 minutes before they answer 429 (SIGNIN_MAX_FAILURES). */
  signinMaxFailures: number;
  /** Wrong passwords for one email from every address in 15 minutes before all answer 429 (SIGNIN_MAX_FAILURES_PER_ACCOUNT). */
  signinMaxFailuresPerAccount: number;
}

const PASSWORD_SIGN_IN = "/sign-in/email";
/** How long a device cookie says "this device has signed in to this account before". */
const DEVICE_COOKIE_MAX_AGE_S = 365 * 24 * 60 * 60;

/**
 * An API key reaches this API's resources, never account management: with `x-api-key`, every Better Auth
 * endpoint but reading its own session is refused before the key is even verified. Otherwise a leaked key could
 * list the user's session tokens, mint more keys or change the account, and revoking it would end nothing.
 * Installed as the instance's own before-hook, which Better Auth runs ahead of every plugin's (the API-key
 * plugin's included), for HTTP and auth.api calls alike.
 */
export const refuseApiKeys = createAuthMiddleware(async (ctx) => {
  if (!ctx.headers?.get("x-api-key") || API_KEY_AUTH_PATHS.has(ctx.path ?? "")) return;
  throw new APIError("FORBIDDEN", {
    message: "API keys cannot call account management endpoints; sign in with a session instead.",
    code: "API_KEY_NOT_ALLOWED",
  });
});

/** Endpoints that list sessions: their answers never carry the sessions' tokens (usable as bearer tokens). */
const SESSION_LISTS = new Set(["/list-sessions", "/admin/list-user-sessions"]);

export function logoRules(deps: AuthHookDeps) {
  return {
    id: "logo-rules",
    hooks: {
      before: [{ matcher: () => true, handler: beforeHook(deps) }],
      after: [
        { matcher: (ctx) => ctx.path === PASSWORD_SIGN_IN, handler: signinOutcome(deps) },
        { matcher: (ctx) => SESSION_LISTS.has(ctx.path ?? ""), handler: withoutSessionTokens },
      ],
    },
  } satisfies BetterAuthPlugin;
}

function beforeHook({
  db,
  sessionCache,
  sessionUser,
  clock,
  signinMaxFailures,
  signinMaxFailuresPerAccount,
}: AuthHookDeps) {
  return createAuthMiddleware(async (ctx) => {
    // Request bodies are held to the bounds the document declares for this endpoint.
    const method = ctx.request?.method ?? ctx.method ?? "POST";
    const issues = authBodyIssues(authOperation(method, ctx.path), ctx.body, ctx.query);
    if (issues.length)
      throw new APIError("BAD_REQUEST", {
        message: `Invalid request: ${issues[0]?.message}`,
        code: "INVALID_REQUEST_BODY",
        issues,
      });

    if (ctx.request?.method === "POST") {
      // Sign-out, linking, session revocation…: the cached user of this token must not outlive it; an admin
      // action (ban, role change, session revocation) may concern anyone's, so every entry goes.
      const token = credentialCacheKey(ctx.headers ?? new Headers());
      if (token) sessionCache.delete(token);
      // A key is cached under its hash and these requests name it by id: every entry goes, so a revoked or
      // disabled key stops working on this instance at once.
      if (ctx.path.startsWith("/admin/") || ctx.path === "/api-key/delete" || ctx.path === "/api-key/update")
        sessionCache.clear();
    }

    if (ctx.path === PASSWORD_SIGN_IN) {
      const email = signinEmail(ctx);
      if (email) {
        const reservation = await reserveSigninAttempt(
          db,
          email,
          signinAddress(ctx),
          {
            maxFailures: signinMaxFailures,
            maxPerAccount: (await knownDevice(ctx, email)) ? null : signinMaxFailuresPerAccount,
          },
          clock.now(),
        );
        if (!reservation.allowed) {
          const seconds = String(reservation.retryAfterSeconds);
          throw new APIError(
            "TOO_MANY_REQUESTS",
            {
              message: `Too many failed sign-ins for this account. Retry in ${seconds} seconds.`,
              code: "TOO_MANY_FAILED_SIGN_INS",
            },
            { "Retry-After": seconds, "X-Retry-After": seconds },
          );
        }
      }
    }

    await refuseDeletingHistory(ctx, db, sessionUser);
  });
}

/**
 * The client address our /api/auth handler resolved (TRUSTED_PROXIES) and put in CLIENT_ADDRESS_HEADER, replacing
 * any client copy; a server-side auth.api call has none and counts as one address of its own.
 */
function signinAddress(ctx: HookContext): string {
  return ctx.headers?.get(CLIENT_ADDRESS_HEADER) ?? ctx.request?.headers.get(CLIENT_ADDRESS_HEADER) ?? "server";
}

/**
 * Whether the request shows this account's device cookie: set (signed with the auth secret) when a password sign-in
 * to the account succeeded on this device. Its value is the account's tag (a hash of the email) and a nonce.
 */
async function knownDevice(ctx: HookContext, email: string): Promise<boolean> {
  if (!ctx.headers?.get("cookie") && !ctx.request?.headers.get("cookie")) return false;
  const value = await ctx.getSignedCookie(deviceCookieName(email), ctx.context.secret).catch(() => null);
  return typeof value === "string" && value.startsWith(`${deviceTag(email)}.`);
}

/** After a successful password sign-in: this device is known to the account from now on. */
async function rememberDevice(ctx: HookContext, email: string): Promise<void> {
  const session = ctx.context.authCookies.sessionToken.attributes;
  await ctx.setSignedCookie(deviceCookieName(email), `${deviceTag(email)}.${crypto.randomUUID()}`, ctx.context.secret, {
    ...session,
    path: "/",
    httpOnly: true,
    maxAge: DEVICE_COOKIE_MAX_AGE_S,
  });
}

function signinEmail(ctx: HookContext): string | undefined {
  const email = (ctx.body as { email?: unknown } | undefined)?.email;
  return typeof email === "string" && email.trim() ? email : undefined;
}

/**
 * After a password sign-in: a success clears the account's failures (and its address's) and sets the device cookie;
 * a wrong password (401) keeps the attempt the before-hook counted; anything else (a refused request, an error)
 * gives it back.
 */
function signinOutcome({ db }: AuthHookDeps) {
  return createAuthMiddleware(async (ctx) => {
    const email = signinEmail(ctx);
    if (!email) return;
    const returned: unknown = ctx.context.returned;
    const status =
      returned && typeof returned === "object" && "statusCode" in returned ? Number(returned.statusCode) : undefined;
    const address = signinAddress(ctx);
    if (status === undefined && !(returned instanceof Error)) {
      await clearSigninFailures(db, email, address);
      await rememberDevice(ctx, email);
    } else if (status !== 401) await releaseSigninAttempt(db, email, address, await knownDevice(ctx, email));
  });
}

/** A session list as answered: each session without its `token` (a plain array, or `{ sessions }` for admins). */
const withoutSessionTokens = createAuthMiddleware(async (ctx) => {
  const returned: unknown = ctx.context.returned;
  const strip = (list: unknown[]) =>
    list.map((s) => {
      if (!s || typeof s !== "object") return s;
      const { token: _token, ...rest } = s as Record<string, unknown>;
      return rest;
    });
  if (Array.isArray(returned)) return ctx.json(strip(returned));
  if (returned && typeof returned === "object" && Array.isArray((returned as { sessions?: unknown }).sessions))
    return ctx.json({ ...returned, sessions: strip((returned as { sessions: unknown[] }).sessions) });
  // A refusal or anything else: only a list is rewritten.
  return;
});

type HookContext = Parameters<Parameters<typeof createAuthMiddleware>[0]>[0];

/**
 * Deleting a guest (delete-anonymous-user) or removing a user (admin remove-user) whose credits, ledger,
 * predictions or orders exist would fail on the RESTRICT foreign keys that keep them, after Better Auth had
 * already revoked the sessions, stranding the credits. Refused up front with 409: a guest keeps its credits by
 * signing up; an admin bans instead of removing.
 */
async function refuseDeletingHistory(
  ctx: HookContext,
  db: Database,
  sessionUser: AuthHookDeps["sessionUser"],
): Promise<void> {
  let userId: string | undefined;
  let message: string;
  if (ctx.path === "/delete-anonymous-user") {
    const caller = await sessionUser(ctx.headers ?? new Headers());
    userId = caller?.isAnonymous ? caller.id : undefined;
    message = "This guest has credits or generations; sign up to keep them instead of deleting the guest.";
  } else if (ctx.path === "/admin/remove-user") {
    const caller = await sessionUser(ctx.headers ?? new Headers());
    if (!caller || !isAdmin(caller)) return; // Better Auth answers 401/403
    const target = (ctx.body as { userId?: unknown } | undefined)?.userId;
    userId = isUuid(target) ? target : undefined;
    message = "This user has a credit ledger, generations or orders, which are kept; ban the user instead.";
  } else return;
  if (userId && (await hasAccountHistory(db, userId)))
    throw new APIError("CONFLICT", { message, code: "ACCOUNT_HAS_HISTORY" });
}
