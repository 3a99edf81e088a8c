import type { Hono } from "hono";

/**
 * Serves a bare Hono app the way the service serves itself: Bun.serve on Bun, @hono/node-server on
 * Node. Listens on 127.0.0.1:PORT and exits on SIGTERM/SIGINT after `close`.
 */
export async function serveBare(app: Hono, close: () => Promise<void> = async () => {}): Promise<void> {
  const port = Number(process.env.PORT);
  let stopServer: () => void;
  const bun = (globalThis as { Bun?: typeof Bun }).Bun;
  if (bun) {
    const server = bun.serve({ hostname: "127.0.0.1", port, fetch: app.fetch, idleTimeout: 60 });
    stopServer = () => server.stop(true);
  } else {
    const { serve } = await import("@hono/node-server");
    const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port });
    stopServer = () => server.close();
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.once(signal, () => {
      stopServer();
      close().finally(() => process.exit(0));
    });
}
