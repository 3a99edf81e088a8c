import type { Context } from "hono";
import type { Auth } from "./auth/instance";
import { createAuth } from "./auth/instance";
import { createSessionCache, type SessionCache } from "./auth/session-cache";
import { connectPglite, connectPostgres, type DatabaseHandle } from "./db";
import type { AuthUser } from "./domain/user";
import type { Config } from "./env";
import { type Clock, systemClock } from "./lib/clock";
import type { Lifecycle } from "./lib/lifecycle";
import type { Logger } from "./lib/logger";
import { EventLoopLag, HttpMetrics } from "./lib/metrics";
import { type AssetRunner, createAssetRunner } from "./services/assets/runner";
import { createChangeFeed } from "./services/changes";
import { polarFromConfig } from "./services/polar/client";
import type { VerifiedEvent } from "./services/polar/webhooks";
import type { Ports } from "./services/ports";
import { createEachlabsProvider } from "./services/providers/eachlabs";
import type { GenerationProvider } from "./services/providers/provider";
import { createSandboxProvider } from "./services/providers/sandbox";
import { createProviderStats, type ProviderStats, withProviderStats } from "./services/providers/stats";
import {
  createMemoryRateLimitStore,
  createPostgresRateLimitStore,
  type RateLimitStore,
} from "./services/rate-limit-store";
import { createStorage } from "./services/storage";
import { createStreamRegistry, type StreamRegistry } from "./services/streams";
import { WebhookMetrics } from "./services/webhooks/metrics";

export const VERSION = "1.0.0";

/** Everything the app needs from the outside, built by the entrypoint or a test: the services' ports and the app's own parts. */
export interface Deps extends Ports {
  auth: Auth;
  rateLimitStore: RateLimitStore;
  /** bearer token or API key → user, for SESSION_CACHE_TTL_MS */
  sessionCache: SessionCache;
  /** Request counters and latencies of this app instance (GET /metrics). */
  httpMetrics: HttpMetrics;
  /** This process's event-loop delay, per scrape of GET /metrics. */
  eventLoopLag: EventLoopLag;
  /** Deliverables of this instance: claims queued assets and runs them on worker threads (ASSET_WORKERS). */
  assetRunner: AssetRunner;
  /** The Server-Sent Event streams open on this instance (STREAMS_PER_USER; all closed on shutdown). */
  streams: StreamRegistry;
  /** Background work (reconciler, webhook sender) started with the server and stopped before the database closes. */
  lifecycle?: Lifecycle;
}

/**
 * What the edge (src/middleware/edge.ts) knows of a request before the app routes it, passed to the app as its env
 * (`c.env`): set up once per request in a plain object, where a middleware setting context variables made every
 * request pass one more level of Hono's chain (docs/performance.md, sixth pass).
 */
export interface RequestScope {
  deps: Deps;
  /** The client's X-Request-Id when well formed, else a fresh UUID; echoed on the answer and in its log lines. */
  requestId: string;
  /** The client's address (src/lib/client-address.ts), resolved on first call and then remembered. */
  clientAddress: () => string;
  /** On Node, @hono/node-server's outgoing message: headers staged on it join whatever the route answers. */
  outgoing: { setHeader(name: string, value: string): unknown } | undefined;
  /** The edge's own: the context of the first handler the request reached (null until one does). */
  context: Context<AppEnv> | null;
  /** The edge's own: the allowed Origin the answer names, or null. */
  allowOrigin: string | null;
  /** The edge's own: a document a browser renders (/docs, /files, /sandbox) gets the document headers too. */
  document: boolean;
}

export interface AppEnv {
  Bindings: RequestScope;
  Variables: {
    /** The request's logger once made: read it with requestLogger(c) (src/lib/request-logger.ts), which makes it. */
    logger?: Logger;
    user?: AuthUser;
    /** The request's Idempotency-Key once the idempotent middleware has claimed it: creates write it on the job. */
    idempotencyKey?: string;
    authResolved?: boolean;
    /** The resource an `access: "owner"` route acts on, found and checked by the route kit (read it with `owned`). */
    owned?: { userId: string };
    /** The Polar event whose signature an `access: "signature"` route verified (src/middleware/webhook-guards.ts). */
    polarEvent?: VerifiedEvent;
    /** The prediction an `access: "callback"` route's token was minted for (src/middleware/webhook-guards.ts). */
    callbackPredictionId?: string;
  };
}

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
  const clock = overrides.clock ?? systemClock;
  const providerStats = createProviderStats(clock);
  const sessionCache = overrides.sessionCache ?? createSessionCache(config.SESSION_CACHE_TTL_MS);
  const deps: Omit<Deps, "assetRunner"> = {
    config,
    db,
    database,
    auth: createAuth({ config, db, logger, sessionCache, clock }),
    logger,
    clock,
    rateLimitStore:
      config.RATE_LIMIT_STORE === "postgres" ? createPostgresRateLimitStore(db) : createMemoryRateLimitStore(),
    sessionCache,
    httpMetrics: new HttpMetrics(),
    eventLoopLag: new EventLoopLag(),
    predictionSyncs: new Map(),
    eachlabsCallbacks: new Set(),
    startedAt: clock.now(),
    version: VERSION,
    provider: buildProvider(config, clock, providerStats),
    testProvider: createSandboxProvider({ delayMs: config.SANDBOX_DELAY_MS, publicBaseUrl: config.PUBLIC_URL, clock }),
    providerStats,
    polar: polarFromConfig(config),
    storage: createStorage(config),
    webhookMetrics: new WebhookMetrics(),
    changes: createChangeFeed(database, logger),
    streams: createStreamRegistry(config.STREAMS_PER_USER),
    ...overrides,
  };
  return { ...deps, assetRunner: overrides.assetRunner ?? createAssetRunner(deps) };
}

/** Eachlabs with a key; the local sandbox without one outside production; null (predictions 503) otherwise. */
export function buildProvider(config: Config, clock: Clock, stats: ProviderStats): GenerationProvider | null {
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
          publicBaseUrl: config.PUBLIC_URL,
          clock,
        }),
        stats,
      );
    default:
      return null;
  }
}
