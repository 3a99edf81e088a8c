/**
 * The route kit: one declaration per operation says who may call it and how often, and everything that
 * follows from that is derived here — the document's `security`, the middleware chain (the caller check, the
 * owner check, the signature check, the Idempotency-Key check), the 400/401/403/404/409/413/422/429/503 error
 * responses those checks can give, the RateLimit-* headers and the
 * `Cache-Control: no-store` of private answers — so the document cannot say something the code does not do,
 * and no handler can skip a check its access implies.
 */
import { createRoute, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { Result, Router } from "hono/router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";
import type { RouterRoute } from "hono/types";
import { currentUser, ensureAdmin, ensureUser } from "../auth/session";
import type { AppEnv, Deps } from "../deps";
import { forbidden, noRoute, notFound, sendError } from "../lib/errors";
import { isUuid } from "../lib/validation";
import { enterRoute, stageHeader } from "../middleware/edge";
import { idempotent } from "../middleware/idempotency";
import { requireMetricsToken } from "../middleware/metrics";
import { type RateLimitTier, rateLimitCheck } from "../middleware/rate-limit";
import { verifyEachlabsCallback, verifyPolarSignature } from "../middleware/webhook-guards";
import { IdempotencyKeyHeaderSchema } from "../schemas/common";
import { errorResponses, rateLimitHeaders } from "./responses";

/**
 * public: anyone; user: any signed-in caller; owner: a signed-in caller, on a resource that must be its own
 * (found by the route's `owner` resolver: 404 for an unknown id or one of the other mode, 403 for someone else's); admin: a user with the
 * admin role; signature: a signed callback (Polar's Standard Webhooks; the handler reads `polarEvent`); metrics: the
 * deployment's METRICS_TOKEN; callback: a provider's completion callback, authenticated by the per-prediction token
 * in its URL (the handler reads `callbackPredictionId`).
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

/** A check of the request before its handler: throws the refusal, else returns. */
type Check = (c: Context<AppEnv>) => Promise<void> | void;

/** Access decided from the caller's credentials: a check, run inside the route's one access middleware. */
const SIGNED_IN_CHECK: Partial<Record<Access, Check>> = {
  user: ensureUser,
  owner: ensureUser,
  admin: ensureAdmin,
};

/** Access decided by a middleware of its own (it reads the body or answers by itself). */
const GUARD: Partial<Record<Access, MiddlewareHandler<AppEnv>>> = {
  signature: verifyPolarSignature,
  metrics: requireMetricsToken,
  callback: verifyEachlabsCallback,
};

const PRIVATE = new Set<Access>(["user", "owner", "admin"]);
const NO_STORE = "no-store";
const noStoreHeader = {
  "Cache-Control": {
    description: "A private answer: no cache may keep it.",
    schema: { type: "string", enum: [NO_STORE] },
  },
} as const;
/** Staged before the route, so a route that sets its own Cache-Control replaces it (src/middleware/edge.ts). */
const noStore: Check = (c) => stageHeader(c, "Cache-Control", NO_STORE);

/**
 * How an `access: "owner"` route finds the resource it acts on. The kit reads the path parameter `param`
 * (default "id"): not a UUID, `load` finding nothing, or a row of the other mode (test/live), is 404 "`name` not found."; a row whose `userId` is not the
 * caller's is 403. The handler gets the row with `owned(c, resolver)`, so `load` should read what the handler needs
 * (one read per request).
 */
/** What an owner check reads of a resource: whose it is and its mode. */
export interface Owned {
  userId: string;
  livemode: boolean;
}

export interface OwnerResolver<T extends Owned = Owned> {
  /** The resource as messages name it: "Prediction". */
  name: string;
  /** The path parameter holding the resource's id; "id" unless said. */
  param?: string;
  load: (deps: Deps, id: string) => Promise<T | undefined>;
}

function resolveOwner(resolver: OwnerResolver): Check {
  const param = resolver.param ?? "id";
  const what = resolver.name.toLowerCase();
  return async (c) => {
    const user = currentUser(c);
    const id = c.req.param(param);
    if (!isUuid(id)) throw notFound(resolver.name);
    const row = await resolver.load(c.env.deps, id);
    // Test mode: an object of the other mode does not exist for this caller (test keys, live credentials).
    if (!row || row.livemode !== user.livemode) throw notFound(resolver.name);
    if (row.userId !== user.id) throw forbidden(`This ${what} belongs to another user.`);
    c.set("owned", row);
  };
}

/**
 * A route's checks before its handler, in order, as ONE middleware: every async middleware is a level of Hono's
 * chain (a closure, a promise and its resolution on each request), and a read passed three or four of them.
 */
function accessMiddleware(checks: Check[]): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    for (const check of checks) {
      const pending = check(c);
      if (pending) await pending;
    }
    await next();
  });
}

