import { mountAuth } from "./auth/handler";
import type { Deps } from "./deps";
import { mountMcp } from "./mcp/server";
import { edge } from "./middleware/edge";
import { errorHandler, notFoundHandler } from "./middleware/errors";
import { mountDocs } from "./openapi/docs";
import { createRouter } from "./openapi/kit";
import { registerRoutes } from "./routes";
import { setResponseValidation } from "./schemas/respond";

/** The app: middleware every request passes, then Better Auth, our routes, the docs and /mcp. No I/O here. */
export function createApp(deps: Deps) {
  const app = createRouter();
  const { config } = deps;
  setResponseValidation(config.validateResponses);
  // Output copies of our own URLs (the sandbox's images) are served by this app without a socket.
  deps.selfFetch ??= (req) => Promise.resolve(app.fetch(req));

  // Around the app's fetch, and the body limit and preflights before every route.
  edge(app, deps);

  mountAuth(app);
  registerRoutes(app);
  const liveDocument = mountDocs(app, deps);
  if (config.MCP_ENABLED) mountMcp(app, deps, liveDocument);

  app.notFound(notFoundHandler);
  app.onError(errorHandler);
  return app;
}

export type App = ReturnType<typeof createApp>;
