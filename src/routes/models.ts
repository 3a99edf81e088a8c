import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../deps";
import { MODELS } from "../domain/models";
import { defineRoute } from "../openapi/kit";
import { jsonResponse } from "../openapi/responses";
import { ModelListSchema, ModelSchema } from "../schemas/models";

const listModels = defineRoute({
  method: "get",
  path: "/api/models",
  operationId: "listModels",
  tags: ["Catalog"],
  summary: "List generation models",
  description:
    "The catalog of image models a prediction can use, with the credit price per image and the most images one request may ask for. Public.",
  access: "public",
  responses: { 200: jsonResponse(ModelListSchema, "The model catalog.") },
});

export function registerModelRoutes(app: OpenAPIHono<AppEnv>) {
  // The catalog is static: map it through the schema once, not on every request.
  const body = { data: MODELS.map((m) => ModelSchema.parse(m)) };
  app.openapi(listModels, (c) => {
    c.header("Cache-Control", "public, max-age=300");
    return c.json(body, 200);
  });
}
