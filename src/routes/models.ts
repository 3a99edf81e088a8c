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
  // The catalog is static: map it through the schema and serialize it once, not on every request.
  const body = { data: MODELS.map((m) => ModelSchema.parse(m)) };
  const text = JSON.stringify(body);
  app.openapi(listModels, (c) => {
    c.header("Cache-Control", "public, max-age=300");
    c.header("Content-Type", "application/json");
    // The same bytes c.json(body) would send; typed as its answer for the route's declared response.
    return c.body(text, 200) as unknown as ReturnType<typeof c.json<typeof body, 200>>;
  });
}
