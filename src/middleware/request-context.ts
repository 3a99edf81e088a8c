import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { AppEnv, Deps } from "../deps";
import { resolveClientAddress, socketAddress, trustedProxies } from "../lib/client-address";
import { payloadTooLarge } from "./errors";

/**
 * Puts the deps, the client address and a request-scoped logger on the context, and logs one line per
 * request.
 */
export function requestContext(deps: Deps) {
  const trusted = trustedProxies(deps.config.TRUSTED_PROXIES);
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set("deps", deps);
    const clientAddress = resolveClientAddress(
      socketAddress(c.req.raw, c.env),
      c.req.raw.headers.get("x-forwarded-for"),
      trusted,
    );
    c.set("clientAddress", clientAddress);
    c.set("logger", deps.logger.child({ requestId: c.get("requestId"), clientAddress }));
    const started = performance.now();
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const status = c.res.status;
    const line = { method: c.req.method, path: c.req.path, status, durationMs: ms, userId: c.get("user")?.id };
    if (status >= 500) c.get("logger").error(line, "request");
    else c.get("logger").info(line, "request");
  });
}

/** Bodies larger than BODY_LIMIT_BYTES are 413; webhooks (signed by their senders) may be up to 1 MiB. */
export function bodyLimits(limitBytes: number) {
  const webhookLimit = Math.max(limitBytes, 1024 * 1024);
  const api = bodyLimit({ maxSize: limitBytes, onError: (c) => payloadTooLarge(c, limitBytes) });
  const webhooks = bodyLimit({ maxSize: webhookLimit, onError: (c) => payloadTooLarge(c, webhookLimit) });
  return createMiddleware<AppEnv>((c, next) => (c.req.path.startsWith("/api/webhooks/") ? webhooks : api)(c, next));
}
