import { z } from "@hono/zod-openapi";

/** The query of the callback URL (its `token` is the security scheme `eachlabsCallbackToken`, not a parameter). */
export const EachlabsCallbackQuerySchema = z.object({
  prediction: z
    .string()
    .max(36)
    .regex(/^[0-9a-fA-F-]{36}$/)
    .optional()
    .openapi({
      param: { name: "prediction", in: "query" },
      description: "Required. Our prediction id, as placed in the `webhook_url` when the prediction was created.",
      example: "0b6f2d1e-7c4a-4f5e-9a3b-2c1d0e9f8a7b",
    }),
});

/** What Eachlabs posts (documentation only: the body is never read; the prediction is read back from Eachlabs). */
export const EachlabsCallbackBodySchema = z
  .object({
    id: z
      .string()
      .max(255)
      .regex(/^[\x21-\x7e]*$/)
      .optional()
      .openapi({ example: "8f1c2a9e-3d4b-4c5e-a6f7-0b1c2d3e4f5a" }),
    status: z
      .string()
      .max(50)
      .regex(/^[A-Za-z_ -]*$/)
      .optional()
      .openapi({ example: "success" }),
  })
  .catchall(z.unknown())
  .openapi("EachlabsCallbackBody", {
    description:
      "Whatever Eachlabs sends when a prediction finishes (typically its prediction object). Ignored: Eachlabs does not sign it, so the server never takes a status or an output from it.",
    example: { id: "8f1c2a9e-3d4b-4c5e-a6f7-0b1c2d3e4f5a", status: "success", output: "https://…/logo.png" },
  });
