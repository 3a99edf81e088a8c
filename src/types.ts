import type { Auth } from "./auth";
import type { Database, DatabaseHandle } from "./db";
import type { Config } from "./env";
import type { Logger } from "./lib/logger";
import type { RateLimitStore } from "./middleware/rate-limit";

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
  clock: () => Date;
  startedAt: Date;
  version: string;
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
