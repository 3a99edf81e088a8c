import type { Auth } from "./auth";
import type { Database, DatabaseHandle } from "./db";
import type { Config } from "./env";
import type { Logger } from "./lib/logger";
import type { RateLimitStore } from "./middleware/rate-limit";
import type { SessionCache } from "./middleware/session-cache";
import type { PolarClient } from "./services/polar";
import type { GenerationProvider } from "./services/provider";

export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: string | null;
  isAnonymous: boolean;
}

/** Everything the app needs from the outside, built by the entrypoint or a test. */
export interface Deps {
  config: Config;
  db: Database;
  database: Pick<DatabaseHandle, "kind" | "ping">;
  auth: Auth;
  logger: Logger;
  rateLimitStore: RateLimitStore;
  /** bearer token → user for SESSION_CACHE_TTL_MS (src/middleware/session-cache.ts) */
  sessionCache: SessionCache;
  clock: () => Date;
  startedAt: Date;
  version: string;
  /** Image generation: Eachlabs, the sandbox, or null (production without a key → predictions 503). */
  provider: GenerationProvider | null;
  /** Polar checkout client; null when POLAR_ACCESS_TOKEN is not set (purchases 503). */
  polar: PolarClient | null;
  /** Provider call outcomes for /health; set by the generation service. */
  providerStats?: { recentErrorRate(): number | null };
  /** Background work (reconciler) started with the server and stopped before the database closes. */
  lifecycle?: { start(): void; stop(): Promise<void> };
}

export interface AppEnv {
  Variables: {
    deps: Deps;
    logger: Logger;
    requestId: string;
    user?: AuthUser;
    authResolved?: boolean;
  };
}
