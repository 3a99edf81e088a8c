import { z } from "@hono/zod-openapi";
import type { PredictionView } from "../db/schemas/predictions";
import {
  BRAND_NAME_MAX,
  DESCRIPTION_MAX,
  EXTRA_PROMPT_MAX,
  MAX_COLORS,
  MAX_OUTPUT_IMAGES,
  MAX_OUTPUT_URL_LENGTH,
  MAX_WAIT_SECONDS,
  PROMPT_MAX_LENGTH,
} from "../domain/limits";
import { DEFAULT_MODEL, MAX_OUTPUTS_ANY_MODEL } from "../domain/models";
import { HEX_COLOR, MULTI_LINE, SANDBOX_ID, SINGLE_LINE } from "../domain/patterns";
import { LOGO_STYLES, PREDICTION_ERROR_CODES, PREDICTION_STATUSES } from "../domain/predictions";
import { DEFAULT_WEBHOOK_EVENTS, WEBHOOK_EVENTS } from "../domain/webhooks";
import { LivemodeSchema, NextCursorSchema, PaginationQuerySchema, TimestampSchema, webhookUrlSchema } from "./common";
import { AspectRatioSchema, ModelIdSchema } from "./models";
import { respond } from "./respond";

const EXAMPLE_ID = "3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34";

const NO_CONTROL = "Must not contain control characters";

export const PredictionStatusSchema = z.enum(PREDICTION_STATUSES).openapi("PredictionStatus", {
  description:
    "`queued` (charged, not yet accepted by the provider) → `processing` → `succeeded`, `failed` or `canceled`. The last three are final; failed and canceled predictions are refunded.",
  example: "processing",
});

export const LogoStyleSchema = z.enum(LOGO_STYLES).openapi("LogoStyle", { example: "minimal" });

export const WebhookEventSchema = z.enum(WEBHOOK_EVENTS).openapi("WebhookEvent", {
  description: "A prediction event an outgoing webhook can carry: `start` or `completed`.",
  example: "completed",
});

export const HexColorSchema = z
  .string()
  .max(7)
  .regex(HEX_COLOR, "Must be a hex colour like #1F2937")
  .openapi({ description: "A colour as #RRGGBB.", example: "#1F2937" });

/** The one example logo request: the create body's example (with a model) and the stored input's (with prompt). */
const EXAMPLE_REQUEST = {
  brandName: "Acme",
  description: "coffee roastery",
  style: "minimal",
  colors: ["#1F2937", "#F59E0B"],
  aspectRatio: "1:1",
  numOutputs: 2,
} as const;

export const CreatePredictionRequestSchema = z
  .strictObject({
    model: ModelIdSchema.default(DEFAULT_MODEL).openapi({ description: "Catalog model id (default `nano-banana`)." }),
    brandName: z
      .string()
      .trim()
      .min(1)
      .max(BRAND_NAME_MAX)
      .regex(SINGLE_LINE, NO_CONTROL)
      .openapi({ description: "The name the logo is for.", example: "Acme" }),
    description: z
      .string()
      .trim()
      .max(DESCRIPTION_MAX)
      .regex(MULTI_LINE, NO_CONTROL)
      .nullish()
      .openapi({ description: "What the brand does (≤ 500 characters).", example: "coffee roastery" }),
    style: LogoStyleSchema.nullish(),
    colors: z
      .array(HexColorSchema)
      .max(MAX_COLORS)
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
      .max(EXTRA_PROMPT_MAX)
      .regex(MULTI_LINE, NO_CONTROL)
      .nullish()
      .openapi({ description: "Extra instructions appended to the prompt.", example: "a steaming cup as the mark" }),
    webhook: webhookUrlSchema(
      "Where to POST this prediction's events (see the `prediction.start` and `prediction.completed` webhooks): an absolute `https:` URL (`http:` too on deployments with `WEBHOOK_ALLOW_PRIVATE_URLS`). Loopback, private, link-local and cloud-metadata addresses are refused (400) unless that setting is on. Deliveries are signed with your secret (`GET /api/webhooks/secret`).",
    ),
    webhookEvents: z
      .array(WebhookEventSchema)
      .min(1)
      .max(WEBHOOK_EVENTS.length)
      .default([...DEFAULT_WEBHOOK_EVENTS])
      .openapi({
        description:
          'Which events to send to `webhook`: `start` once the provider has accepted the prediction, `completed` once it is final (succeeded, failed or canceled). Default `["completed"]`; ignored without `webhook`.',
        example: ["start", "completed"],
      }),
  })
  .openapi("CreatePredictionRequest", {
    description: "A logo to generate. Unknown fields are rejected (400).",
    example: { model: "nano-banana", ...EXAMPLE_REQUEST },
  });
export type CreatePredictionRequest = z.infer<typeof CreatePredictionRequestSchema>;

const EXAMPLE_INPUT = { ...EXAMPLE_REQUEST, prompt: null } as const;

