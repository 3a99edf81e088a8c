import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { matchedRoutes } from "hono/route";
import type { AppEnv, Deps, RequestScope } from "../deps";
import { resolveClientAddress, socketAddress, trustedProxies } from "../lib/client-address";
import { requestLineWriter } from "../lib/logger";
import { bodyLimits } from "./body-limits";

/**
 * Security headers of every response: what protects a JSON API (HSTS, no sniffing, no framing, no referrer, CORP
 * opened for our images). Every header is paid on every response by the server and by the client that parses
 * it: 18 headers cost a bare Bun server 10 µs of CPU per request, and halved what one load generator could
 * drive.
 */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "SAMEORIGIN"],
  ["Referrer-Policy", "no-referrer"],
  ["Cross-Origin-Resource-Policy", "cross-origin"],
];

/**
 * The rest of helmet's defaults (as hono/secure-headers sets them), which only a document a browser renders
 * can use: the /docs page, and the images under /files and /sandbox (an SVG opened directly is a document).
 */
const DOCUMENT_HEADERS: readonly (readonly [string, string])[] = [
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];
const DOCUMENT_PATHS = ["/docs", "/files/", "/sandbox/"];

/**
 * Every request header a client of this API sends (the typed client, EventSource's reconnection), so a browser's
 * preflight for any of them is answered yes.
 */
export const CORS_ALLOW_HEADERS = [
  "Content-Type",
  "Authorization",
  "X-Api-Key",
  "Idempotency-Key",
  "X-Request-Id",
  "Prefer",
  "Last-Event-ID",
  // An MCP client in a page (src/mcp/server.ts) sends it after initializing.
  "Mcp-Protocol-Version",
];
const CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/** What a page on another origin may read of an answer: the same list on every answer, Better Auth's included. */
export const CORS_EXPOSED = [
  "X-Request-Id",
  "Location",
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
  "Retry-After",
  "Idempotent-Replayed",
  "Preference-Applied",
  "Content-Disposition",
  "set-auth-token",
];
const CORS_EXPOSE_HEADERS = CORS_EXPOSED.join(",");
const CORS_MAX_AGE_S = 600;

/** A client's X-Request-Id is echoed only when it is 1–200 of [A-Za-z0-9_=-]; anything else gets a fresh UUID. */
const REQUEST_ID = /^[\w\-=]{1,200}$/;

// Clients choose the method: anything unusual is one label value, so no caller can grow the series set.
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The app the edge goes around: its fetch, its path parser, and its routes' registration. */
type EdgedApp = Pick<OpenAPIHono<AppEnv>, "fetch" | "getPath" | "on">;

/**
 * What every request passes around the app: the request id, the client address and the deps in the request's scope
 * (the app's env: `c.env`, src/deps.ts); security and CORS headers; the body limit of writes and the answer to a
 * browser's preflight; then, after the route, the request metric and one log line.
 *
 * It wraps `app.fetch` rather than being a middleware of every route: a middleware on `*` made every request, a
 * read of the catalog included, pass one more level of Hono's chain, with its closure, promise and context
 * variables. A read with no middleware of its own now goes straight to its handler, and its answer comes back
 * without a promise: a fifth less CPU per `GET /api/models` over a socket (docs/performance.md, sixth pass).
 *
 * Response headers are staged before the route runs (`enterRoute`, called by the router as the first handler of
 * the request starts), so the route's own response is built with them, and a header the route sets itself wins:
 * setting them on the finished Response instead made Hono copy it for each header, and made @hono/node-server
 * rebuild its lightweight one. The client address and the request's logger (src/lib/request-logger.ts) are made
 * only when something asks for them.
 */
export function edge(app: EdgedApp, deps: Deps): void {
  const { config, logger, httpMetrics } = deps;
  const trusted = trustedProxies(config.TRUSTED_PROXIES);
  const allowed = new Set(config.ALLOWED_ORIGINS);
  const writeRequestLine = requestLineWriter(logger);
  // Methods that may carry a body pass the limit (asked of the method, not of `req.body`: see withoutUnframedBody).
  // They have middleware of their own anyway; these run first, and answer by themselves when they refuse.
  app.on(["POST", "PUT", "PATCH", "DELETE"], "*", bodyLimits(config.BODY_LIMIT_BYTES));
  // Preflights are rare: they keep hono/cors, configured as the headers above say.
  app.on(
    "OPTIONS",
    "*",
    cors({
      origin: (origin) => (allowed.has(origin) ? origin : null),
      credentials: true,
      allowHeaders: CORS_ALLOW_HEADERS,
      allowMethods: CORS_ALLOW_METHODS,
      exposeHeaders: CORS_EXPOSED,
      maxAge: CORS_MAX_AGE_S,
    }),
  );

  const routed = app.fetch;
  app.fetch = (req, env, executionCtx) => {
    const started = performance.now();
    const given = req.headers.get("x-request-id");
    const origin = req.headers.get("origin");
    const path = app.getPath(req);
    let address: string | undefined;
    const scope: RequestScope = {
      deps,
      requestId: given && REQUEST_ID.test(given) ? given : crypto.randomUUID(),
      clientAddress: () =>
        (address ??= resolveClientAddress(socketAddress(req, env), req.headers.get("x-forwarded-for"), trusted)),
      outgoing: nodeOutgoing(env),
      context: null,
      allowOrigin: origin && allowed.has(origin) ? origin : null,
      document: DOCUMENT_PATHS.some((p) => path.startsWith(p)),
    };
    // On Node the headers go on the outgoing message now, whatever answers.
    const { outgoing } = scope;
    if (outgoing) stageEdgeHeaders((name, value) => void outgoing.setHeader(name, value), scope, req.method);
    const answered = routed(req, scope, executionCtx);
    const leave = (res: Response): Response => {
      res = withEdgeHeaders(res, scope);
      const status = res.status;
      const ms = performance.now() - started;
      const method = KNOWN_METHODS.has(req.method) ? req.method : "OTHER";
      const { context } = scope;
      httpMetrics.observe(method, context ? routeLabel(context) : "unmatched", status, ms / 1000);
      // The request's own logger would carry requestId and clientAddress as a child's bindings; written with the
      // same fields first, the line is the same, without a child logger per request (src/lib/logger.ts).
      const level = status >= 500 ? "error" : "info";
      if (logger.isLevelEnabled(level))
        writeRequestLine(level, {
          requestId: scope.requestId,
          clientAddress: scope.clientAddress(),
          method: req.method,
          path,
          status,
          durationMs: Math.round(ms * 10) / 10,
          userId: context?.get("user")?.id,
        });
      return res;
    };
    return answered instanceof Promise ? answered.then(leave) : leave(answered);
  };
}

