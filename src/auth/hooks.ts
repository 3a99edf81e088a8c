/**
 * Our rules on Better Auth's endpoints, as a plugin of its own with a before-hook: they run for every way in
 * (HTTP and auth.api calls), before the endpoint itself, so an upgrade of Better Auth cannot route around them.
 */
import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware } from "better-auth/api";
import type { Database } from "../db";
import { isUuid } from "../lib/validation";
import { hasAccountHistory } from "../services/credits";
import { authBodyIssues, authOperation } from "./operations";
import { bearerToken, type SessionCache } from "./session-cache";
import { isAdmin } from "./user";

export interface AuthHookDeps {
  db: Database;
  sessionCache: SessionCache;
  /** The caller's user from request headers, through the whole of Better Auth (cookie, bearer or API key). */
  sessionUser(headers: Headers): Promise<{ id: string; role?: string | null; isAnonymous?: boolean | null } | null>;
}

export function logoRules(deps: AuthHookDeps) {
  return {
    id: "logo-rules",
    hooks: { before: [{ matcher: () => true, handler: beforeHook(deps) }] },
  } satisfies BetterAuthPlugin;
}

function beforeHook({ db, sessionCache, sessionUser }: AuthHookDeps) {
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
      const token = bearerToken(ctx.headers ?? new Headers());
      if (token) sessionCache.delete(token);
      if (ctx.path.startsWith("/admin/")) sessionCache.clear();
    }

    await refuseDeletingHistory(ctx, db, sessionUser);
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
