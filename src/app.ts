import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { mountAuth } from "./auth/handler";
import type { Deps } from "./deps";
import { errorHandler, notFoundHandler } from "./middleware/errors";
import { requestMetrics } from "./middleware/metrics";
import { bodyLimits, requestContext } from "./middleware/request-context";
import { mountDocs } from "./openapi/docs";
import { createRouter } from "./openapi/kit";
import { registerRoutes } from "./routes";
import { setResponseValidation } from "./schemas/respond";

/** The app: middleware every request passes, then Better Auth, our routes and the docs. No I/O here. */
export function createApp(deps: Deps) {
  const app = createRouter();
  const { config } = deps;
  setResponseValidation(config.validateResponses);
  // Output copies of our own URLs (the sandbox's images) are served by this app without a socket.
  deps.selfFetch ??= (req) => Promise.resolve(app.fetch(req));

  app.use(
    "*",
    requestId({
      headerName: "X-Request-Id",
      // A client id is echoed only when it is 1–200 of [A-Za-z0-9_=-]; anything else gets a fresh UUID.
      generator: () => crypto.randomUUID(),
      limitLength: 200,
    }),
  );
  app.use("*", requestContext(deps));
  app.use("*", requestMetrics);
  app.use(
    "*",
    secureHeaders({
      // Scalar's page runs its own inline bootstrap; the API itself serves JSON only.
      contentSecurityPolicy: undefined,
      crossOriginResourcePolicy: "cross-origin",
    }),
  );
  app.use(
    "*",
    cors({
      origin: (origin) => (config.ALLOWED_ORIGINS.includes(origin) ? origin : null),
      credentials: true,
      allowHeaders: ["Content-Type", "Authorization", "X-Api-Key", "Idempotency-Key", "X-Request-Id", "Prefer"],
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      exposeHeaders: [
        "X-Request-Id",
        "Location",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "Retry-After",
        "Idempotent-Replayed",
        "Preference-Applied",
        "set-auth-token",
      ],
      maxAge: 600,
    }),
  );
  app.use("*", bodyLimits(config.BODY_LIMIT_BYTES));

  mountAuth(app);
  registerRoutes(app);
  mountDocs(app, deps);

  app.notFound(notFoundHandler);
  app.onError(errorHandler);
  return app;
}

export type App = ReturnType<typeof createApp>;
