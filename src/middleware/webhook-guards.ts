/**
 * The caller checks of the routes providers call: what `access: "signature"` and `access: "callback"` mean. The route
 * kit runs them before the handler, which reads what they verified from the context.
 */
import { webhooks } from "@polar-sh/sdk/2026-04";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../deps";
import { ApiError } from "../lib/errors";
import { requestLogger } from "../lib/request-logger";
import { checkEachlabsCallback } from "../services/eachlabs-callbacks";

export const polarWebhooksNotConfigured = () =>
  new ApiError("service_unavailable", "Polar webhooks are not configured on this server.");
export const badPolarSignature = () =>
  new ApiError("forbidden", "The webhook signature is missing, invalid or too old.");

/**
 * access "signature": Polar's Standard Webhooks signature over the exact bytes of the body, with
 * POLAR_WEBHOOK_SECRET (503 without it; 403 for a missing, bad or stale one). Sets `polarEvent`.
 */
export const verifyPolarSignature = createMiddleware<AppEnv>(async (c, next) => {
  // The signature covers the exact bytes: read them before anything parses the body.
  const rawBody = await c.req.text();
  const secret = c.env.deps.config.POLAR_WEBHOOK_SECRET;
  if (!secret) throw polarWebhooksNotConfigured();
  const headers = {
    "webhook-id": c.req.header("webhook-id") ?? "",
    "webhook-timestamp": c.req.header("webhook-timestamp") ?? "",
    "webhook-signature": c.req.header("webhook-signature") ?? "",
  };
  const webhookId = headers["webhook-id"];
  try {
    const event = await webhooks.validateEvent(rawBody, headers, secret);
    c.set("polarEvent", { webhookId, type: event.type, payload: event, knownType: true });
  } catch (err) {
    if (err instanceof webhooks.PolarWebhookVerificationError) {
      requestLogger(c).warn({ reason: err.message }, "polar webhook rejected");
      throw badPolarSignature();
    }
    if (err instanceof webhooks.PolarWebhookUnknownTypeError && err.eventType !== null) {
      // Signed, JSON, with a type this SDK version does not know: acknowledge and keep it.
      c.set("polarEvent", { webhookId, type: err.eventType, payload: JSON.parse(rawBody), knownType: false });
    } else if (err instanceof webhooks.PolarWebhookError) {
      throw new ApiError("validation_error", "The webhook body is not a JSON event with a type.", {
        issues: [{ path: "", message: err.message }],
      });
    } else throw err;
  }
  await next();
});

/**
 * access "callback": the per-prediction token of an Eachlabs completion callback URL (403 when it is missing or
 * was not minted for the `prediction` of the query), checked before anything touches the database. Sets
 * `callbackPredictionId`.
 */
export const verifyEachlabsCallback = createMiddleware<AppEnv>(async (c, next) => {
  const predictionId = c.req.query("prediction") ?? "";
  checkEachlabsCallback(c.env.deps, predictionId, c.req.query("token") ?? "");
  c.set("callbackPredictionId", predictionId);
  await next();
});
