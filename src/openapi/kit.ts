/**
 * The route kit: one declaration per operation says who may call it and how often, and everything that
 * follows from that is derived here — the document's `security`, the middleware chain, the 401/403/404/429
 * error responses and the RateLimit-* headers — so the document cannot say something the code does not do.
 */
import { createRoute, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { requireAdmin, requireUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { noRoute, sendError } from "../lib/errors";
import { idempotent } from "../middleware/idempotency";
import { requireMetricsToken } from "../middleware/metrics";
import { type RateLimitTier, rateLimit } from "../middleware/rate-limit";
import { IdempotencyKeyHeaderSchema } from "../schemas/common";
import { errorResponses, rateLimitHeaders } from "./responses";

/**
 * public: anyone; user: any signed-in caller; owner: a signed-in caller, on a resource that must be its own
 * (403 for someone else's, 404 for an unknown id); admin: a user with the admin role; signature: a signed
 * callback (Polar's Standard Webhooks); metrics: the deployment's METRICS_TOKEN; callback: a provider's completion
 * callback, authenticated by the per-prediction token in its URL (checked by the handler, which knows the prediction).
 */
export type Access = "public" | "user" | "owner" | "admin" | "signature" | "metrics" | "callback";

type SecurityRequirement = { [scheme: string]: string[] }[];

/** Any of our three credentials; admin routes name separate schemes so the document can tell them apart. */
const USER: SecurityRequirement = [{ cookieAuth: [] }, { bearerAuth: [] }, { apiKeyAuth: [] }];
const ADMIN: SecurityRequirement = [{ adminCookieAuth: [] }, { adminBearerAuth: [] }, { adminApiKeyAuth: [] }];

const SECURITY: Record<Access, SecurityRequirement> = {
  public: [],
  user: USER,
  owner: USER,
  admin: ADMIN,
  signature: [{ webhookSignature: [] }],
  metrics: [{ metricsToken: [] }],
  callback: [{ eachlabsCallbackToken: [] }],
};

/** What each kind of caller check can answer (503 comes with 401: checking credentials needs the database). */
const ACCESS_ERRORS: Record<Access, readonly number[]> = {
  public: [],
  user: [401],
  owner: [401, 403, 404],
  admin: [401, 403],
  signature: [403],
  // 404: in production without METRICS_TOKEN the endpoint does not exist.
  metrics: [401, 404],
  callback: [403],
};

const GUARD: Partial<Record<Access, MiddlewareHandler<AppEnv>>> = {
  user: requireUser,
  owner: requireUser,
  admin: requireAdmin,
  metrics: requireMetricsToken,
};

/** The body limit runs before every route: any write, with or without a body, may answer 413. */
const WRITES = new Set(["post", "put", "patch"]);

type KitKeys = "access" | "rateLimit" | "idempotent" | "errors";

export interface KitRoute extends Omit<RouteConfig, "security" | "middleware"> {
  access: Access;
  /** The rate-limit tier; RateLimit-* headers on every answer and 429 follow from it. */
  rateLimit?: RateLimitTier;
  /** An Idempotency-Key scope: the header is declared and honoured. */
  idempotent?: string;
  /** Error statuses of the operation itself, beyond those its access and rate limit imply (500 is always there). */
  errors?: readonly number[];
}

type Defined<R extends KitRoute> = Omit<R, KitKeys> & {
  security: SecurityRequirement;
  middleware: MiddlewareHandler<AppEnv>[];
};

export function defineRoute<const R extends KitRoute>(spec: R) {
  const { access, rateLimit: tier, idempotent: scope, errors = [], responses, request, ...rest } = spec;
  const guard = GUARD[access];
  const middleware: MiddlewareHandler<AppEnv>[] = [
    // The limiter runs first, so refused credentials count against the caller's budget and carry RateLimit-*.
    ...(tier ? [rateLimit(tier)] : []),
    ...(guard ? [guard] : []),
    ...(scope ? [idempotent(scope)] : []),
  ];
  const rateLimited = tier !== undefined;
  const success = Object.fromEntries(
    Object.entries(responses).map(([status, response]) => [
      status,
      rateLimited && "headers" in response && response.headers && !(response.headers instanceof Function)
        ? {
            ...response,
            headers: { "X-Request-Id": undefined, ...rateLimitHeaders, ...response.headers },
          }
        : response,
    ]),
  );
  return createRoute({
    ...rest,
    ...(request || scope ? { request: { ...(scope ? { headers: IdempotencyKeyHeaderSchema } : {}), ...request } } : {}),
    security: SECURITY[access],
    middleware,
    responses: {
      ...success,
      ...errorResponses([...ACCESS_ERRORS[access], ...(WRITES.has(rest.method) ? [413] : []), ...errors], {
        rateLimited,
      }),
    },
  } as RouteConfig) as unknown as Defined<R> & { getRoutingPath(): string };
}

/** The router routes register on: one defaultHook turns Zod failures into our 400 envelope. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      // A path id that cannot name anything (too long, wrong shape) is an unknown id: 404.
      if (result.target === "param") return noRoute(c);
      const issues = result.error.issues.slice(0, 100).map((i) => ({
        path: i.path.map(String).join("."),
        message: i.message,
      }));
      const first = issues[0];
      const message = first
        ? `Invalid request: ${first.path ? `${first.path}: ` : ""}${first.message}`
        : "Invalid request.";
      return sendError(c, "validation_error", message, { issues });
    },
  });
}
