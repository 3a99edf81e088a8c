import type { OpenAPIHono, z } from "@hono/zod-openapi";
import { currentUser } from "../auth/session";
import type { AppEnv } from "../deps";
import type { JobType } from "../domain/jobs";
import { type WebhookEvent, webhookType } from "../domain/webhooks";
import { defineRoute, type Owned, type OwnerResolver, owned } from "../openapi/kit";
import { jsonResponse } from "../openapi/responses";
import { PaginationQuerySchema, UuidParamSchema } from "../schemas/common";
import {
  AssetCompletedEventSchema,
  OutgoingWebhookHeadersSchema,
  PredictionCompletedEventSchema,
  PredictionStartEventSchema,
  SigningSecretSchema,
  toWebhookDelivery,
  WebhookDeliveryListSchema,
} from "../schemas/webhook-deliveries";
import { listWebhookDeliveries } from "../services/webhooks/outbox";
import { getSigningSecret, rotateSigningSecret } from "../services/webhooks/secrets";
import { ownAsset, ownPredictionView } from "./owners";

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

const DELIVERY_POLICY =
  "Answer any 2xx within 10 seconds (`WEBHOOK_TIMEOUT_MS`) to acknowledge; anything else — a timeout, a refused connection, a redirect (not followed), 4xx or 5xx — is retried with the same `webhook-id` and body after about 5 s, 30 s, 2 min, 10 min, 1 h, 6 h and 12 h (with jitter; `WEBHOOK_RETRY_BACKOFF_MS`), up to 8 attempts (`WEBHOOK_MAX_ATTEMPTS`). Delivery is at least once: dedupe on `webhook-id`. " +
  "A receiver that keeps timing out is left alone for a minute (`WEBHOOK_HOST_BACKOFF_MS`) before its deliveries go on; each user and each receiver host has a bounded share of the sender, so a slow receiver delays only its own deliveries.";

/**
 * What a paid job type shows of its webhooks, declared once: the list of its delivery attempts (an owner route under
 * the job's path) and one OpenAPI 3.1 webhook per event it sends, signed the same way.
 */
interface JobWebhooks<T extends Owned & { id: string }> {
  type: JobType;
  /** The job as messages name it: "prediction", "asset". */
  noun: string;
  /** The job's collection path: "/api/predictions". */
  collection: string;
  listOperationId: string;
  owner: OwnerResolver<T>;
  /** The operation whose `webhook` field subscribes (its body's `webhook`). */
  subscribe: string;
  events: { event: WebhookEvent; operationId: string; summary: string; schema: z.ZodType }[];
}

function jobWebhooks<T extends Owned & { id: string }>(j: JobWebhooks<T>) {
  const list = defineRoute({
    method: "get",
    path: `${j.collection}/{id}/webhook-deliveries`,
    operationId: j.listOperationId,
    tags: ["Webhooks"],
    summary: `List a${j.noun === "asset" ? "n" : ""} ${j.noun}'s webhook deliveries`,
    description: `Every attempt to deliver this ${j.noun}'s webhook events, newest first, cursor-paginated: a pending attempt shows when it is due (\`nextAttemptAt\`), a sent one the receiver's status or why it failed. Attempts of one event share a \`webhookId\`. Empty when the ${j.noun} was created without \`webhook\`. 403 for another user's ${j.noun}, 404 for an unknown id.`,
    access: "owner",
    owner: j.owner,
    rateLimit: "poll",
    request: { params: UuidParamSchema, query: PaginationQuerySchema },
    responses: { 200: jsonResponse(WebhookDeliveryListSchema, "A page of delivery attempts.") },
    errors: [400],
  });
  const webhooks = j.events.map(({ event, operationId, summary, schema }) => ({
    method: "post" as const,
    path: webhookType(j.type, event),
    operationId,
    tags: ["Webhooks"],
    summary,
    description:
      `Sent to the \`webhook\` URL of a${j.noun === "asset" ? "n" : ""} ${j.noun} that asked for this event (\`webhookEvents\` on \`${j.subscribe}\`). Signed with Standard Webhooks (headers \`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature\`) with your secret from \`GET /api/webhooks/secret\`: verify the raw body before parsing it. ` +
      `${DELIVERY_POLICY} Attempts are listed at \`GET ${j.collection}/{id}/webhook-deliveries\`.`,
    security: [],
    request: {
      headers: OutgoingWebhookHeadersSchema,
      body: { required: true, content: { "application/json": { schema } } },
    },
    responses: {
      200: { description: "Any 2xx acknowledges the delivery; the body is ignored." },
    },
  }));
  return {
    list,
    register(app: OpenAPIHono<AppEnv>) {
      for (const w of webhooks) app.openAPIRegistry.registerWebhook(w);
      app.openapi(list, async (c) => {
        const job = owned(c, j.owner);
        const page = await listWebhookDeliveries(c.env.deps.db, { type: j.type, id: job.id }, c.req.valid("query"));
        return c.json({ data: page.data.map(toWebhookDelivery), nextCursor: page.nextCursor }, 200);
      });
    },
  };
}

const predictionWebhooks = jobWebhooks({
  type: "prediction",
  noun: "prediction",
  collection: "/api/predictions",
  listOperationId: "listWebhookDeliveries",
  owner: ownPredictionView,
  subscribe: "POST /api/predictions",
  events: [
    {
      event: "start",
      operationId: "predictionStartWebhook",
      summary: "A prediction started",
      schema: PredictionStartEventSchema,
    },
    {
      event: "completed",
      operationId: "predictionCompletedWebhook",
      summary: "A prediction is final",
      schema: PredictionCompletedEventSchema,
    },
  ],
});

const assetWebhooks = jobWebhooks({
  type: "asset",
  noun: "asset",
  collection: "/api/assets",
  listOperationId: "listAssetWebhookDeliveries",
  owner: ownAsset,
  subscribe: "POST /api/predictions/{id}/assets",
  events: [
    {
      event: "completed",
      operationId: "assetCompletedWebhook",
      summary: "An asset is final",
      schema: AssetCompletedEventSchema,
    },
  ],
});

export function registerWebhookDeliveryRoutes(app: OpenAPIHono<AppEnv>) {
  predictionWebhooks.register(app);
  assetWebhooks.register(app);

  app.openapi(getSecret, async (c) => {
    const user = currentUser(c);
    return c.json({ key: await getSigningSecret(c.env.deps, user.id) }, 200);
  });

  app.openapi(rotateSecret, async (c) => {
    const user = currentUser(c);
    return c.json({ key: await rotateSigningSecret(c.env.deps, user.id) }, 200);
  });
}
