/**
 * Our rules on Better Auth's endpoints, as a plugin of its own with a before-hook: they run for every way in
 * (HTTP and auth.api calls), before the endpoint itself, so an upgrade of Better Auth cannot route around them.
 */
import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware } from "better-auth/api";
import type { Database } from "../db";
import { isAdmin } from "../domain/user";
import type { Clock } from "../lib/clock";
import { isUuid } from "../lib/validation";
import { hasAccountHistory } from "../services/guest-transfer";
import { clearSigninFailures, releaseSigninAttempt, reserveSigninAttempt } from "../services/signin-throttle";
import { authBodyIssues, authOperation } from "./operations";
import { credentialCacheKey, type SessionCache } from "./session-cache";

export interface AuthHookDeps {
  db: Database;
  sessionCache: SessionCache;
  /** The caller's user from request headers, through the whole of Better Auth (cookie, bearer or API key). */
  sessionUser(headers: Headers): Promise<{ id: string; role?: string | null; isAnonymous?: boolean | null } | null>;
  clock: Clock;
  /** Wrong passwords for one email in 15 minutes before its sign-ins answer 429 (SIGNIN_MAX_FAILURES). */
  signinMaxFailures: number;
}

const PASSWORD_SIGN_IN = "/sign-in/email";

export function logoRules(deps: AuthHookDeps) {
  return {
    id: "logo-rules",
    hooks: {
      before: [{ matcher: () => true, handler: beforeHook(deps) }],
      after: [{ matcher: (ctx) => ctx.path === PASSWORD_SIGN_IN, handler: signinOutcome(deps) }],
    },
  } satisfies BetterAuthPlugin;
}

function beforeHook({ db, sessionCache, sessionUser, clock, signinMaxFailures }: AuthHookDeps) {
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
        const reservation = await reserveSigninAttempt(db, email, signinMaxFailures, clock.now());
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

function signinEmail(ctx: HookContext): string | undefined {
  const email = (ctx.body as { email?: unknown } | undefined)?.email;
  return typeof email === "string" && email.trim() ? email : undefined;
}

/**
 * After a password sign-in: a success clears the account's failures; a wrong password (401) keeps the attempt
 * the before-hook counted; anything else (a refused request, an error) gives it back.
 */
function signinOutcome({ db }: AuthHookDeps) {
  return createAuthMiddleware(async (ctx) => {
    const email = signinEmail(ctx);
    if (!email) return;
    const returned: unknown = ctx.context.returned;
    const status =
      returned && typeof returned === "object" && "statusCode" in returned ? Number(returned.statusCode) : undefined;
    if (status === undefined && !(returned instanceof Error)) await clearSigninFailures(db, email);
    else if (status !== 401) await releaseSigninAttempt(db, email);
  });
}

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
