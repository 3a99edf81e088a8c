import { createHash, timingSafeEqual } from "node:crypto";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { queryRows } from "../db";
import { ApiError } from "../lib/errors";
import { errorResponses, requestIdHeader } from "../lib/openapi";
import { labels, metricsOf } from "../middleware/metrics";
import { NO_NUL } from "../schemas/common";
import type { AppEnv } from "../types";

const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export const MetricsTextSchema = z.string().max(10_000_000).regex(NO_NUL).openapi("MetricsText", {
  description: "Prometheus text exposition format 0.0.4.",
  example: '# TYPE http_requests_total counter\nhttp_requests_total{method="GET",route="/health",status="200"} 12\n',
});

const metrics = createRoute({
  method: "get",
  path: "/metrics",
  operationId: "getMetrics",
  tags: ["Health"],
  summary: "Prometheus metrics",
  description:
    "Counters for scraping by Prometheus: `http_requests_total{method,route,status}` (route is the matched route pattern, " +
    "`unmatched` for unknown paths), the latency histogram `http_request_duration_seconds{method,route}`, and gauges " +
    "read from the database at scrape time: `logo_predictions{status}`, `logo_users{kind}`, `logo_credits_outstanding`. " +
    "Counters are per instance and start at zero on restart. When `METRICS_TOKEN` is set, send it as " +
    "`Authorization: Bearer <METRICS_TOKEN>` (401 otherwise); when unset the endpoint is open.",
  security: [{ metricsToken: [] }],
  responses: {
    200: {
      description: "The metrics in the Prometheus text format.",
      headers: { ...requestIdHeader },
      content: { "text/plain": { schema: MetricsTextSchema } },
    },
    ...errorResponses([401]),
  },
});

export function registerMetricsRoutes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "metricsToken", {
    type: "http",
    scheme: "bearer",
    description: "The `METRICS_TOKEN` of the deployment; only for `GET /metrics`, and only when it is set.",
  });
  app.openapi(metrics, async (c) => {
    const { config, db, logger, startedAt, clock } = c.var.deps;
    if (config.METRICS_TOKEN && !sameSecret(bearerOf(c.req.header("authorization")), config.METRICS_TOKEN))
      throw new ApiError("unauthorized", "Send the metrics token as Authorization: Bearer <METRICS_TOKEN>.");

    const out = [metricsOf(c.var.deps).render()];
    const uptime = Math.floor((clock().getTime() - startedAt.getTime()) / 1000);
    out.push(
      "# HELP process_uptime_seconds Seconds since this instance started.",
      "# TYPE process_uptime_seconds gauge",
      `process_uptime_seconds ${uptime}`,
      "# HELP process_resident_memory_bytes Resident memory of this process.",
      "# TYPE process_resident_memory_bytes gauge",
      `process_resident_memory_bytes ${process.memoryUsage().rss}`,
    );
    try {
      out.push(...(await businessGauges(db)));
    } catch (err) {
      // A database outage must not hide the request counters; /health reports the database itself.
      logger.warn({ err }, "metrics: database gauges unavailable");
      out.push("# database gauges unavailable");
    }
    return c.text(`${out.join("\n")}\n`, 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" });
  });
}

async function businessGauges(db: AppEnv["Variables"]["deps"]["db"]): Promise<string[]> {
  const predictions = await queryRows<{ status: string; n: number }>(
    db,
    sql`select status::text as status, count(*)::int as n from prediction group by status order by status`,
  );
  const users = await queryRows<{ anonymous: number; registered: number }>(
    db,
    sql`select count(*) filter (where coalesce(is_anonymous, false))::int as anonymous,
               count(*) filter (where not coalesce(is_anonymous, false))::int as registered
        from "user"`,
  );
  const credits = await queryRows<{ outstanding: number | string | null }>(
    db,
    sql`select coalesce(sum(balance), 0)::bigint as outstanding from credit_account`,
  );
  const lines = ["# HELP logo_predictions Predictions stored, by status.", "# TYPE logo_predictions gauge"];
  for (const status of ["queued", "processing", "succeeded", "failed", "canceled"]) {
    const n = predictions.find((p) => p.status === status)?.n ?? 0;
    lines.push(`logo_predictions{${labels({ status })}} ${Number(n)}`);
  }
  lines.push("# HELP logo_users Accounts, by kind.", "# TYPE logo_users gauge");
  lines.push(`logo_users{kind="registered"} ${Number(users[0]?.registered ?? 0)}`);
  lines.push(`logo_users{kind="anonymous"} ${Number(users[0]?.anonymous ?? 0)}`);
  lines.push(
    "# HELP logo_credits_outstanding Credits held by all users (sum of balances).",
    "# TYPE logo_credits_outstanding gauge",
    `logo_credits_outstanding ${Number(credits[0]?.outstanding ?? 0)}`,
  );
  return lines;
}

function bearerOf(header: string | undefined): string {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return m?.[1]?.trim() ?? "";
}

/** Constant-time comparison (over digests, so lengths do not leak either). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}
