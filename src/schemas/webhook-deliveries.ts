import { z } from "@hono/zod-openapi";
import { SINGLE_LINE } from "../domain/patterns";
import { DELIVERY_STATUSES, WEBHOOK_SECRET_PREFIX } from "../domain/webhooks";
import { AssetSchema } from "./assets";
import { NextCursorSchema, TimestampSchema } from "./common";
import { PredictionSchema, WebhookEventSchema } from "./predictions";

const EXAMPLE_PREDICTION = PredictionSchema.parse({
  id: "3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34",
  status: "succeeded",
  model: "nano-banana",
  input: {
    brandName: "Acme",
    description: "coffee roastery",
    style: "minimal",
    colors: ["#1F2937", "#F59E0B"],
    aspectRatio: "1:1",
    numOutputs: 1,
    prompt: null,
  },
  prompt: 'A minimal logo for "Acme", a coffee roastery. Colours: #1F2937, #F59E0B.',
  output: ["https://api.logo-api.example/files/9f1c2b3a4d5e6f708192a3b4c5d6e7f8.png"],
  error: null,
  creditsCharged: 1,
  creditsRefunded: 0,
  createdAt: "2026-11-25T12:00:00.000Z",
  startedAt: "2026-11-25T12:00:00.400Z",
  completedAt: "2026-11-25T12:00:09.100Z",
  urls: {
    get: "/api/predictions/3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34",
    cancel: "/api/predictions/3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34/cancel",
    stream: "/api/predictions/3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34/events",
  },
});

const WEBHOOK_ID = z
  .string()
  .max(100)
  .regex(/^msg_[0-9a-f]{32}$/)
  .openapi({
    description: "The Standard Webhooks message id: one per event, the same on every retry (dedupe on it).",
    example: "msg_9c1d4e7ab6f52d8c0e1a9b343f2b8a4e",
  });

