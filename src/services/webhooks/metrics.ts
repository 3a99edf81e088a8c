import { labels } from "../../lib/metrics";

/** How an attempt ended: a 2xx, a failure with a retry scheduled, a failure for good, or a refused address. */
export const DELIVERY_OUTCOMES = ["succeeded", "retrying", "failed", "refused"] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** Delivery attempts of this instance by outcome (a counter), rendered with the queue depth for GET /metrics. */
export class WebhookMetrics {
  readonly outcomes = new Map<DeliveryOutcome, number>(DELIVERY_OUTCOMES.map((o) => [o, 0]));

  record(outcome: DeliveryOutcome) {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  render(): string[] {
    const lines = [
      "# HELP logo_webhook_deliveries_total Outgoing webhook attempts sent by this instance, by outcome.",
      "# TYPE logo_webhook_deliveries_total counter",
    ];
    for (const [outcome, n] of this.outcomes) lines.push(`logo_webhook_deliveries_total{${labels({ outcome })}} ${n}`);
    return lines;
  }
}

export function renderWebhookQueueDepth(depth: number): string[] {
  return [
    "# HELP logo_webhook_queue_depth Outgoing webhook attempts waiting to be sent (every instance).",
    "# TYPE logo_webhook_queue_depth gauge",
    `logo_webhook_queue_depth ${depth}`,
  ];
}