export const PredictionInputSchema = z
  .object({
    brandName: z.string().max(BRAND_NAME_MAX).regex(SINGLE_LINE),
    description: z.string().max(DESCRIPTION_MAX).regex(MULTI_LINE).nullable(),
    style: LogoStyleSchema.nullable(),
    colors: z.array(HexColorSchema).max(MAX_COLORS),
    aspectRatio: AspectRatioSchema,
    numOutputs: z.int().min(1).max(MAX_OUTPUTS_ANY_MODEL),
    prompt: z.string().max(EXTRA_PROMPT_MAX).regex(MULTI_LINE).nullable(),
  })
  .openapi("PredictionInput", {
    description: "The request as it was accepted, with defaults filled in.",
    example: EXAMPLE_INPUT,
  });
export type PredictionInput = z.infer<typeof PredictionInputSchema>;

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
    output: z.array(z.url().max(MAX_OUTPUT_URL_LENGTH)).min(1).max(MAX_OUTPUT_IMAGES).nullable().openapi({
      description:
        "Image URLs in our own storage (`GET /files/{key}`, or the bucket's `S3_PUBLIC_URL`), kept for good; the provider's own URLs, which expire, are never shown. Null until the prediction has succeeded.",
    }),
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
    livemode: LivemodeSchema,
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
      stream: z
        .string()
        .max(200)
        .regex(/^\/api\/predictions\/[0-9a-f-]{36}\/events$/)
        .openapi({
          description: "Server-Sent Events of this prediction: its status at once, every change, then `done`.",
          example: `/api/predictions/${EXAMPLE_ID}/events`,
        }),
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
      output: [
        "https://api.logo-api.example/files/9f1c2b3a4d5e6f708192a3b4c5d6e7f8.png",
        "https://api.logo-api.example/files/0a1b2c3d4e5f60718293a4b5c6d7e8f9.png",
      ],
      error: null,
      creditsCharged: 2,
      creditsRefunded: 0,
      createdAt: "2026-11-25T12:00:00.000Z",
      startedAt: "2026-11-25T12:00:00.400Z",
      completedAt: "2026-11-25T12:00:09.100Z",
      livemode: true,
      urls: {
        get: `/api/predictions/${EXAMPLE_ID}`,
        cancel: `/api/predictions/${EXAMPLE_ID}/cancel`,
        stream: `/api/predictions/${EXAMPLE_ID}/events`,
      },
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

/** `Prefer: wait=N` → N clamped to 0..MAX_WAIT_SECONDS, or null when the header asks for no wait. */
export function parsePreferWait(header: string | undefined): number | null {
  if (!header) return null;
  for (const part of header.split(/[,;]/)) {
    const m = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*$/i.exec(part);
    if (m) return Math.min(MAX_WAIT_SECONDS, Number(m[1]));
  }
  return null;
}

export const LocationHeader = {
  Location: {
    description: "The new prediction's URL (`/api/predictions/{id}`).",
    schema: {
      type: "string",
      maxLength: 200,
      pattern: "^/api/predictions/[0-9a-f-]{36}$",
      example: "/api/predictions/3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34",
    },
  },
};

export const PreferenceAppliedHeader = {
  "Preference-Applied": {
    description: "Present when `Prefer: wait=N` was honoured: the wait actually applied, e.g. `wait=10`.",
    schema: { type: "string", maxLength: 20, pattern: "^wait=\\d{1,2}$", example: "wait=10" },
  },
};

/** The one mapping from a stored row to the public Prediction; the provider's answers and sync columns never leave. */
export function toPrediction(row: PredictionView): Prediction {
  const path = `/api/predictions/${row.id}`;
  return respond(PredictionSchema, {
    id: row.id,
    status: row.status,
    // Columns the database types loosely: model and input are written only from a validated request
    // (createPrediction), error only with one of PREDICTION_ERROR_CODES (finishPrediction).
    model: row.model as Prediction["model"],
    input: row.input as Prediction["input"],
    prompt: row.prompt,
    output: row.status === "succeeded" && row.output && row.output.length > 0 ? row.output : null,
    error: (row.error ?? null) as Prediction["error"],
    creditsCharged: row.creditsCharged,
    creditsRefunded: row.creditsRefunded,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    completedAt: row.completedAt?.toISOString() ?? null,
    livemode: row.livemode,
    urls: { get: path, cancel: `${path}/cancel`, stream: `${path}/events` },
  });
}

/** The path of a sandbox output image, `/sandbox/images/{id}/{n}.png`. */
export const SandboxImageParamsSchema = z.object({
  id: z
    .string()
    .max(64)
    .regex(new RegExp(SANDBOX_ID.source.replace(/[()]/g, "")))
    .openapi({ param: { name: "id", in: "path" }, example: "sbx_mi3x9k2a_2_9f1c2b3a4d5e6f70" }),
  n: z
    .int()
    .min(1)
    .max(9)
    .openapi({ param: { name: "n", in: "path" }, description: "Image number, from 1.", example: 1 }),
});
