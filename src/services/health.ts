/** The service's own view of its health: the database answering, the provider configured and failing or not. */
import type { Needs } from "./ports";

const PING_TIMEOUT_MS = 2000;

export async function checkHealth(
  deps: Needs<"database" | "config" | "clock" | "startedAt" | "version" | "providerStats">,
) {
  const { database, config, clock, startedAt, version, providerStats } = deps;
  let latencyMs: number | null = null;
  let dbUp = true;
  try {
    latencyMs = await withTimeout(database.ping(), PING_TIMEOUT_MS);
  } catch {
    dbUp = false;
  }
  const providerStatus =
    config.providerMode === "eachlabs" ? "configured" : config.providerMode === "sandbox" ? "sandbox" : "unconfigured";
  const recentErrorRate = providerStats.recentErrorRate();
  const status = !dbUp ? "down" : providerStatus === "unconfigured" || (recentErrorRate ?? 0) > 0.5 ? "degraded" : "ok";
  return {
    status,
    version,
    uptimeSeconds: Math.floor((clock.now().getTime() - startedAt.getTime()) / 1000),
    checks: {
      database: { status: dbUp ? "up" : "down", latencyMs },
      provider: { status: providerStatus, recentErrorRate },
      payments: { status: config.POLAR_ACCESS_TOKEN ? "configured" : "unconfigured" },
    },
  } as const;
}

/** Rejects when `p` has not settled within `ms` of real time (a hung connection must not hang /health). */
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
