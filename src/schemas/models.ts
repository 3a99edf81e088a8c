import { z } from "@hono/zod-openapi";
import { ASPECT_RATIOS, MODEL_IDS } from "../domain/models";
import { NO_NUL } from "../domain/patterns";

export const ModelIdSchema = z
  .enum(MODEL_IDS)
  .openapi("ModelId", { description: "Catalog model id.", example: "nano-banana" });
export const AspectRatioSchema = z.enum(ASPECT_RATIOS).openapi("AspectRatio", { example: "1:1" });

export const ModelSchema = z
  .object({
    id: ModelIdSchema,
    name: z.string().max(100).regex(NO_NUL).openapi({ example: "Nano Banana" }),
    description: z
      .string()
      .max(500)
      .regex(NO_NUL)
      .openapi({ example: "Google's fast image model; good all-round logos with clean text." }),
    creditsPerImage: z.int().min(1).max(100).openapi({ example: 1 }),
    maxOutputs: z.int().min(1).max(10).openapi({ example: 4 }),
    aspectRatios: z.array(AspectRatioSchema).min(1).max(10),
  })
  .openapi("Model");

export const ModelListSchema = z.object({ data: z.array(ModelSchema).max(100) }).openapi("ModelList");