/** The resource the route's owner check found: the caller's own, as `resolver.load` read it. */
export function owned<T extends Owned>(c: Context<AppEnv>, _resolver: OwnerResolver<T>): T {
  const row = c.get("owned");
  // Only a handler of a route without this owner check gets here, and that is a bug.
  if (!row) throw new Error('owned() outside an access: "owner" route');
  return row as T;
}

/** What the access's check verified (`polarEvent` for signature, `callbackPredictionId` for callback). */
export function verified<K extends "polarEvent" | "callbackPredictionId">(
  c: Context<AppEnv>,
  key: K,
): NonNullable<AppEnv["Variables"][K]> {
  const value = c.get(key);
  if (value === undefined) throw new Error(`${key} outside a route whose access verifies it`);
  return value as NonNullable<AppEnv["Variables"][K]>;
}

/**
 * What the Idempotency-Key check can answer (src/middleware/idempotency.ts): 400 for a malformed key, 409 while a
 * twin request with the same key is in flight, 422 for the key reused with another body.
 */
const IDEMPOTENCY_ERRORS: readonly number[] = [400, 409, 422];

/** The body limit runs before every route: any write, with or without a body, may answer 413. */
const WRITES = new Set(["post", "put", "patch"]);
/** Unsafe methods: made with the session cookie, they need an allowed Origin (auth/session.ts), else 403. */
const UNSAFE = new Set(["post", "put", "patch", "delete"]);
const SIGNED_IN: ReadonlySet<Access> = new Set(["user", "owner", "admin"]);

type KitKeys = "access" | "owner" | "rateLimit" | "idempotent" | "errors";

interface KitRouteBase extends Omit<RouteConfig, "security" | "middleware"> {
  /** The rate-limit tier; RateLimit-* headers on every answer and 429 follow from it. */
  rateLimit?: RateLimitTier;
  /** An Idempotency-Key scope: the header is declared and honoured. */
  idempotent?: string;
  /** Error statuses of the operation itself, beyond those its access and rate limit imply (500 is always there). */
  errors?: readonly number[];
}

/** An owner route must say how its resource is found; no other route may. */
export type KitRoute =
  | (KitRouteBase & { access: "owner"; owner: OwnerResolver })
  | (KitRouteBase & { access: Exclude<Access, "owner">; owner?: never });

type Defined<R extends KitRoute> = Omit<R, KitKeys> & {
  security: SecurityRequirement;
  middleware: MiddlewareHandler<AppEnv>[];
};

