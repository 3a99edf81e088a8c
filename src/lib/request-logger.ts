import type { Context } from "hono";
import type { AppEnv } from "../deps";
import type { Logger } from "./logger";

/**
 * The request's logger: a child of the service's logger carrying the request id and the client address, made on the
 * first call and kept on the context. Most requests log nothing but their request line, so none is made for them:
 * made up front (a Proxy that made the child on first use, and its closures), it cost ~1.5 µs of the ~21 µs of CPU
 * a `GET /api/models` takes over a socket on Bun (docs/performance.md, fifth pass).
 */
export function requestLogger(c: Context<AppEnv>): Logger {
  const made = c.get("logger");
  if (made) return made;
  const { deps, requestId, clientAddress } = c.env;
  // A scope made by hand (a test's app without the edge) may have no address to bind.
  if (!clientAddress) return deps.logger;
  const child = deps.logger.child({ requestId, clientAddress: clientAddress() });
  c.set("logger", child);
  return child;
}
