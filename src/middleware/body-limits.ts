import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../deps";
import { payloadTooLarge } from "./errors";

/** Bodies larger than BODY_LIMIT_BYTES are 413; webhooks (signed by their senders) may be up to 1 MiB. */
export function bodyLimits(limitBytes: number) {
  const webhookLimit = Math.max(limitBytes, 1024 * 1024);
  const api = bodyLimit({ maxSize: limitBytes, onError: (c) => payloadTooLarge(c, limitBytes) });
  const webhooks = bodyLimit({ maxSize: webhookLimit, onError: (c) => payloadTooLarge(c, webhookLimit) });
  return createMiddleware<AppEnv>((c, next) => (c.req.path.startsWith("/api/webhooks/") ? webhooks : api)(c, next));
}
