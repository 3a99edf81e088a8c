import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, userSecurity } from "../lib/openapi";
import { currentUser, requireUser } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { UuidParamSchema } from "../schemas/common";
import { PredictionListQuerySchema, PredictionListSchema, PredictionSchema } from "../schemas/predictions";
import { getOwnedPrediction, listPredictions, rowToPrediction } from "../services/predictions";
import type { AppEnv } from "../types";

/** The generation history: the same predictions, read from storage only (never calls the provider). */

const list = createRoute({
  method: "get",
  path: "/api/generations",
  operationId: "listGenerations",
  tags: ["Generations"],
  summary: "Your generation history",
  description:
    "The caller's predictions as stored, newest first, cursor-paginated, filtered by `status` and `model`. Never calls the provider: use `GET /api/predictions/{id}` to refresh an active one.",
  security: userSecurity,
  middleware: [rateLimit("moderate"), requireUser] as const,
  request: { query: PredictionListQuerySchema },
  responses: {
    200: jsonResponse(PredictionListSchema, "A page of the history.", { rateLimited: true }),
    ...errorResponses([400, 401], { rateLimited: true }),
  },
});

const get = createRoute({
  method: "get",
  path: "/api/generations/{id}",
  operationId: "getGeneration",
  tags: ["Generations"],
  summary: "Get a generation from the history",
  description:
    "One of the caller's predictions exactly as stored (no provider call). 403 for another user's, 404 for an unknown id.",
  security: userSecurity,
  middleware: [rateLimit("moderate"), requireUser] as const,
  request: { params: UuidParamSchema },
  responses: {
    200: jsonResponse(PredictionSchema, "The stored prediction.", { rateLimited: true }),
    ...errorResponses([400, 401, 403, 404], { rateLimited: true }),
  },
});

export function registerGenerationRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const user = currentUser(c);
    c.header("Cache-Control", "no-store");
    return c.json(PredictionListSchema.parse(await listPredictions(c.var.deps.db, user.id, c.req.valid("query"))), 200);
  });

  app.openapi(get, async (c) => {
    const user = currentUser(c);
    const row = await getOwnedPrediction(c.var.deps.db, user, c.req.valid("param").id);
    c.header("Cache-Control", "no-store");
    return c.json(rowToPrediction(row), 200);
  });
}
