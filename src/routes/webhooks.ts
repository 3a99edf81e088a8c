import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../deps";
import { requestLogger } from "../lib/request-logger";
import { badPolarSignature, polarWebhooksNotConfigured } from "../middleware/webhook-guards";
import { defineRoute, verified } from "../openapi/kit";
import { jsonResponse } from "../openapi/responses";
import { EachlabsCallbackBodySchema, EachlabsCallbackQuerySchema } from "../schemas/eachlabs-callback";
import { PolarWebhookEventSchema, PolarWebhookHeadersSchema, WebhookAckSchema } from "../schemas/webhooks";
import { callbackRefused, receiveEachlabsCallback } from "../services/eachlabs-callbacks";
import { processPolarEvent } from "../services/polar/webhooks";

const polarWebhook = defineRoute({
  method: "post",
  path: "/api/webhooks/polar",
  operationId: "receivePolarWebhook",
  tags: ["Webhooks"],
  summary: "Polar webhook receiver",
  description:
    "Called by Polar, not by clients. Public (no user credentials) but protected by its Standard Webhooks signature: the raw body is verified with POLAR_WEBHOOK_SECRET and the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers before anything is read or stored; a missing, bad or stale (±5 minutes) signature is 403 and changes nothing. " +
    "Every verified event is recorded by `webhook-id`; a redelivery is acknowledged (202) and changes nothing. `order.paid` grants the package's credits once per Polar order, whichever event arrives first or twice; `order.refunded` takes back `floor(refunded_amount / total_amount × credits granted)` minus what earlier refunds took, never below a zero balance (an `order.refunded` for an order not yet granted grants it first). " +
    "An order for an unknown user or product is recorded as failed and still acknowledged. Other event types, including ones the SDK does not know, are recorded and acknowledged. 400 for a signed body that is not a JSON event; 503 when POLAR_WEBHOOK_SECRET is not set.",
  access: "signature",
  request: {
    headers: PolarWebhookHeadersSchema,
    body: {
      required: true,
      description: "The event, exactly as Polar signed it.",
      content: { "application/json": { schema: { $ref: "#/components/schemas/PolarWebhookEvent" } } },
    },
  },
  responses: {
    202: jsonResponse(WebhookAckSchema, "Verified and recorded (or a redelivery of an event already recorded)."),
  },
  errors: [400, 413, 503],
});

// ---------------------------------------------------------------- Eachlabs completion callbacks

const eachlabsCallback = defineRoute({
  method: "post",
  path: "/api/webhooks/eachlabs",
  operationId: "receiveEachlabsCallback",
  tags: ["Webhooks"],
  summary: "Eachlabs completion callback",
  description:
    "Called by Eachlabs, not by clients: with `EACHLABS_CALLBACKS` on, every prediction is created at Eachlabs with `webhook_url = {PUBLIC_URL}/api/webhooks/eachlabs?prediction={id}&token={token}`, and Eachlabs posts there when it is done. " +
    "The token (an HMAC of the prediction id) is checked first: a missing or wrong one, or one minted for another prediction, is 403 and changes nothing. An unknown prediction is 404. " +
    "The body is never read: the prediction is refreshed from Eachlabs with a GET exactly as a poll refreshes it (at most one provider call per second per prediction, shared with pollers; a final transition and its refund happen once). " +
    "The answer comes once the prediction is final, or after about 5 seconds of re-reading at that pace if Eachlabs does not report it final yet (polls and the reconciler carry on from there). A callback for a prediction that is already final changes nothing; one for a prediction that another callback is already refreshing on this instance is answered at once. " +
    "Rate limited per client address (`RATE_LIMIT_CALLBACK_PER_MIN`, default 600 a minute), before the token is checked; the body is bounded by the webhook body limit.",
  access: "callback",
  rateLimit: "callback",
  request: {
    query: EachlabsCallbackQuerySchema,
    body: {
      required: false,
      description: "Whatever Eachlabs sends; ignored.",
      content: { "application/json": { schema: { $ref: "#/components/schemas/EachlabsCallbackBody" } } },
    },
  },
  responses: {
    200: jsonResponse(WebhookAckSchema, "The token is valid and the prediction was refreshed from Eachlabs."),
  },
  errors: [404],
});

function registerEachlabsCallbackRoute(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.register("EachlabsCallbackBody", EachlabsCallbackBodySchema);
  app.openapi(
    eachlabsCallback,
    async (c) => {
      const predictionId = verified(c, "callbackPredictionId");
      const row = await receiveEachlabsCallback(c.env.deps, predictionId);
      requestLogger(c).info({ predictionId, status: row.status }, "eachlabs callback");
      return c.json({ received: true as const }, 200);
    },
    (result): undefined => {
      // A query that does not even parse cannot carry a valid token: the same 403 as a bad token.
      if (!result.success) throw callbackRefused();
      return undefined;
    },
  );
}

// ---------------------------------------------------------------- end Eachlabs completion callbacks

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>) {
  registerEachlabsCallbackRoute(app);
  app.openAPIRegistry.register("PolarWebhookEvent", PolarWebhookEventSchema);

  app.openapi(
    polarWebhook,
    async (c) => {
      const { config, db, clock } = c.env.deps;
      await processPolarEvent({ db, config, clock, logger: requestLogger(c) }, verified(c, "polarEvent"));
      return c.json({ received: true as const }, 202);
    },
    (result, c): undefined => {
      // Malformed webhook-* headers can only be a bad signature: the same answers as the signature check
      // (503 when webhooks are not configured, else 403), never a 400 that would tell Polar to fix the request.
      if (result.success) return undefined;
      if (!c.env.deps.config.POLAR_WEBHOOK_SECRET) throw polarWebhooksNotConfigured();
      requestLogger(c).warn({ reason: "malformed webhook headers" }, "polar webhook rejected");
      throw badPolarSignature();
    },
  );
}
