import { createAuth } from "./auth";
import { connectPglite, connectPostgres, type DatabaseHandle } from "./db";
import type { Config } from "./env";
import type { Logger } from "./lib/logger";
import { createMemoryRateLimitStore, createPostgresRateLimitStore } from "./middleware/rate-limit";
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
  return {
    config,
    db,
    database,
    auth: createAuth({ config, db, logger }),
    logger,
    rateLimitStore:
      config.RATE_LIMIT_STORE === "postgres" ? createPostgresRateLimitStore(db) : createMemoryRateLimitStore(),
    clock: () => new Date(),
    startedAt: new Date(),
    version: VERSION,
    ...overrides,
  };
}
