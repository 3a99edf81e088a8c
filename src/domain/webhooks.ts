/** The facts about outgoing webhooks that the database, the contract and the sender share. */

import type { JobType } from "./jobs";

/** Events a job can send (an asset only `completed`); `webhookEvents` on create picks among them. */
export const WEBHOOK_EVENTS = ["start", "completed"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
export const DEFAULT_WEBHOOK_EVENTS: WebhookEvent[] = ["completed"];

/** The `type` of a delivered body: the job's kind and the event, `prediction.start`, `asset.completed`. */
export const webhookType = (job: JobType, event: WebhookEvent) => `${job}.${event}` as const;

/** One attempt: pending until sent (or claimed and in flight), then succeeded or failed. */
export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const WEBHOOK_URL_MAX = 2048;

/** Signing secrets: `whsec_` + base64 of this many random bytes (Standard Webhooks). */
export const WEBHOOK_SECRET_BYTES = 32;
export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** After a rotation the previous secret keeps signing (a second signature) this long. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;
