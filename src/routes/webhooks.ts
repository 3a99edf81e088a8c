import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { webhooks } from "@polar-sh/sdk/2026-04";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonResponse } from "../lib/openapi";
import { processPolarEvent } from "../services/polar";
import type { AppEnv } from "../types";

export const WebhookAckSchema = z
  .object({ received: z.literal(true) })
  .openapi("WebhookAck", { example: { received: true } });

/** What Polar posts (documentation only: the body is verified as raw text, never validated as JSON first). */
export const PolarWebhookEventSchema = z
  .object({
    type: z
      .string()
      .max(100)
      .regex(/^[a-z_]+(\.[a-z_]+)*$/)
      .openapi({ example: "order.paid" }),
    timestamp: z.iso.datetime({ offset: true }).max(40).openapi({ example: "2026-11-25T12:00:00.000Z" }),
    data: z
      .record(z.string().max(100), z.unknown())
      .openapi({ description: "The resource, e.g. an Order for `order.*` events." }),
  })
  .catchall(z.unknown())
  .openapi("PolarWebhookEvent", {
    description:
      "A Polar webhook event. `order.paid` grants the package's credits once per order; `order.refunded` takes back the refunded share; every other type is recorded and acknowledged.",
    example: {
      type: "order.paid",
      timestamp: "2026-11-25T12:00:00.000Z",
      data: {
        id: "b4a4bf0e-7d33-4b0c-a3a5-1f4f6c1f9a2d",
        status: "paid",
        paid: true,
        total_amount: 2000,
        refunded_amount: 0,
        currency: "usd",
        product_id: "8c1d5b9e-2a7f-4c3e-9f0a-6b2d8e4c1a37",
        metadata: { userId: "3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34", packageId: "pro" },
        customer: { external_id: "3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34" },
      },
    },
  });

const WebhookHeadersSchema = z.object({
  "webhook-id": z
    .string()
    .max(1000)
    .regex(/^[\x21-\x7e]*$/)
    .optional()
    .openapi({
      param: { name: "webhook-id", in: "header" },
      description:
        "Required. The delivery's id; the same across Polar's retries. Events are stored unique by it, so a redelivery changes nothing.",
      example: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
    }),
  "webhook-timestamp": z
    .string()
    .max(100)
    .regex(/^[0-9]*$/)
    .optional()
    .openapi({
      param: { name: "webhook-timestamp", in: "header" },
      description: "Required. Unix seconds when Polar signed the delivery; more than 5 minutes off is rejected (403).",
      example: "1795636800",
    }),
  "webhook-signature": z
    .string()
    .max(5000)
    .regex(/^[\x20-\x7e]*$/)
    .optional()
    .openapi({
      param: { name: "webhook-signature", in: "header" },
      description:
        'Required. Space-separated `v1,<base64 HMAC-SHA256>` signatures of `"{webhook-id}.{webhook-timestamp}.{raw body}"` with POLAR_WEBHOOK_SECRET (Standard Webhooks).',
      example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    }),
});

const polarWebhook = createRoute({
  method: "post",
  path: "/api/webhooks/polar",
  operationId: "receivePolarWebhook",
  tags: ["Webhooks"],
  summary: "Polar webhook receiver",
  description:
    "Called by Polar, not by clients. Public (no user credentials) but protected by its Standard Webhooks signature: the raw body is verified with POLAR_WEBHOOK_SECRET and the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers before anything is read or stored; a missing, bad or stale (±5 minutes) signature is 403 and changes nothing. " +
    "Every verified event is recorded by `webhook-id`; a redelivery is acknowledged (202) and changes nothing. `order.paid` grants the package's credits once per Polar order, whichever event arrives first or twice; `order.refunded` takes back `floor(refunded_amount / total_amount × credits granted)` minus what earlier refunds took, never below a zero balance (an `order.refunded` for an order not yet granted grants it first). " +
    "An order for an unknown user or product is recorded as failed and still acknowledged. Other event types, including ones the SDK does not know, are recorded and acknowledged. 400 for a signed body that is not a JSON event; 503 when POLAR_WEBHOOK_SECRET is not set.",
  security: [],
  request: {
    headers: WebhookHeadersSchema,
    body: {
      required: true,
      description: "The event, exactly as Polar signed it.",
      content: { "application/json": { schema: { $ref: "#/components/schemas/PolarWebhookEvent" } } },
    },
  },
  responses: {
    202: jsonResponse(WebhookAckSchema, "Verified and recorded (or a redelivery of an event already recorded)."),
    ...errorResponses([400, 403, 413, 503]),
  },
});

const notConfigured = () => new ApiError("service_unavailable", "Polar webhooks are not configured on this server.");
const badSignature = () => new ApiError("forbidden", "The webhook signature is missing, invalid or too old.");

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.register("PolarWebhookEvent", PolarWebhookEventSchema);

  app.openapi(
    polarWebhook,
    async (c) => {
      // The signature covers the exact bytes: read them before anything parses the body.
      const rawBody = await c.req.text();
      const { config, db } = c.var.deps;
      const secret = config.POLAR_WEBHOOK_SECRET;
      if (!secret) throw notConfigured();
      const headers = {
        "webhook-id": c.req.header("webhook-id") ?? "",
        "webhook-timestamp": c.req.header("webhook-timestamp") ?? "",
        "webhook-signature": c.req.header("webhook-signature") ?? "",
      };

      let type: string;
      let payload: unknown;
      let knownType = true;
      try {
        const event = await webhooks.validateEvent(rawBody, headers, secret);
        type = event.type;
        payload = event;
      } catch (err) {
        if (err instanceof webhooks.PolarWebhookVerificationError) {
          c.var.logger.warn({ reason: err.message }, "polar webhook rejected");
          throw badSignature();
        }
        if (err instanceof webhooks.PolarWebhookUnknownTypeError && err.eventType !== null) {
          // Signed, JSON, with a type this SDK version does not know: acknowledge and keep it.
          type = err.eventType;
          payload = JSON.parse(rawBody);
          knownType = false;
        } else if (err instanceof webhooks.PolarWebhookError) {
          throw new ApiError("validation_error", "The webhook body is not a JSON event with a type.", {
            issues: [{ path: "", message: err.message }],
          });
        } else throw err;
      }

      await processPolarEvent(
        { db, config, logger: c.var.logger },
        {
          webhookId: headers["webhook-id"],
          type,
          payload,
          knownType,
        },
      );
      return c.json({ received: true as const }, 202);
    },
    (result, c): undefined => {
      // Malformed webhook-* headers can only be a bad signature: the same answers as the signature check
      // (503 when webhooks are not configured, else 403), never a 400 that would tell Polar to fix the request.
      if (result.success) return undefined;
      if (!c.var.deps.config.POLAR_WEBHOOK_SECRET) throw notConfigured();
      c.var.logger.warn({ reason: "malformed webhook headers" }, "polar webhook rejected");
      throw badSignature();
    },
  );
}
