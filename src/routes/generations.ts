import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { defineRoute, owned } from "../openapi/kit";
import { jsonResponse } from "../openapi/responses";
import { UuidParamSchema } from "../schemas/common";
import {
  PredictionListQuerySchema,
  PredictionListSchema,
  PredictionSchema,
  toPrediction,
} from "../schemas/predictions";
import { listPredictions } from "../services/predictions";
import { ownPredictionView } from "./owners";

/** The generation history: the same predictions, read from storage only (never calls the provider). */

const list = defineRoute({
  method: "get",
  path: "/api/generations",
  operationId: "listGenerations",
  tags: ["Generations"],
  summary: "Your generation history",
  description:
    "The caller's predictions as stored, newest first, cursor-paginated, filtered by `status` and `model`. Never calls the provider: use `GET /api/predictions/{id}` to refresh an active one.",
  access: "user",
  rateLimit: "moderate",
  request: { query: PredictionListQuerySchema },
  responses: { 200: jsonResponse(PredictionListSchema, "A page of the history.") },
  errors: [400],
});

const get = defineRoute({
  method: "get",
  path: "/api/generations/{id}",
  operationId: "getGeneration",
  tags: ["Generations"],
  summary: "Get a generation from the history",
  description:
    "One of the caller's predictions exactly as stored (no provider call). 403 for another user's, 404 for an unknown id.",
  access: "owner",
  owner: ownPredictionView,
  rateLimit: "moderate",
  request: { params: UuidParamSchema },
  responses: { 200: jsonResponse(PredictionSchema, "The stored prediction.") },
  errors: [400],
});

export function registerGenerationRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const page = await listPredictions(c.env.deps.db, currentUser(c), c.req.valid("query"));
    return c.json({ data: page.data.map(toPrediction), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(get, (c) => c.json(toPrediction(owned(c, ownPredictionView)), 200));
}
