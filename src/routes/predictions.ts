import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { defineRoute, owned } from "../openapi/kit";
import { jsonBody, jsonResponse } from "../openapi/responses";
import { UuidParamSchema } from "../schemas/common";
import {
  CreatePredictionRequestSchema,
  LocationHeader,
  PredictionListQuerySchema,
  PredictionListSchema,
  PredictionSchema,
  PreferenceAppliedHeader,
  PreferWaitHeaderSchema,
  parsePreferWait,
  toPrediction,
} from "../schemas/predictions";
import { cancelPrediction, createPrediction, listPredictions, readOwnedPrediction } from "../services/predictions";
import { ownPrediction, ownPredictionView } from "./owners";

const create = defineRoute({
  method: "post",
  path: "/api/predictions",
  operationId: "createPrediction",
  tags: ["Predictions"],
  summary: "Generate logos",
  description:
    "Charges `creditsPerImage × numOutputs` credits and starts a generation at the provider. The charge and the prediction are recorded in one transaction (402 when the balance is short; concurrent requests can never overspend). " +
    "If the provider cannot be reached, times out or refuses the request, the prediction is marked `failed`, its credits are refunded in the same transaction, and the answer is `502 provider_error` with `details.predictionId`. " +
    "Poll `urls.get` (or send `Prefer: wait=N` to it) until the status is final. Send an `Idempotency-Key` to retry safely.",
  access: "user",
  rateLimit: "strict",
  idempotent: "predictions.create",
  request: { body: jsonBody(CreatePredictionRequestSchema, "What to generate.") },
  responses: {
    201: jsonResponse(PredictionSchema, "Accepted: the prediction is `processing` at the provider.", {
      headers: LocationHeader,
    }),
  },
  errors: [400, 402, 502, 503],
});

const list = defineRoute({
  method: "get",
  path: "/api/predictions",
  operationId: "listPredictions",
  tags: ["Predictions"],
  summary: "List your predictions",
  description:
    "The caller's predictions, newest first, cursor-paginated, optionally filtered by `status` and `model`. Read from storage (no provider calls).",
  access: "user",
  rateLimit: "poll",
  request: { query: PredictionListQuerySchema },
  responses: { 200: jsonResponse(PredictionListSchema, "A page of predictions.") },
  errors: [400],
});

const get = defineRoute({
  method: "get",
  path: "/api/predictions/{id}",
  operationId: "getPrediction",
  tags: ["Predictions"],
  summary: "Get a prediction",
  description:
    "The prediction, refreshed from the provider while it is not final (at most once a second per prediction, however many clients poll). " +
    "With `Prefer: wait=N` (N ≤ 30) the server holds the request until the prediction is final or N seconds pass, and answers `Preference-Applied: wait=N`. " +
    "403 for another user's prediction, 404 for an unknown id.",
  access: "owner",
  owner: ownPredictionView,
  rateLimit: "poll",
  request: { params: UuidParamSchema, headers: PreferWaitHeaderSchema },
  responses: { 200: jsonResponse(PredictionSchema, "The prediction.", { headers: PreferenceAppliedHeader }) },
  errors: [400],
});

const cancel = defineRoute({
  method: "post",
  path: "/api/predictions/{id}/cancel",
  operationId: "cancelPrediction",
  tags: ["Predictions"],
  summary: "Cancel a prediction",
  description:
    "Cancels the generation at the provider (best effort), marks the prediction `canceled` and refunds its credits, once. A prediction that is already final is `409 conflict`.",
  access: "owner",
  owner: ownPrediction,
  rateLimit: "strict",
  request: { params: UuidParamSchema },
  responses: { 200: jsonResponse(PredictionSchema, "The canceled and refunded prediction.") },
  errors: [400, 409],
});

export function registerPredictionRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(create, async (c) => {
    const user = currentUser(c);
    const row = await createPrediction(c.env.deps, user, c.req.valid("json"), c.get("idempotencyKey"));
    const body = toPrediction(row);
    c.header("Location", body.urls.get);
    return c.json(body, 201);
  });

  app.openapi(list, async (c) => {
    const user = currentUser(c);
    const q = c.req.valid("query");
    const page = await listPredictions(c.env.deps.db, user, q);
    return c.json({ data: page.data.map(toPrediction), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(get, async (c) => {
    const deps = c.env.deps;
    const wait = parsePreferWait(c.req.valid("header").prefer);
    // The request's signal only when it may wait (on Node, asking for it builds an AbortController).
    const signal = wait ? c.req.raw.signal : undefined;
    const fresh = await readOwnedPrediction(deps, owned(c, ownPredictionView), wait ?? 0, signal);
    if (wait !== null) c.header("Preference-Applied", `wait=${wait}`);
    return c.json(toPrediction(fresh), 200);
  });

  app.openapi(cancel, async (c) => {
    const row = await cancelPrediction(c.env.deps, owned(c, ownPrediction));
    return c.json(toPrediction(row), 200);
  });
}
