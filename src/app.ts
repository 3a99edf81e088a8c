import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { ApiError, type ErrorCode, errorBody, errorResponse } from "./lib/errors";
import { isUuid } from "./lib/validation";
import { getAuthUser, isAdmin } from "./middleware/auth";
import { requestMetrics } from "./middleware/metrics";
import { bearerToken } from "./middleware/session-cache";
import { authStringMaxLength, buildOpenApiDocument, SERVERS, toOpenApi30 } from "./openapi";
import { registerRoutes } from "./routes";
import { hasAccountHistory } from "./services/credits";
import type { AppEnv, Deps } from "./types";

/** The router every route module registers on: one defaultHook turns Zod failures into our 400 envelope. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      // A path id that cannot name anything (too long, wrong shape) is an unknown id: 404, as API.md says.
      if (!result.success && result.target === "param")
        return c.json(errorBody(c, "not_found", `Nothing found at ${c.req.path}.`), 404);
      if (!result.success) {
        const issues = result.error.issues.slice(0, 100).map((i) => ({
          path: i.path.map(String).join("."),
          message: i.message,
        }));
        const first = issues[0];
        const message = first
          ? `Invalid request: ${first.path ? `${first.path}: ` : ""}${first.message}`
          : "Invalid request.";
        return c.json(errorBody(c, "validation_error", message, { issues }), 400);
      }
    },
  });
}

/**
 * Better Auth's delete-anonymous-user and admin remove-user would delete a user whose balance, ledger,
 * predictions and orders are kept by RESTRICT foreign keys: the delete fails with a 500 after Better
 * Auth has already revoked the sessions, stranding the credits. Refused up front with 409 instead
 * (a guest keeps its credits by signing up; an admin bans instead of deleting).
 */
async function refuseDeletingHistory(c: Context<AppEnv>, deps: Deps): Promise<Response | undefined> {
  if (c.req.method !== "POST") return undefined;
  let userId: string | undefined;
  let message: string;
  if (c.req.path === "/api/auth/delete-anonymous-user") {
    const guest = await getAuthUser(c);
    userId = guest?.isAnonymous ? guest.id : undefined;
    message = "This guest has credits or generations; sign up to keep them instead of deleting the guest.";
  } else if (c.req.path === "/api/auth/admin/remove-user") {
    const caller = await getAuthUser(c);
    if (!caller || !isAdmin(caller)) return undefined; // Better Auth answers 401/403
    const body = (await c.req.raw
      .clone()
      .json()
      .catch(() => null)) as { userId?: unknown } | null;
    userId = isUuid(body?.userId) ? body.userId : undefined;
    message = "This user has a credit ledger, generations or orders, which are kept; ban the user instead.";
  } else return undefined;
  if (!userId || !(await hasAccountHistory(deps.db, userId))) return undefined;
  return c.json(errorBody(c, "conflict", message), 409);
}

