import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { matchedRoutes } from "hono/route";
import type { AppEnv, Deps } from "../deps";
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

/**
 * What every request passes before its route, as one middleware: the request id, the deps, the client
 * address and a request-scoped logger on the context; security and CORS headers; the body limit; then, after
 * the route, the request metric and one log line.
 *
 * Response headers are staged on the context before the route runs, so the route's own response is built with
 * them: setting them on `c.res` afterwards (as separate middlewares did) made Hono copy the finished Response
 * for each header set, and made @hono/node-server rebuild its lightweight one — the largest share of the
 * per-request cost in the profile of `GET /api/credits`. The client address and the request's logger
 * (src/lib/request-logger.ts) are made only when something asks for them.
 */
export function edge(deps: Deps): MiddlewareHandler<AppEnv> {
  const { config, logger, httpMetrics } = deps;
  const trusted = trustedProxies(config.TRUSTED_PROXIES);
  const allowed = new Set(config.ALLOWED_ORIGINS);
  const limits = bodyLimits(config.BODY_LIMIT_BYTES);
  const writeRequestLine = requestLineWriter(logger);
  // Preflights are rare: they keep hono/cors, configured as the headers above say.
  const preflight = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    credentials: true,
    allowHeaders: CORS_ALLOW_HEADERS,
    allowMethods: CORS_ALLOW_METHODS,
    exposeHeaders: CORS_EXPOSED,
    maxAge: CORS_MAX_AGE_S,
  });

  return async (c, next) => {
    const started = performance.now();
    const req = c.req.raw;
    const given = req.headers.get("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("deps", deps);
    let address: string | undefined;
    const clientAddress = () =>
      (address ??= resolveClientAddress(socketAddress(req, c.env), req.headers.get("x-forwarded-for"), trusted));
    c.set("clientAddress", clientAddress);

    const origin = req.headers.get("origin");
    const allowOrigin = origin && allowed.has(origin) ? origin : null;
    const document = DOCUMENT_PATHS.some((p) => c.req.path.startsWith(p));
    const outgoing = nodeResponse(c);
    const stageHeader = outgoing ? (name: string, value: string) => void outgoing.setHeader(name, value) : c.header;
    c.set("stageHeader", stageHeader);
    writeHeaders(stageHeader, requestId, allowOrigin, document);
    // hono/cors adds it to a preflight itself.
    if (req.method !== "OPTIONS") stageHeader("Vary", "Origin");
    // Methods that may carry a body pass the limit (asked of the method, not of `req.body`: see withoutUnframedBody).
    if (req.method !== "GET" && req.method !== "HEAD") {
      // A middleware called here that answers by itself (a preflight, a 413) returns its Response, as in a chain.
      const answered = req.method === "OPTIONS" ? await preflight(c, next) : await limits(c, next);
      if (answered instanceof Response) c.res = answered;
    } else {
      await next();
    }
    // A route that answered with a Response it made itself (not through the context) has not got them yet. On
    // Node they are on the outgoing message already, whatever the Response.
    if (!outgoing && !c.res.headers.has("strict-transport-security")) {
      const headers = c.res.headers;
      writeHeaders((name, value) => headers.set(name, value), requestId, allowOrigin, document);
      headers.append("Vary", "Origin");
    } else if (allowOrigin) {
      // A Response that names its own exposed headers (Better Auth's bearer plugin: only `set-auth-token`) would
      // win over the staged list on Node, and a page could no longer read X-Request-Id or RateLimit-* there.
      const exposed = c.res.headers.get("access-control-expose-headers");
      if (exposed !== null && exposed !== CORS_EXPOSE_HEADERS) exposeAll(c);
    }

    const status = c.res.status;
    const ms = performance.now() - started;
    const method = KNOWN_METHODS.has(req.method) ? req.method : "OTHER";
    httpMetrics.observe(method, routeLabel(c), status, ms / 1000);
    // The request's own logger would carry requestId and clientAddress as a child's bindings; written with the same
    // fields first, the line is the same, without a child logger per request (src/lib/logger.ts: requestLineWriter).
    const level = status >= 500 ? "error" : "info";
    if (logger.isLevelEnabled(level))
      writeRequestLine(level, {
        requestId,
        clientAddress: clientAddress(),
        method: req.method,
        path: c.req.path,
        status,
        durationMs: Math.round(ms * 10) / 10,
        userId: c.get("user")?.id,
      });
  };
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

function exposeAll(c: Context): void {
  try {
    c.res.headers.set("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
  } catch {
    // Immutable headers (a fetched Response): a copy.
    const res = new Response(c.res.body, c.res);
    res.headers.set("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
    c.res = res;
  }
}

/**
 * On Node, @hono/node-server's outgoing message: headers set on it are merged into whatever the route answers
 * (the route's own headers win), and cost a property write, where staging them on the context built an undici
 * Headers object per request and made the adapter convert it back.
 */
function nodeResponse(c: Context): { setHeader(name: string, value: string): unknown } | undefined {
  const outgoing = (c.env as { outgoing?: { setHeader?: unknown; headersSent?: boolean } } | undefined)?.outgoing;
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
    if (r && r.method !== "ALL") return r.path;
  }
  return "unmatched";
}
