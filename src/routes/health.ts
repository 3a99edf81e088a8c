import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../deps";
import { defineRoute } from "../openapi/kit";
import { jsonResponse } from "../openapi/responses";
import { HealthSchema } from "../schemas/health";
import { checkHealth } from "../services/health";

const health = defineRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["Health"],
  summary: "Service health",
  description:
    "Database reachability and latency, provider and payment configuration. Never calls Eachlabs or Polar. `degraded` when the provider's recent error rate is high or it is unconfigured; 503 when the database is down.",
  access: "public",
  responses: {
    200: jsonResponse(HealthSchema, "The service is up (status ok or degraded)."),
    503: jsonResponse(HealthSchema, "The database is down."),
  },
});

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(health, async (c) => {
    const body = await checkHealth(c.env.deps);
    c.header("Cache-Control", "no-store");
    return body.status === "down" ? c.json(body, 503) : c.json(body, 200);
  });
}
