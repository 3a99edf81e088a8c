import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { errorResponses, idempotencyKeyHeader, jsonBody, jsonResponse, userSecurity } from "../lib/openapi";
import { currentUser, requireUser } from "../middleware/auth";
import { idempotent } from "../middleware/idempotency";
import { rateLimit } from "../middleware/rate-limit";
import { UuidParamSchema } from "../schemas/common";
import {
  CreatePredictionRequestSchema,
  PredictionListQuerySchema,
  PredictionListSchema,
  PredictionSchema,
  PreferWaitHeaderSchema,
} from "../schemas/predictions";
import {
  cancelPrediction,
  createPrediction,
  getOwnedPrediction,
  listPredictions,
  parsePreferWait,
  refreshAndWait,
  rowToPrediction,
} from "../services/predictions";
import type { AppEnv } from "../types";

const locationHeader = {
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

const preferenceAppliedHeader = {
  "Preference-Applied": {
    description: "Present when `Prefer: wait=N` was honoured: the wait actually applied, e.g. `wait=10`.",
    schema: { type: "string", maxLength: 20, pattern: "^wait=\\d{1,2}$", example: "wait=10" },
  },
};

const create = createRoute({
  method: "post",
  path: "/api/predictions",
  operationId: "createPrediction",
  tags: ["Predictions"],
  summary: "Generate logos",
  description:
    "Charges `creditsPerImage × numOutputs` credits and starts a generation at the provider. The charge and the prediction are recorded in one transaction (402 when the balance is short; concurrent requests can never overspend). " +
    "If the provider cannot be reached, times out or refuses the request, the prediction is marked `failed`, its credits are refunded in the same transaction, and the answer is `502 provider_error` with `details.predictionId`. " +
    "Poll `urls.get` (or send `Prefer: wait=N` to it) until the status is final. Send an `Idempotency-Key` to retry safely.",
  security: userSecurity,
  middleware: [rateLimit("strict"), requireUser, idempotent("predictions.create")] as const,
  request: {
    headers: idempotencyKeyHeader,
    body: jsonBody(CreatePredictionRequestSchema, "What to generate."),
  },
  responses: {
    201: jsonResponse(PredictionSchema, "Accepted: the prediction is `processing` at the provider.", {
      rateLimited: true,
      headers: locationHeader,
    }),
    ...errorResponses([400, 401, 402, 409, 413, 422, 502, 503], { rateLimited: true }),
  },
});

const list = createRoute({
  method: "get",
  path: "/api/predictions",
  operationId: "listPredictions",
  tags: ["Predictions"],
  summary: "List your predictions",
  description:
    "The caller's predictions, newest first, cursor-paginated, optionally filtered by `status` and `model`. Read from storage (no provider calls).",
  security: userSecurity,
  middleware: [rateLimit("poll"), requireUser] as const,
  request: { query: PredictionListQuerySchema },
  responses: {
    200: jsonResponse(PredictionListSchema, "A page of predictions.", { rateLimited: true }),
    ...errorResponses([400, 401], { rateLimited: true }),
  },
});

const get = createRoute({
  method: "get",
  path: "/api/predictions/{id}",
  operationId: "getPrediction",
  tags: ["Predictions"],
  summary: "Get a prediction",
  description:
    "The prediction, refreshed from the provider while it is not final (at most once a second per prediction, however many clients poll). " +
    "With `Prefer: wait=N` (N ≤ 30) the server holds the request until the prediction is final or N seconds pass, and answers `Preference-Applied: wait=N`. " +
    "403 for another user's prediction, 404 for an unknown id.",
  security: userSecurity,
  middleware: [rateLimit("poll"), requireUser] as const,
  request: { params: UuidParamSchema, headers: PreferWaitHeaderSchema },
  responses: {
    200: jsonResponse(PredictionSchema, "The prediction.", { rateLimited: true, headers: preferenceAppliedHeader }),
    ...errorResponses([400, 401, 403, 404], { rateLimited: true }),
  },
});

const cancel = createRoute({
  method: "post",
  path: "/api/predictions/{id}/cancel",
  operationId: "cancelPrediction",
  tags: ["Predictions"],
  summary: "Cancel a prediction",
  description:
    "Cancels the generation at the provider (best effort), marks the prediction `canceled` and refunds its credits, once. A prediction that is already final is `409 conflict`.",
  security: userSecurity,
  middleware: [rateLimit("strict"), requireUser] as const,
  request: { params: UuidParamSchema },
  responses: {
    200: jsonResponse(PredictionSchema, "The canceled and refunded prediction.", { rateLimited: true }),
    ...errorResponses([400, 401, 403, 404, 409], { rateLimited: true }),
  },
});

export function registerPredictionRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(create, async (c) => {
    const user = currentUser(c);
    const row = await createPrediction(c.var.deps, user, c.req.valid("json"));
    const body = rowToPrediction(row);
    c.header("Location", body.urls.get);
    return c.json(body, 201);
  });

  app.openapi(list, async (c) => {
    const user = currentUser(c);
    const q = c.req.valid("query");
    c.header("Cache-Control", "no-store");
    return c.json(PredictionListSchema.parse(await listPredictions(c.var.deps.db, user.id, q)), 200);
  });

  app.openapi(get, async (c) => {
    const user = currentUser(c);
    const { deps } = c.var;
    const row = await getOwnedPrediction(deps.db, user, c.req.valid("param").id);
    const wait = parsePreferWait(c.req.valid("header").prefer);
    const fresh = await refreshAndWait(deps, row, wait ?? 0, c.req.raw.signal);
    if (wait !== null) c.header("Preference-Applied", `wait=${wait}`);
    c.header("Cache-Control", "no-store");
    return c.json(rowToPrediction(fresh), 200);
  });

  app.openapi(cancel, async (c) => {
    const user = currentUser(c);
    const row = await cancelPrediction(c.var.deps, user, c.req.valid("param").id);
    return c.json(rowToPrediction(row), 200);
  });
}
