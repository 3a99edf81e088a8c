import { createApp } from "./app";
import { adminNeedsVerifiedEmail, promoteConfiguredAdmins } from "./auth/admins";
import { buildDeps, type Deps, openDatabase } from "./deps";
import type { Config } from "./env";
import { allOf } from "./lib/lifecycle";
import { flushLogsSync, type Logger } from "./lib/logger";
import { createHousekeepingLifecycle } from "./services/housekeeping";
import { createReconcilerLifecycle } from "./services/reconciler";
import { createWebhookSenderLifecycle } from "./services/webhooks/sender";

export interface RunningServer {
  url: string;
  port: number;
  deps: Deps;
  /** Requests being handled right now (the app has not produced their response yet). */
  inFlight(): number;
  /** Stop accepting, let in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), close the database. */
  stop(): Promise<void>;
}

interface Listener {
  port: number;
  /** The address the socket is bound to, as the runtime reports it ("0.0.0.0", "::", "127.0.0.1"…). */
  address: string;
  close(graceful: boolean): Promise<void>;
}

/** Web-standard fetch handler behind a thin adapter: Bun.serve on Bun, @hono/node-server on Node. */
async function listen(
  fetch: (req: Request, env?: unknown) => Response | Promise<Response>,
  host: string,
  port: number,
): Promise<Listener> {
  const bun = (globalThis as { Bun?: typeof Bun }).Bun;
  if (bun) {
    const server = bun.serve({
      hostname: host,
      port,
      // The server is the env: src/lib/client-address.ts asks it for the peer (requestIP) only when needed.
      fetch: (req, srv) => fetch(req, srv),
      idleTimeout: 60,
    });
    return {
      port: server.port ?? port,
      address: server.hostname ?? host,
      close: (graceful) => server.stop(!graceful),
    };
  }
  const { serve } = await import("@hono/node-server");
  return new Promise((resolve) => {
    const server = serve({ fetch: (req, env) => fetch(withoutUnframedBody(req), env), hostname: host, port }, (info) =>
      resolve({
        port: info.port,
        address: info.address,
        close: (graceful) =>
          new Promise((done) => {
            if (!graceful) (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => done());
            (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          }),
      }),
    );
  });
}

/**
 * Where a socket listens, as an operator reads it: `address:port` ([…] around IPv6), with "all interfaces" when the
 * address is a wildcard, so a start line never names a loopback address the server is not limited to.
 */
export function boundAddress(address: string, port: number): string {
  const host = address.includes(":") ? `[${address}]` : address;
  const wildcard = address === "0.0.0.0" ? " (all IPv4 interfaces)" : address === "::" ? " (all interfaces)" : "";
  return `${host}:${port}${wildcard}`;
}

/**
 * The request without a body stream when its headers frame no body (no Content-Length above 0, no
 * Transfer-Encoding), as Bun.serve gives it. @hono/node-server gives every POST a body stream, empty or
 * not; Better Auth (better-call's getBody) then checks the Content-Type of the "body", so a bodyless POST
 * without Content-Type (curl -X POST …/sign-in/anonymous) was refused with 415 on Node only.
 */
export function withoutUnframedBody(req: Request): Request {
  // Decided from the method and headers alone: reading `req.body` makes @hono/node-server build the full
  // undici Request (with an AbortController) that its lightweight one exists to avoid, on every request.
  if (req.method === "GET" || req.method === "HEAD") return req;
  if (req.headers.has("transfer-encoding") || Number(req.headers.get("content-length") ?? 0) > 0) return req;
  return new Request(req.url, { method: req.method, headers: req.headers, signal: req.signal });
}

export async function startServer(
  config: Config,
  logger: Logger,
  overrides: Partial<Deps> = {},
): Promise<RunningServer> {
  const database = await openDatabase(config);
  if (config.MIGRATE_ON_START) {
    await database.migrate();
    logger.info({ database: database.kind }, "migrations applied");
  }
  await promoteConfiguredAdmins(database.db, config.ADMIN_EMAILS, {
    verifiedOnly: adminNeedsVerifiedEmail(config),
  }).then(
    (promoted) => {
      if (promoted.length) logger.info({ count: promoted.length }, "ADMIN_EMAILS: existing accounts promoted to admin");
    },
    // Not fatal: the server still starts (and /health tells about the database).
    (err: unknown) => logger.error({ err }, "ADMIN_EMAILS: could not promote existing accounts"),
  );
  const deps = buildDeps(config, database, logger, overrides);
  // Background work, stopped before the database closes: the prediction reconciler when
  // RECONCILER_INTERVAL_MS > 0, housekeeping when HOUSEKEEPING_INTERVAL_MS > 0, and the outgoing webhook sender
  // and the deliverables runner (on every instance).
  deps.lifecycle ??= allOf([
    ...(config.RECONCILER_INTERVAL_MS > 0 ? [createReconcilerLifecycle(deps)] : []),
    ...(config.HOUSEKEEPING_INTERVAL_MS > 0 ? [createHousekeepingLifecycle(deps)] : []),
    createWebhookSenderLifecycle(deps),
    deps.assetRunner.lifecycle,
  ]);
  const app = createApp(deps);
  let active = 0;
  const listener = await listen(
    (req, env) => {
      active++;
      let answer: Response | Promise<Response>;
      try {
        answer = app.fetch(req, env as object);
      } catch (err) {
        active--;
        throw err;
      }
      // An answer made at once (a read with no I/O: the catalog) goes back without a promise.
      if (!(answer instanceof Promise)) {
        active--;
        return answer;
      }
      return answer.finally(() => active--);
    },
    config.HOST,
    config.PORT,
  );
  const url = `http://${config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST}:${listener.port}`;
  const listening = boundAddress(listener.address, listener.port);
  logger.info(
    {
      listening,
      publicUrl: config.PUBLIC_URL,
      database: database.kind,
      provider: config.providerMode,
      payments: config.POLAR_ACCESS_TOKEN ? "configured" : "unconfigured",
    },
    `Logo API listening on ${listening} (public URL ${config.PUBLIC_URL}; database: ${database.kind}, provider: ${config.providerMode})`,
  );
  if (config.NODE_ENV === "production" && !config.METRICS_TOKEN)
    logger.warn("/metrics is off (404): set METRICS_TOKEN to scrape it with Authorization: Bearer <METRICS_TOKEN>");
  deps.lifecycle?.start();
  // The change signal is heard from the start, so the first stream or `Prefer: wait` does not wait for a LISTEN.
  deps.changes.start();
  let stopping: Promise<void> | undefined;
  return {
    url,
    port: listener.port,
    deps,
    inFlight: () => active,
    stop() {
      stopping ??= (async () => {
        logger.info({ inFlight: active }, "stopping: no new connections, finishing in-flight requests");
        // Streams never finish on their own: each is told to end now (with a `retry:` hint, so its client
        // reconnects to another instance) before the graceful close waits for open responses.
        deps.streams.closeAll();
        const graceful = listener.close(true);
        const timeout = new Promise<"timeout">((r) =>
          setTimeout(() => r("timeout"), config.SHUTDOWN_TIMEOUT_MS).unref?.(),
        );
        if ((await Promise.race([graceful.then(() => "done" as const), timeout])) === "timeout") {
          logger.warn("shutdown timeout: closing remaining connections");
          await listener.close(false);
        }
        await deps.lifecycle?.stop();
        await deps.changes.stop();
        // Running deliverables finish (their lease would otherwise hold them up to ASSET_LEASE_MS elsewhere).
        await deps.assetRunner.close();
        deps.eventLoopLag.close();
        await database.close();
        logger.info("stopped");
        // The default destination buffers (src/lib/logger.ts): what is left is written before anyone exits.
        flushLogsSync(logger);
      })();
      return stopping;
    },
  };
}
