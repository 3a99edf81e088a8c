import { z } from "@hono/zod-openapi";
import { LOGO_STYLES, PROMPT_MAX_LENGTH } from "../services/model-inputs";
import { DEFAULT_MODEL, MODELS } from "../services/models";
import { MAX_OUTPUT_IMAGES, MAX_OUTPUT_URL_LENGTH } from "../services/status";
import { NextCursorSchema, PaginationQuerySchema, TimestampSchema } from "./common";
import { AspectRatioSchema, ModelIdSchema } from "./models";

export const PREDICTION_STATUSES = ["queued", "processing", "succeeded", "failed", "canceled"] as const;
export type PredictionStatus = (typeof PREDICTION_STATUSES)[number];
export const FINAL_STATUSES: readonly PredictionStatus[] = ["succeeded", "failed", "canceled"];

/** The most images any catalog model makes in one request; the per-model limit is checked by the flow. */
export const MAX_OUTPUTS_ANY_MODEL = Math.max(...MODELS.map((m) => m.maxOutputs));

const EXAMPLE_ID = "3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34";

/** Text without control characters (PostgreSQL cannot store NUL; prompts must not carry terminal escapes). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to reject them
const SINGLE_LINE = /^[^\x00-\x1f\x7f]*$/;
/** As SINGLE_LINE, but tabs and line breaks are allowed. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to reject them
const MULTI_LINE = /^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/;
const NO_CONTROL = "Must not contain control characters";

export const PredictionStatusSchema = z.enum(PREDICTION_STATUSES).openapi("PredictionStatus", {
  description:
    "`queued` (charged, not yet accepted by the provider) → `processing` → `succeeded`, `failed` or `canceled`. The last three are final; failed and canceled predictions are refunded.",
  example: "processing",
});

export const LogoStyleSchema = z.enum(LOGO_STYLES).openapi("LogoStyle", { example: "minimal" });

export const HexColorSchema = z
  .string()
  .max(7)
  .regex(/^#[0-9A-Fa-f]{6}$/, "Must be a hex colour like #1F2937")
  .openapi({ description: "A colour as #RRGGBB.", example: "#1F2937" });

export const CreatePredictionRequestSchema = z
  .strictObject({
    model: ModelIdSchema.default(DEFAULT_MODEL).openapi({ description: "Catalog model id (default `nano-banana`)." }),
    brandName: z
      .string()
      .trim()
      .min(1)
      .max(80)
      .regex(SINGLE_LINE, NO_CONTROL)
      .openapi({ description: "The name the logo is for.", example: "Acme" }),
    description: z
      .string()
      .trim()
      .max(500)
      .regex(MULTI_LINE, NO_CONTROL)
      .nullish()
      .openapi({ description: "What the brand does (≤ 500 characters).", example: "coffee roastery" }),
    style: LogoStyleSchema.nullish(),
    colors: z
      .array(HexColorSchema)
      .max(3)
      .nullish()
      .openapi({ description: "Up to three brand colours.", example: ["#1F2937", "#F59E0B"] }),
    aspectRatio: AspectRatioSchema.default("1:1"),
    numOutputs: z.int().min(1).max(MAX_OUTPUTS_ANY_MODEL).default(1).openapi({
      description:
        "Images to generate, from 1 to the model's `maxOutputs` (see `GET /api/models`). The price is `creditsPerImage × numOutputs`.",
      example: 2,
    }),
    prompt: z
      .string()
      .trim()
      .max(1000)
      .regex(MULTI_LINE, NO_CONTROL)
      .nullish()
      .openapi({ description: "Extra instructions appended to the prompt.", example: "a steaming cup as the mark" }),
  })
  .openapi("CreatePredictionRequest", {
    description: "A logo to generate. Unknown fields are rejected (400).",
    example: {
      model: "nano-banana",
      brandName: "Acme",
      description: "coffee roastery",
      style: "minimal",
      colors: ["#1F2937", "#F59E0B"],
      aspectRatio: "1:1",
      numOutputs: 2,
    },
  });
export type CreatePredictionRequest = z.infer<typeof CreatePredictionRequestSchema>;

const EXAMPLE_INPUT = {
  brandName: "Acme",
  description: "coffee roastery",
  style: "minimal",
  colors: ["#1F2937", "#F59E0B"],
  aspectRatio: "1:1",
  numOutputs: 2,
  prompt: null,
} as const;

export const PredictionInputSchema = z
  .object({
    brandName: z.string().max(80).regex(SINGLE_LINE),
    description: z.string().max(500).regex(MULTI_LINE).nullable(),
    style: LogoStyleSchema.nullable(),
    colors: z.array(HexColorSchema).max(3),
    aspectRatio: AspectRatioSchema,
    numOutputs: z.int().min(1).max(MAX_OUTPUTS_ANY_MODEL),
    prompt: z.string().max(1000).regex(MULTI_LINE).nullable(),
  })
  .openapi("PredictionInput", {
    description: "The request as it was accepted, with defaults filled in.",
    example: EXAMPLE_INPUT,
  });
export type PredictionInput = z.infer<typeof PredictionInputSchema>;

export const PREDICTION_ERROR_CODES = ["provider_error", "generation_failed", "timeout"] as const;

export const PredictionErrorSchema = z
  .object({
    code: z.enum(PREDICTION_ERROR_CODES).openapi({
      description:
        "`provider_error`: the provider could not be reached or refused the request; `generation_failed`: the provider reported that the generation failed; `timeout`: no result before the deadline.",
    }),
    message: z.string().max(1000).regex(SINGLE_LINE),
  })
  .openapi("PredictionError", {
    description: "Why a prediction failed. Its credits have been refunded.",
    example: { code: "generation_failed", message: "The image provider could not generate this logo." },
  });

export const PredictionSchema = z
  .object({
    id: z.uuid().max(36),
    status: PredictionStatusSchema,
    model: ModelIdSchema,
    input: PredictionInputSchema,
    prompt: z
      .string()
      .max(PROMPT_MAX_LENGTH)
      .regex(MULTI_LINE)
      .openapi({ description: "The prompt that was sent to the provider." }),
    output: z
      .array(z.url().max(MAX_OUTPUT_URL_LENGTH))
      .min(1)
      .max(MAX_OUTPUT_IMAGES)
      .nullable()
      .openapi({ description: "Image URLs; null until the prediction has succeeded." }),
    error: PredictionErrorSchema.nullable(),
    creditsCharged: z.int().min(0).max(1_000_000),
    creditsRefunded: z
      .int()
      .min(0)
      .max(1_000_000)
      .openapi({ description: "Equals `creditsCharged` once a failed or canceled prediction is refunded." }),
    createdAt: TimestampSchema,
    startedAt: TimestampSchema.nullable().openapi({ description: "When the provider accepted the prediction." }),
    completedAt: TimestampSchema.nullable().openapi({ description: "When the prediction reached a final status." }),
    urls: z.object({
      get: z
        .string()
        .max(200)
        .regex(/^\/api\/predictions\/[0-9a-f-]{36}$/)
        .openapi({ example: `/api/predictions/${EXAMPLE_ID}` }),
      cancel: z
        .string()
        .max(200)
        .regex(/^\/api\/predictions\/[0-9a-f-]{36}\/cancel$/)
        .openapi({ example: `/api/predictions/${EXAMPLE_ID}/cancel` }),
    }),
  })
  .openapi("Prediction", {
    description:
      "One logo generation. `output` is null until success; a failed or canceled prediction has `creditsRefunded` equal to `creditsCharged`.",
    example: {
      id: EXAMPLE_ID,
      status: "succeeded",
      model: "nano-banana",
      input: EXAMPLE_INPUT,
      prompt: 'A minimal logo for "Acme", a coffee roastery. Colours: #1F2937, #F59E0B.',
      output: ["https://cdn.eachlabs.ai/outputs/acme-1.png", "https://cdn.eachlabs.ai/outputs/acme-2.png"],
      error: null,
      creditsCharged: 2,
      creditsRefunded: 0,
      createdAt: "2026-11-25T12:00:00.000Z",
      startedAt: "2026-11-25T12:00:00.400Z",
      completedAt: "2026-11-25T12:00:09.100Z",
      urls: { get: `/api/predictions/${EXAMPLE_ID}`, cancel: `/api/predictions/${EXAMPLE_ID}/cancel` },
    },
  });
export type Prediction = z.infer<typeof PredictionSchema>;

export const PredictionListSchema = z
  .object({ data: z.array(PredictionSchema).max(100), nextCursor: NextCursorSchema })
  .openapi("PredictionList", {
    description: "A page of the caller's predictions, newest first.",
  });

export const PredictionListQuerySchema = PaginationQuerySchema.extend({
  status: PredictionStatusSchema.optional().openapi({
    param: { name: "status", in: "query" },
    description: "Only predictions with this status.",
  }),
  model: ModelIdSchema.optional().openapi({
    param: { name: "model", in: "query" },
    description: "Only predictions made with this model.",
  }),
});

export const PreferWaitHeaderSchema = z.object({
  prefer: z
    .string()
    .max(200)
    .regex(/^[\x20-\x7e]*$/, "Printable ASCII")
    .optional()
    .openapi({
      param: { name: "prefer", in: "header" },
      description:
        "`wait=N` (RFC 7240, N ≤ 30 seconds; larger values are clamped): hold the request until the prediction is final or N seconds have passed. The applied value is echoed in `Preference-Applied`.",
      example: "wait=10",
    }),
});
