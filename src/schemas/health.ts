import { z } from "@hono/zod-openapi";
import { NO_NUL } from "../domain/patterns";

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded", "down"]),
    version: z
      .string()
      .max(50)
      .regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/)
      .openapi({ example: "1.0.0" }),
    uptimeSeconds: z.int().min(0).max(1e9),
    checks: z.object({
      database: z.object({
        status: z.enum(["up", "down"]),
        latencyMs: z.number().min(0).max(1e6).nullable(),
      }),
      provider: z.object({
        status: z.enum(["configured", "sandbox", "unconfigured"]),
        recentErrorRate: z.number().min(0).max(1).nullable().openapi({
          description: "Share of provider calls that failed in the last 5 minutes; null when there were none.",
        }),
      }),
      payments: z.object({ status: z.enum(["configured", "unconfigured"]) }),
    }),
  })
  .openapi("Health", {
    example: {
      status: "ok",
      version: "1.0.0",
      uptimeSeconds: 3600,
      checks: {
        database: { status: "up", latencyMs: 1.2 },
        provider: { status: "sandbox", recentErrorRate: null },
        payments: { status: "unconfigured" },
      },
    },
  });

export const MetricsTextSchema = z.string().max(10_000_000).regex(NO_NUL).openapi("MetricsText", {
  description: "Prometheus text exposition format 0.0.4.",
  example: '# TYPE http_requests_total counter\nhttp_requests_total{method="GET",route="/health",status="200"} 12\n',
});
