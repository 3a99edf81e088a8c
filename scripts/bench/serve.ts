import { type Context, Hono } from "hono";
import { IN_PROCESS_ADDRESS, socketAddress } from "../../src/lib/client-address";
import { createLogger, flushLogsSync, requestLineWriter } from "../../src/lib/logger";

/**
 * The bare servers log as the service does, so that a ratio compares like with like: the same LOG_LEVEL (the
 * bench gives both the same), the same logger (createLogger: pino, its redaction, its destination) and, when
 * the level lets the service write its per-request line, the same line written the same way here
 * (requestLineWriter: request id, client address, method, path, status, duration; msg "request"). At warn neither
 * writes anything.
 */
export const logger = createLogger({ level: process.env.LOG_LEVEL ?? "warn" });
const writeRequestLine = requestLineWriter(logger);

/** A Hono app that writes the request line when LOG_LEVEL enables info. Add the routes after. */
export function bareApp(): Hono {
  const app = new Hono();
  if (logger.isLevelEnabled("info"))
    app.use(async (c, next) => {
      const started = performance.now();
      const requestId = crypto.randomUUID();
      await next();
      writeRequestLine("info", {
        requestId,
        clientAddress: clientAddress(c),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      });
    });
  return app;
}

/** The socket peer, as the service reads it (src/lib/client-address.ts), for the line. */
export function clientAddress(c: Context): string {
  return socketAddress(c.req.raw, c.env) ?? IN_PROCESS_ADDRESS;
}

/**
 * Serves a bare Hono app the way the service serves itself: Bun.serve on Bun, @hono/node-server on
 * Node. Listens on 127.0.0.1:PORT and exits on SIGTERM/SIGINT after `close`.
 */
export async function serveBare(app: Hono, close: () => Promise<void> = async () => {}): Promise<void> {
  const port = Number(process.env.PORT);
  let stopServer: () => void;
  const bun = (globalThis as { Bun?: typeof Bun }).Bun;
  if (bun) {
    // The server is the env, as in src/server.ts: the line asks it for the peer.
    const server = bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: (req, srv) => app.fetch(req, srv),
      idleTimeout: 60,
    });
    stopServer = () => server.stop(true);
  } else {
    const { serve } = await import("@hono/node-server");
    const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port });
    stopServer = () => server.close();
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.once(signal, () => {
      stopServer();
      close().finally(() => {
        flushLogsSync(logger);
        process.exit(0);
      });
    });
}