export function defineRoute<const R extends KitRoute>(spec: R) {
  const { access, owner, rateLimit: tier, idempotent: scope, errors = [], responses, request, ...rest } = spec;
  // The types say so already; a declaration cast past them must not lose the check silently.
  if ((access === "owner") !== (owner !== undefined))
    throw new Error(
      `${rest.method.toUpperCase()} ${rest.path}: an owner resolver goes with access "owner", and only with it`,
    );
  const guard = GUARD[access];
  const signedIn = SIGNED_IN_CHECK[access];
  const isPrivate = PRIVATE.has(access);
  const checks: Check[] = [
    ...(isPrivate ? [noStore] : []),
    // The limiter runs first, so refused credentials count against the caller's budget and carry RateLimit-*.
    ...(tier ? [rateLimitCheck(tier)] : []),
    ...(signedIn ? [signedIn] : []),
    ...(owner ? [resolveOwner(owner)] : []),
  ];
  const middleware: MiddlewareHandler<AppEnv>[] = [
    ...(checks.length ? [accessMiddleware(checks)] : []),
    ...(guard ? [guard] : []),
    ...(scope ? [idempotent(scope)] : []),
  ];
  const rateLimited = tier !== undefined;
  const kitHeaders = { ...(rateLimited ? rateLimitHeaders : {}), ...(isPrivate ? noStoreHeader : {}) };
  const success = Object.fromEntries(
    Object.entries(responses).map(([status, response]) => [
      status,
      Object.keys(kitHeaders).length &&
      "headers" in response &&
      response.headers &&
      !(response.headers instanceof Function)
        ? {
            ...response,
            headers: { "X-Request-Id": undefined, ...kitHeaders, ...response.headers },
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
      ...errorResponses(
        [
          ...ACCESS_ERRORS[access],
          ...(scope ? IDEMPOTENCY_ERRORS : []),
          ...(WRITES.has(rest.method) ? [413] : []),
          ...(SIGNED_IN.has(access) && UNSAFE.has(rest.method) ? [403] : []),
          ...errors,
        ],
        {
          rateLimited,
        },
      ),
    },
  } as RouteConfig) as unknown as Defined<R> & { getRoutingPath(): string };
}

type Entry = [MiddlewareHandler<AppEnv>, RouterRoute];

/**
 * Hono's default router, with every handler told to the edge when a request reaches it first: that is where the edge
 * (src/middleware/edge.ts, around the app's fetch) learns the request's context and stages its headers, without a
 * middleware on `*` in every request's chain.
 *
 * A path matches the same handlers every time once the app serves, so the match of a path some route names exactly
 * (`/api/models`, not `/api/predictions/{id}`) is kept: what RegExpRouter's static map does, where the contract's
 * `/api/assets/kinds` beside `/api/assets/{id}` leaves Hono the trie router, which walks its tree on every request.
 * The table is bounded by the routes' own paths, whatever paths clients send.
 */
function enteringRouter(): Router<Entry> & { readonly kept: number } {
  const routes: Router<Entry> = new SmartRouter<Entry>({ routers: [new RegExpRouter(), new TrieRouter()] });
  const statics = new Map<string, Map<string, Result<Entry>>>();
  return {
    name: routes.name,
    /** How many matches are kept (at most one per method and path a route names). */
    get kept() {
      let n = 0;
      for (const byPath of statics.values()) n += byPath.size;
      return n;
    },
    // Hono's routers refuse a route added after the first match, so nothing kept can go stale.
    add(method, path, [handler, route]) {
      routes.add(method, path, [
        (c, next) => {
          // Only a request the edge scoped: an app without the edge (a test's) has another env, or none.
          if (c.env?.context === null) enterRoute(c);
          return handler(c, next);
        },
        route,
      ]);
    },
    match(method, path) {
      const known = statics.get(method)?.get(path);
      if (known) return known;
      const result = routes.match(method, path);
      if (named(result, path)) {
        const byPath = statics.get(method) ?? new Map<string, Result<Entry>>();
        statics.set(method, byPath.set(path, result));
      }
      return result;
    },
  };
}

/** Whether a route names this very path (its match may hold others too: `/api/assets/{id}` beside `/kinds`). */
function named(result: Result<Entry>, path: string): boolean {
  for (const [[, route]] of result[0]) if (route.path === path) return true;
  return false;
}

/** The router routes register on: one defaultHook turns Zod failures into our 400 envelope. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    router: enteringRouter(),
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
