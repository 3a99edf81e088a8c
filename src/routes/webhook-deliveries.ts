import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { defineRoute, owned } from "../openapi/kit";
import { jsonResponse } from "../openapi/responses";
import { PaginationQuerySchema, UuidParamSchema } from "../schemas/common";
import {
  OutgoingWebhookHeadersSchema,
  PredictionCompletedEventSchema,
  PredictionStartEventSchema,
  SigningSecretSchema,
  toWebhookDelivery,
  WebhookDeliveryListSchema,
} from "../schemas/webhook-deliveries";
import { listWebhookDeliveries } from "../services/webhooks/outbox";
import { getSigningSecret, rotateSigningSecret } from "../services/webhooks/secrets";
import { ownPredictionView } from "./owners";

/* Outgoing webhooks: the caller's signing secret, the deliveries of a prediction, and the events themselves. */

const getSecret = defineRoute({
  method: "get",
  path: "/api/webhooks/secret",
  operationId: "getWebhookSecret",
  tags: ["Webhooks"],
  summary: "Get your webhook signing secret",
  description:
    "The secret that signs the webhooks your predictions send (`webhook` on `POST /api/predictions`), created on first read and kept encrypted. Verify each delivery with a Standard Webhooks library: `new Webhook(key).verify(rawBody, headers)`.",
  access: "user",
  rateLimit: "moderate",
  responses: { 200: jsonResponse(SigningSecretSchema, "Your current signing secret.") },
});

const rotateSecret = defineRoute({
  method: "post",
  path: "/api/webhooks/secret/rotate",
  operationId: "rotateWebhookSecret",
  tags: ["Webhooks"],
  summary: "Rotate your webhook signing secret",
  description:
    "Makes a new signing secret and returns it. For 24 hours deliveries carry two signatures, by the new and by the previous secret (space-separated in `webhook-signature`), so a receiver can switch over without rejecting anything; after that only the new one signs. Rotating again within those 24 hours drops the oldest secret.",
  access: "user",
  rateLimit: "strict",
  responses: { 200: jsonResponse(SigningSecretSchema, "The new signing secret.") },
});

const listDeliveries = defineRoute({
  method: "get",
  path: "/api/predictions/{id}/webhook-deliveries",
  operationId: "listWebhookDeliveries",
  tags: ["Webhooks"],
  summary: "List a prediction's webhook deliveries",
  description:
    "Every attempt to deliver this prediction's webhook events, newest first, cursor-paginated: a pending attempt shows when it is due (`nextAttemptAt`), a sent one the receiver's status or why it failed. Attempts of one event share a `webhookId`. Empty when the prediction was created without `webhook`. 403 for another user's prediction, 404 for an unknown id.",
  access: "owner",
  owner: ownPredictionView,
  rateLimit: "poll",
  request: { params: UuidParamSchema, query: PaginationQuerySchema },
  responses: { 200: jsonResponse(WebhookDeliveryListSchema, "A page of delivery attempts.") },
  errors: [400],
});

const WEBHOOK_DESCRIPTION =
  "Sent to the `webhook` URL of a prediction that asked for this event (`webhookEvents`). Signed with Standard Webhooks (headers `webhook-id`, `webhook-timestamp`, `webhook-signature`) with your secret from `GET /api/webhooks/secret`: verify the raw body before parsing it. " +
  "Answer any 2xx within 10 seconds (`WEBHOOK_TIMEOUT_MS`) to acknowledge; anything else — a timeout, a refused connection, a redirect (not followed), 4xx or 5xx — is retried with the same `webhook-id` and body after about 5 s, 30 s, 2 min, 10 min, 1 h, 6 h and 12 h (with jitter), up to 8 attempts (`WEBHOOK_MAX_ATTEMPTS`). Delivery is at least once: dedupe on `webhook-id`. Attempts are listed at `GET /api/predictions/{id}/webhook-deliveries`.";

/** An OpenAPI 3.1 webhook entry: what we POST, with the headers and the answers we expect. */
function webhookOperation(event: "start" | "completed") {
  const schema = event === "start" ? PredictionStartEventSchema : PredictionCompletedEventSchema;
  return {
    method: "post" as const,
    path: `prediction.${event}`,
    operationId: event === "start" ? "predictionStartWebhook" : "predictionCompletedWebhook",
    tags: ["Webhooks"],
    summary: event === "start" ? "A prediction started" : "A prediction is final",
    description: WEBHOOK_DESCRIPTION,
    security: [],
    request: {
      headers: OutgoingWebhookHeadersSchema,
      body: { required: true, content: { "application/json": { schema } } },
    },
    responses: {
      200: { description: "Any 2xx acknowledges the delivery; the body is ignored." },
    },
  };
}

export function registerWebhookDeliveryRoutes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerWebhook(webhookOperation("start"));
  app.openAPIRegistry.registerWebhook(webhookOperation("completed"));

  app.openapi(getSecret, async (c) => {
    const user = currentUser(c);
    return c.json({ key: await getSigningSecret(c.get("deps"), user.id) }, 200);
  });

  app.openapi(rotateSecret, async (c) => {
    const user = currentUser(c);
    return c.json({ key: await rotateSigningSecret(c.get("deps"), user.id) }, 200);
  });

  app.openapi(listDeliveries, async (c) => {
    const prediction = owned(c, ownPredictionView);
    const page = await listWebhookDeliveries(
      c.get("deps").db,
      { type: "prediction", id: prediction.id },
      c.req.valid("query"),
    );
    return c.json({ data: page.data.map(toWebhookDelivery), nextCursor: page.nextCursor }, 200);
  });
}
