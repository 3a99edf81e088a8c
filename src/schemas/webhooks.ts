import { z } from "@hono/zod-openapi";

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

export const PolarWebhookHeadersSchema = z.object({
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
