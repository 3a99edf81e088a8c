import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../lib/openapi";
import type { AppEnv } from "../types";

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

const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["Health"],
  summary: "Service health",
  description:
    "Database reachability and latency, provider and payment configuration. Never calls Eachlabs or Polar. `degraded` when the provider's recent error rate is high or it is unconfigured; 503 when the database is down.",
  security: [],
  responses: {
    200: jsonResponse(HealthSchema, "The service is up (status ok or degraded)."),
    503: jsonResponse(HealthSchema, "The database is down."),
    ...errorResponses([]),
  },
});

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(health, async (c) => {
    const { database, config, clock, startedAt, version, providerStats } = c.var.deps;
    let latencyMs: number | null = null;
    let dbUp = true;
    try {
      latencyMs = await withTimeout(database.ping(), 2000);
    } catch {
      dbUp = false;
    }
    const providerStatus =
      config.providerMode === "eachlabs"
        ? "configured"
        : config.providerMode === "sandbox"
          ? "sandbox"
          : "unconfigured";
    const recentErrorRate = providerStats?.recentErrorRate() ?? null;
    const status = !dbUp
      ? "down"
      : providerStatus === "unconfigured" || (recentErrorRate ?? 0) > 0.5
        ? "degraded"
        : "ok";
    const body = {
      status,
      version,
      uptimeSeconds: Math.floor((clock().getTime() - startedAt.getTime()) / 1000),
      checks: {
        database: { status: dbUp ? "up" : "down", latencyMs },
        provider: { status: providerStatus, recentErrorRate },
        payments: { status: config.POLAR_ACCESS_TOKEN ? "configured" : "unconfigured" },
      },
    } as const;
    c.header("Cache-Control", "no-store");
    return dbUp ? c.json(body, 200) : c.json(body, 503);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout")), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