export function createApp(deps: Deps) {
  const app = createRouter();
  const { config } = deps;

  app.use(
    "*",
    requestId({
      headerName: "X-Request-Id",
      // A client id is echoed only when it is 1–200 of [A-Za-z0-9_=-]; anything else gets a fresh UUID.
      generator: () => crypto.randomUUID(),
      limitLength: 200,
    }),
  );
  app.use("*", async (c, next) => {
    c.set("deps", deps);
    c.set("logger", deps.logger.child({ requestId: c.var.requestId }));
    const started = performance.now();
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const status = c.res.status;
    const line = { method: c.req.method, path: c.req.path, status, durationMs: ms, userId: c.var.user?.id };
    if (status >= 500) c.var.logger.error(line, "request");
    else c.var.logger.info(line, "request");
  });
  app.use("*", requestMetrics);
  app.use(
    "*",
    secureHeaders({
      // Scalar's page runs its own inline bootstrap; the API itself serves JSON only.
      contentSecurityPolicy: undefined,
      crossOriginResourcePolicy: "cross-origin",
    }),
  );
  app.use(
    "*",
    cors({
      origin: (origin) => (config.ALLOWED_ORIGINS.includes(origin) ? origin : null),
      credentials: true,
      allowHeaders: ["Content-Type", "Authorization", "X-Api-Key", "Idempotency-Key", "X-Request-Id", "Prefer"],
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      exposeHeaders: [
        "X-Request-Id",
        "Location",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "Retry-After",
        "Idempotent-Replayed",
        "Preference-Applied",
        "set-auth-token",
      ],
      maxAge: 600,
    }),
  );
  const tooLarge = (c: Context) => {
    const limit = config.BODY_LIMIT_BYTES;
    return c.json(
      errorBody(c, "payload_too_large", `The request body is larger than ${limit} bytes.`, { limitBytes: limit }),
      413,
    );
  };
  app.use("/api/webhooks/*", bodyLimit({ maxSize: Math.max(config.BODY_LIMIT_BYTES, 1024 * 1024), onError: tooLarge }));
  app.use("*", async (c, next) => {
    if (c.req.path.startsWith("/api/webhooks/")) return next();
    return bodyLimit({ maxSize: config.BODY_LIMIT_BYTES, onError: tooLarge })(c, next);
  });

  // Better Auth answers its own errors as {message, code}; rewrite them into our one Error envelope.
  app.on(["GET", "POST"], "/api/auth/*", async (c) => {
    const invalid = await authBodyIssues(c);
    if (invalid.length)
      return c.json(
        errorBody(c, "validation_error", `Invalid request: ${invalid[0]?.message}`, { issues: invalid }),
        400,
      );
    const refusal = await refuseDeletingHistory(c, deps);
    if (refusal) return refusal;
    if (c.req.method === "POST") {
      // Sign-out, linking, session revocation…: the cached user of this token must not outlive it.
      const token = bearerToken(c.req.raw.headers);
      if (token) deps.sessionCache.delete(token);
      if (c.req.path.startsWith("/api/auth/admin/")) deps.sessionCache.clear();
    }
    return authErrorAsEnvelope(c, await deps.auth.handler(c.req.raw));
  });

  registerRoutes(app);

  let doc31: Promise<Record<string, unknown>> | undefined;
  const document = () => {
    doc31 ??= buildOpenApiDocument(app, deps.auth).catch((err) => {
      doc31 = undefined;
      throw err;
    });
    return doc31;
  };
  app.get("/openapi.json", async (c) => c.json(await document()));
  app.get("/openapi-3.0.json", async (c) => c.json(toOpenApi30(await document())));

  let scalarBundle: Promise<string> | undefined;
  app.get("/docs/scalar.js", async (c) => {
    scalarBundle ??= readFile(scalarBundlePath(), "utf8");
    c.header("Content-Type", "application/javascript; charset=utf-8");
    c.header("Cache-Control", "public, max-age=86400");
    return c.body(await scalarBundle);
  });
  // "Send request" in the reference goes to the server showing it (BETTER_AUTH_URL, its public URL,
  // when set), listed before the document's own servers; the document itself stays the same everywhere.
  app.get(
    "/docs",
    Scalar((c) => ({
      url: "/openapi.json",
      cdn: "/docs/scalar.js",
      pageTitle: "Logo API reference",
      theme: "default",
      servers: [
        { url: deps.config.BETTER_AUTH_URL ?? new URL(c.req.url).origin, description: "This server" },
        ...SERVERS.filter((s) => s.url !== deps.config.BETTER_AUTH_URL),
      ],
    })),
  );

  app.notFound((c) => c.json(errorBody(c, "not_found", `No route for ${c.req.method} ${c.req.path}.`), 404));

  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(c, err);
    if (err instanceof HTTPException) {
      const status = err.status;
      if (status === 400) {
        // The JSON validator's parse failure (malformed body) and similar client errors.
        return c.json(
          errorBody(c, "validation_error", err.message || "The request body is not valid JSON.", {
            issues: [{ path: "", message: err.message || "Malformed request" }],
          }),
          400,
        );
      }
      if (status === 401) return c.json(errorBody(c, "unauthorized", "Authentication required."), 401);
      if (status === 413) return tooLarge(c);
      if (status === 415)
        return c.json(
          errorBody(c, "validation_error", "Send the request body as JSON with Content-Type: application/json.", {
            issues: [{ path: "", message: "Content-Type must be application/json" }],
          }),
          400,
        );
    }
    const log = c.var.logger ?? deps.logger;
    log.error({ err, requestId: c.var.requestId }, "unhandled error");
    return c.json(
      errorBody(c, "internal_error", "Something went wrong on our side. Quote the request id if you contact support."),
      500,
    );
  });

  return app;
}

