import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { databaseAnswers, databaseUnavailable } from "../db/outage";
import type { AppEnv } from "../deps";
import { CLIENT_ADDRESS_HEADER } from "../lib/client-address";
import { codeOfStatus, type ErrorCode, errorBody, noRoute, STATUS_OF } from "../lib/errors";
import { requestLogger } from "../lib/request-logger";
import { authOperation } from "./operations";

export const AUTH_BASE_PATH = "/api/auth";

/**
 * Better Auth's endpoints under /api/auth: those this server enables (operations.ts) go to its handler, with
 * their errors rewritten into our one Error envelope; anything else is 404 like any unknown route.
 */
export function mountAuth(app: OpenAPIHono<AppEnv>) {
  app.on(["GET", "POST"], `${AUTH_BASE_PATH}/*`, async (c) => {
    if (!authOperation(c.req.method, c.req.path.slice(AUTH_BASE_PATH.length))) return noRoute(c);
    const res = await c.env.deps.auth.handler(withClientAddress(c.req.raw, c.env.clientAddress()));
    // Better Auth answers a failed database call with a bare 500; when the database is down that is an outage.
    if (res.status >= 500 && !(await databaseAnswers(c.env.deps.database))) throw databaseUnavailable();
    return authErrorAsEnvelope(c, res);
  });
}

/**
 * The request as Better Auth sees it: CLIENT_ADDRESS_HEADER carries the address we resolved (its limiter,
 * session metadata and the free-credit budget read it); a copy sent by the client is replaced.
 */
function withClientAddress(req: Request, address: string): Request {
  const headers = new Headers(req.headers);
  headers.delete(CLIENT_ADDRESS_HEADER);
  headers.set(CLIENT_ADDRESS_HEADER, address);
  return new Request(req, { headers });
}

/**
 * The status we answer for a Better Auth error status: its 422 ("user already exists") is a conflict here, since
 * 422 is ours for reused idempotency keys; an unsupported Content-Type (its 415) is a validation_error, which is
 * 400 here as on our own routes.
 */
const authStatus = (status: number) =>
  status === 422 ? STATUS_OF.conflict : status === 415 ? STATUS_OF.validation_error : status;

/** Our error code for a Better Auth error status: the one STATUS_OF gives it; any other 4xx is a validation_error. */
export function authErrorCode(status: number): ErrorCode {
  if (status >= 500) return "internal_error";
  return codeOfStatus(authStatus(status)) ?? "validation_error";
}

/**
 * Rewrites a Better Auth 4xx/5xx JSON (or empty) response into the Error envelope, keeping its status
 * and headers (cookies included). Better Auth's own code goes to `details.authCode`; a 5xx message is
 * never passed on. Its 429 carries `X-Retry-After`; we add the standard `Retry-After`.
 */
export async function authErrorAsEnvelope(c: Context<AppEnv>, res: Response): Promise<Response> {
  if (res.status < 400) return res;
  const text = await res.clone().text();
  let parsed: { message?: unknown; code?: unknown; issues?: unknown } | undefined;
  if (text.trim()) {
    try {
      const value: unknown = JSON.parse(text);
      if (!value || typeof value !== "object" || Array.isArray(value)) return res;
      parsed = value as typeof parsed;
    } catch {
      return res; // not JSON (an HTML page): leave it alone
    }
  }
  const status = authStatus(res.status);
  const code = authErrorCode(status);
  const authCode = typeof parsed?.code === "string" ? parsed.code.slice(0, 200) : undefined;
  let message =
    typeof parsed?.message === "string" && parsed.message.trim()
      ? parsed.message.slice(0, 2000)
      : (res.statusText || "Authentication request failed.").slice(0, 2000);
  if (status >= 500) {
    requestLogger(c).error({ status, authCode, authMessage: parsed?.message }, "better-auth error");
    message = "Something went wrong on our side. Quote the request id if you contact support.";
  }
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  headers.set("content-type", "application/json");
  const retryAfter = headers.get("x-retry-after");
  if (status === 429 && retryAfter && !headers.has("retry-after")) headers.set("retry-after", retryAfter);
  // Our own hook's refusals carry the validation issues, as every other 400 does.
  const issues = Array.isArray(parsed?.issues) ? parsed.issues.slice(0, 100) : undefined;
  const details = authCode || issues ? { ...(authCode ? { authCode } : {}), ...(issues ? { issues } : {}) } : undefined;
  const body = errorBody(c, code, message, details);
  return new Response(JSON.stringify(body), { status, headers });
}