/**
 * The request reaches its first handler (the router calls this, src/openapi/kit.ts): the edge keeps its context
 * (for the route label and the user of the log line) and, but on Node, stages its headers on it.
 */
export function enterRoute(c: Context<AppEnv>): void {
  const scope = c.env;
  scope.context = c;
  if (!scope.outgoing) stageEdgeHeaders(c.header, scope, c.req.method);
}

/**
 * Sets a header for whatever this request's answer will be: on Node on the outgoing message, elsewhere staged on the
 * context. A header the route sets itself wins either way.
 */
export function stageHeader(c: Context<AppEnv>, name: string, value: string): void {
  const outgoing = c.env?.outgoing;
  if (outgoing) outgoing.setHeader(name, value);
  else c.header(name, value);
}

function stageEdgeHeaders(set: (name: string, value: string) => void, scope: RequestScope, method: string): void {
  writeHeaders(set, scope.requestId, scope.allowOrigin, scope.document);
  // hono/cors adds it to a preflight itself.
  if (method !== "OPTIONS") set("Vary", "Origin");
}

/**
 * The answer with the edge's headers: a route that answered with a Response it made itself (not through the
 * context), or a request no route took, has not got them yet. On Node they are on the outgoing message already,
 * whatever the Response.
 */
function withEdgeHeaders(res: Response, scope: RequestScope): Response {
  if (!scope.outgoing && !res.headers.has("strict-transport-security"))
    return mutable(res, (headers) => {
      writeHeaders((name, value) => headers.set(name, value), scope.requestId, scope.allowOrigin, scope.document);
      headers.append("Vary", "Origin");
    });
  // A Response that names its own exposed headers (Better Auth's bearer plugin: only `set-auth-token`) would win
  // over the staged list on Node, and a page could no longer read X-Request-Id or RateLimit-* there.
  if (scope.allowOrigin) {
    const exposed = res.headers.get("access-control-expose-headers");
    if (exposed !== null && exposed !== CORS_EXPOSE_HEADERS)
      return mutable(res, (headers) => headers.set("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS));
  }
  return res;
}

/**
 * The headers every response carries (but `Vary`, which a caller sets or appends). CORS headers go only to an
 * allowed origin's request (a browser reads them nowhere else); `Vary: Origin` goes to every answer, since
 * whether they are there depends on the Origin.
 */
function writeHeaders(
  set: (name: string, value: string) => void,
  requestId: string,
  allowOrigin: string | null,
  document: boolean,
): void {
  set("X-Request-Id", requestId);
  for (const [name, value] of SECURITY_HEADERS) set(name, value);
  if (document) for (const [name, value] of DOCUMENT_HEADERS) set(name, value);
  if (allowOrigin) {
    set("Access-Control-Allow-Origin", allowOrigin);
    set("Access-Control-Allow-Credentials", "true");
    set("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
  }
}

/** The Response with `change` made to its headers, on a copy when they are immutable (a fetched Response's). */
function mutable(res: Response, change: (headers: Headers) => void): Response {
  try {
    change(res.headers);
    return res;
  } catch {
    const copy = new Response(res.body, res);
    change(copy.headers);
    return copy;
  }
}

/**
 * On Node, @hono/node-server's outgoing message: headers set on it are merged into whatever the route answers
 * (the route's own headers win), and cost a property write, where staging them on the context built an undici
 * Headers object per request and made the adapter convert it back.
 */
function nodeOutgoing(env: unknown): RequestScope["outgoing"] {
  const outgoing = (env as { outgoing?: { setHeader?: unknown; headersSent?: boolean } } | undefined)?.outgoing;
  return outgoing && typeof outgoing.setHeader === "function" && !outgoing.headersSent
    ? (outgoing as { setHeader(name: string, value: string): unknown })
    : undefined;
}

/** The route pattern that answered (never the raw path, which would explode the label set). */
function routeLabel(c: Context): string {
  // Middleware is registered with method ALL; the last route with a real method is the handler that answered.
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i];
    // The edge's own handlers of writes and preflights are on every path ("/*"): not a route's.
    if (r && r.method !== "ALL" && r.path !== "/*") return r.path;
  }
  return "unmatched";
}