export const SigningSecretSchema = z
  .object({
    key: z
      .string()
      .max(100)
      .regex(new RegExp(`^${WEBHOOK_SECRET_PREFIX}[A-Za-z0-9+/]{43}=$`))
      .openapi({
        description: "`whsec_` + base64 of 32 random bytes: pass it as is to a Standard Webhooks verifier.",
        example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6F3Xx5u4d2E=",
      }),
  })
  .openapi("WebhookSigningSecret", {
    description:
      "Your signing secret for outgoing webhooks. Every delivery carries `webhook-signature: v1,<base64 HMAC-SHA256>` of `{webhook-id}.{webhook-timestamp}.{body}` keyed with it.",
    example: { key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6F3Xx5u4d2E=" },
  });

export const WebhookDeliverySchema = z
  .object({
    id: z.uuid().max(36).openapi({ description: "This attempt's id." }),
    webhookId: WEBHOOK_ID,
    event: WebhookEventSchema,
    attempt: z.int().min(1).max(100).openapi({ description: "1 for the first attempt, then 2, 3…" }),
    status: z.enum(DELIVERY_STATUSES).openapi({
      description:
        "`pending`: waiting for `nextAttemptAt` or being sent; `succeeded`: the receiver answered 2xx; `failed`: anything else (a later attempt follows unless this was the last, or the address was refused).",
    }),
    responseStatus: z
      .int()
      .min(100)
      .max(599)
      .nullable()
      .openapi({ description: "The receiver's HTTP status; null when it did not answer (or not yet sent)." }),
    error: z
      .string()
      .max(1000)
      .regex(SINGLE_LINE)
      .nullable()
      .openapi({ description: "Why the attempt failed (timeout, refused connection, HTTP status, refused address)." }),
    createdAt: TimestampSchema,
    nextAttemptAt: TimestampSchema.nullable().openapi({
      description: "When a pending attempt is due; null once it has been sent.",
    }),
  })
  .openapi("WebhookDelivery", {
    description: "One attempt to deliver an outgoing webhook event.",
    example: {
      id: "0b6c6f0e-4a8d-4c1b-9f3e-7d2a5b8c1e90",
      webhookId: "msg_9c1d4e7ab6f52d8c0e1a9b343f2b8a4e",
      event: "completed",
      attempt: 2,
      status: "succeeded",
      responseStatus: 200,
      error: null,
      createdAt: "2026-11-25T12:00:14.300Z",
      nextAttemptAt: null,
    },
  });
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

export const WebhookDeliveryListSchema = z
  .object({ data: z.array(WebhookDeliverySchema).max(100), nextCursor: NextCursorSchema })
  .openapi("WebhookDeliveryList", { description: "A page of delivery attempts, newest first." });

export function toWebhookDelivery(row: {
  id: string;
  webhookId: string;
  event: string;
  attempt: number;
  status: string;
  responseStatus: number | null;
  error: string | null;
  createdAt: Date;
  nextAttemptAt: Date | null;
}): WebhookDelivery {
  return WebhookDeliverySchema.parse({
    ...row,
    createdAt: row.createdAt.toISOString(),
    nextAttemptAt: row.status === "pending" ? (row.nextAttemptAt?.toISOString() ?? null) : null,
  });
}

/** The body of an outgoing webhook: what the receiver gets for each event. */
export const predictionWebhookPayload = (type: "prediction.start" | "prediction.completed", name: string) =>
  z
    .object({
      type: z.literal(type),
      timestamp: TimestampSchema.openapi({ description: "When the event happened." }),
      data: PredictionSchema.openapi({
        description: "The prediction exactly as `GET /api/predictions/{id}` answered at that moment.",
      }),
    })
    .openapi(name, {
      description:
        type === "prediction.start"
          ? "Sent once the provider has accepted the prediction (status `processing`)."
          : "Sent once the prediction is final: `succeeded`, `failed` or `canceled` (failed and canceled ones are refunded).",
      example: {
        type,
        timestamp: type === "prediction.start" ? "2026-11-25T12:00:00.400Z" : "2026-11-25T12:00:09.100Z",
        data:
          type === "prediction.start"
            ? { ...EXAMPLE_PREDICTION, status: "processing", output: null, completedAt: null }
            : EXAMPLE_PREDICTION,
      },
    });

export const PredictionStartEventSchema = predictionWebhookPayload("prediction.start", "PredictionStartEvent");
export const PredictionCompletedEventSchema = predictionWebhookPayload(
  "prediction.completed",
  "PredictionCompletedEvent",
);

/** The body of an asset's webhook: `asset.completed`, with the asset as `GET /api/assets/{id}` answered it. */
export const AssetCompletedEventSchema = z
  .object({
    type: z.literal("asset.completed"),
    timestamp: TimestampSchema.openapi({ description: "When the asset became final." }),
    data: AssetSchema.openapi({
      description: "The asset exactly as `GET /api/assets/{id}` answered at that moment.",
    }),
  })
  .openapi("AssetCompletedEvent", {
    description:
      "Sent once the asset is final: `succeeded` (its `files` ready to download) or `failed` (refunded, with `error`).",
  });

/** The headers of a delivery (documentation of what receivers get). */
export const OutgoingWebhookHeadersSchema = z.object({
  "webhook-id": WEBHOOK_ID.openapi({ param: { name: "webhook-id", in: "header" } }),
  "webhook-timestamp": z
    .string()
    .max(20)
    .regex(/^[0-9]+$/)
    .openapi({
      param: { name: "webhook-timestamp", in: "header" },
      description: "Unix seconds when this attempt was signed; reject deliveries more than 5 minutes off.",
      example: "1795636809",
    }),
  "webhook-signature": z
    .string()
    .max(500)
    .regex(/^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$/)
    .openapi({
      param: { name: "webhook-signature", in: "header" },
      description:
        "`v1,<base64 HMAC-SHA256>` of `{webhook-id}.{webhook-timestamp}.{raw body}` keyed with your signing secret; for 24 hours after a rotation, two signatures (new and previous secret) separated by a space. Any one matching is enough.",
      example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    }),
});
