import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../lib/openapi";
import { ModelListSchema, ModelSchema } from "../schemas/models";
import { MODELS } from "../services/models";
import type { AppEnv } from "../types";

const listModels = createRoute({
  method: "get",
  path: "/api/models",
  operationId: "listModels",
  tags: ["Catalog"],
  summary: "List generation models",
  description:
    "The catalog of image models a prediction can use, with the credit price per image and the most images one request may ask for. Public.",
  security: [],
  responses: {
    200: jsonResponse(ModelListSchema, "The model catalog."),
    ...errorResponses([]),
  },
});

export function registerModelRoutes(app: OpenAPIHono<AppEnv>) {
  // The catalog is static: map it through the schema once, not on every request.
  const body = { data: MODELS.map((m) => ModelSchema.parse(m)) };
  app.openapi(listModels, (c) => {
    c.header("Cache-Control", "public, max-age=300");
    return c.json(body, 200);
  });
}
