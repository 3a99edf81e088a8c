import { createAuth } from "./auth";
import { connectPglite, connectPostgres, type DatabaseHandle } from "./db";
import type { Config } from "./env";
import type { Logger } from "./lib/logger";
import { createMemoryRateLimitStore, createPostgresRateLimitStore } from "./middleware/rate-limit";
import { createSessionCache } from "./middleware/session-cache";
import { createEachlabsProvider } from "./services/eachlabs";
import { polarFromConfig } from "./services/polar";
import type { GenerationProvider } from "./services/provider";
import { createProviderStats, type ProviderStats, withProviderStats } from "./services/provider-stats";
import { createReconcilerLifecycle } from "./services/reconciler";
import { createSandboxProvider } from "./services/sandbox-provider";
import type { Deps } from "./types";

export const VERSION = "1.0.0";

/** pg.Pool when DATABASE_URL is set, otherwise embedded PGlite persisted under PGLITE_DIR. */
export async function openDatabase(config: Config): Promise<DatabaseHandle> {
  if (config.DATABASE_URL)
    return connectPostgres({
      url: config.DATABASE_URL,
      poolMax: config.DATABASE_POOL_MAX,
      idleTimeoutMs: config.DATABASE_IDLE_TIMEOUT_MS,
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
      ssl: config.DATABASE_SSL,
    });
  return connectPglite(config.PGLITE_DIR);
}

/** Everything createApp needs, built from configuration and an open database. Overrides are for tests. */
export function buildDeps(
  config: Config,
  database: DatabaseHandle,
  logger: Logger,
  overrides: Partial<Deps> = {},
): Deps {
  const db = database.db;
  logger = overrides.logger ?? logger;
  const clock = overrides.clock ?? (() => new Date());
  const providerStats = createProviderStats(clock);
  const deps: Deps = {
    config,
    db,
    database,
    auth: createAuth({ config, db, logger }),
    logger,
    rateLimitStore:
      config.RATE_LIMIT_STORE === "postgres" ? createPostgresRateLimitStore(db) : createMemoryRateLimitStore(),
    sessionCache: createSessionCache(config.SESSION_CACHE_TTL_MS),
    clock,
    startedAt: new Date(),
    version: VERSION,
    provider: buildProvider(config, clock, providerStats),
    providerStats,
    polar: polarFromConfig(config),
    ...overrides,
  };
  // The reconciler runs only when RECONCILER_INTERVAL_MS > 0; startServer starts it, stop() ends it.
  if (!overrides.lifecycle && config.RECONCILER_INTERVAL_MS > 0) deps.lifecycle = createReconcilerLifecycle(deps);
  return deps;
}

/** Eachlabs with a key; the local sandbox without one outside production; null (predictions 503) otherwise. */
export function buildProvider(config: Config, clock: () => Date, stats: ProviderStats): GenerationProvider | null {
  switch (config.providerMode) {
    case "eachlabs":
      return withProviderStats(
        createEachlabsProvider({
          apiKey: config.EACHLABS_API_KEY ?? "",
          baseUrl: config.EACHLABS_BASE_URL,
          timeoutMs: config.EACHLABS_TIMEOUT_MS,
        }),
        stats,
      );
    case "sandbox":
      return withProviderStats(
        createSandboxProvider({
          delayMs: config.SANDBOX_DELAY_MS,
          publicBaseUrl: config.BETTER_AUTH_URL ?? `http://localhost:${config.PORT}`,
          clock,
        }),
        stats,
      );
    default:
      return null;
  }
}
