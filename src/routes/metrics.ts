import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../deps";
import { renderBusinessGauges, renderProcessGauges } from "../lib/metrics";
import { defineRoute } from "../openapi/kit";
import { requestIdHeader } from "../openapi/responses";
import { MetricsTextSchema } from "../schemas/health";
import { BUSINESS_GAUGES_TTL_MS, cachedBusinessGauges } from "../services/analytics";
import { renderWebhookQueueDepth } from "../services/webhooks/metrics";
import { webhookQueueDepth } from "../services/webhooks/outbox";

const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const metrics = defineRoute({
  method: "get",
  path: "/metrics",
  operationId: "getMetrics",
  tags: ["Health"],
  summary: "Prometheus metrics",
  description:
    "Counters for scraping by Prometheus: `http_requests_total{method,route,status}` (route is the matched route pattern, " +
    "`unmatched` for unknown paths), the latency histogram `http_request_duration_seconds{method,route}`, and gauges " +
    "read from the database: `logo_predictions{status}`, `logo_users{kind}`, `logo_credits_outstanding` (computed " +
    `at most once every ${BUSINESS_GAUGES_TTL_MS / 1000} seconds per instance, so they may be that old). ` +
    "`logo_webhook_queue_depth` (outgoing webhook attempts waiting, read at scrape time); and " +
    "`logo_webhook_deliveries_total{outcome}` (outgoing webhook attempts of this instance: succeeded, retrying, failed, refused). " +
    "Counters are per instance and start at zero on restart. When `METRICS_TOKEN` is set, send it as " +
    "`Authorization: Bearer <METRICS_TOKEN>` (401 otherwise). Without `METRICS_TOKEN` the endpoint is open " +
    "outside production and does not exist in production (404).",
  access: "metrics",
  responses: {
    200: {
      description: "The metrics in the Prometheus text format.",
      headers: { ...requestIdHeader },
      content: { "text/plain": { schema: MetricsTextSchema } },
    },
  },
});

export function registerMetricsRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(metrics, async (c) => {
    const { db, logger, startedAt, clock, httpMetrics, webhookMetrics, eventLoopLag } = c.env.deps;
    const uptime = Math.floor((clock.now().getTime() - startedAt.getTime()) / 1000);
    const out = [
      httpMetrics.render(),
      ...renderProcessGauges(uptime, process.memoryUsage().rss),
      ...eventLoopLag.render(),
      ...webhookMetrics.render(),
    ];
    try {
      out.push(...renderBusinessGauges(await cachedBusinessGauges(db, clock)));
      out.push(...renderWebhookQueueDepth(await webhookQueueDepth(db)));
    } catch (err) {
      // A database outage must not hide the request counters; /health reports the database itself.
      logger.warn({ err }, "metrics: database gauges unavailable");
      out.push("# database gauges unavailable");
    }
    return c.text(`${out.join("\n")}\n`, 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" });
  });
}