export type App = ReturnType<typeof createApp>;

function scalarBundlePath(): string {
  const require = createRequire(import.meta.url);
  // standalone.js is not in the package's exports; it sits beside the main entry.
  return join(dirname(require.resolve("@scalar/api-reference")), "browser", "standalone.js");
}

/**
 * Better Auth does not bound most of its strings; the merged document does (src/openapi.ts). Check the
 * top-level strings of a JSON body against those bounds (and for NUL, which PostgreSQL cannot store).
 */
async function authBodyIssues(c: Context<AppEnv>): Promise<{ path: string; message: string }[]> {
  if (c.req.method !== "POST" || !(c.req.header("content-type") ?? "").includes("application/json")) return [];
  let body: unknown;
  try {
    body = JSON.parse(await c.req.raw.clone().text());
  } catch {
    return []; // Better Auth answers malformed JSON itself
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return [];
  const path = c.req.path.slice("/api/auth".length);
  const issues: { path: string; message: string }[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (typeof value !== "string") continue;
    const max = authStringMaxLength(key, path);
    if (value.length > max) issues.push({ path: key, message: `${key}: at most ${max} characters` });
    else if (value.includes("\u0000")) issues.push({ path: key, message: `${key}: must not contain NUL characters` });
  }
  return issues;
}

/** Our error code for a Better Auth error status (its 422, "user already exists", is answered as 409). */
export function authErrorCode(status: number): ErrorCode {
  if (status >= 500) return "internal_error";
  switch (status) {
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
    case 422:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 429:
      return "rate_limited";
    default:
      return "validation_error";
  }
}

/**
 * Rewrites a Better Auth 4xx/5xx JSON (or empty) response into the Error envelope, keeping its status
 * and headers (cookies included). Better Auth's own code goes to `details.authCode`; a 5xx message is
 * never passed on. Its 429 carries `X-Retry-After`; we add the standard `Retry-After`.
 */
export async function authErrorAsEnvelope(c: Context<AppEnv>, res: Response): Promise<Response> {
  if (res.status < 400) return res;
  const text = await res.clone().text();
  let parsed: { message?: unknown; code?: unknown } | undefined;
  if (text.trim()) {
    try {
      const value: unknown = JSON.parse(text);
      if (!value || typeof value !== "object" || Array.isArray(value)) return res;
      parsed = value as { message?: unknown; code?: unknown };
    } catch {
      return res; // not JSON (an HTML page): leave it alone
    }
  }
  // Better Auth answers "user already exists" with 422; our table reserves 422 for idempotency keys.
  const status = res.status === 422 ? 409 : res.status;
  const code = authErrorCode(status);
  const authCode = typeof parsed?.code === "string" ? parsed.code.slice(0, 200) : undefined;
  let message =
    typeof parsed?.message === "string" && parsed.message.trim()
      ? parsed.message.slice(0, 2000)
      : (res.statusText || "Authentication request failed.").slice(0, 2000);
  if (status >= 500) {
    (c.var.logger ?? c.var.deps.logger).error({ status, authCode, authMessage: parsed?.message }, "better-auth error");
    message = "Something went wrong on our side. Quote the request id if you contact support.";
  }
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  headers.set("content-type", "application/json");
  const retryAfter = headers.get("x-retry-after");
  if (status === 429 && retryAfter && !headers.has("retry-after")) headers.set("retry-after", retryAfter);
  const body = errorBody(c, code, message, authCode ? { authCode } : undefined);
  return new Response(JSON.stringify(body), { status, headers });
}
