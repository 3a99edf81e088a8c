import type { Database, DatabaseHandle } from "../db";
import type { prediction } from "../db/schema";
import type { Config } from "../env";
import type { Clock } from "../lib/clock";
import type { Logger } from "../lib/logger";
import type { ChangeFeed } from "./changes";
import type { PolarClient } from "./polar/client";
import type { GenerationProvider } from "./providers/provider";
import type { ProviderStats } from "./providers/stats";
import type { Storage } from "./storage";
import type { WebhookMetrics } from "./webhooks/metrics";

/**
 * What the services may be given, port by port. A service names the few it uses (`Needs<"db" | "clock">`), so it
 * depends on those and not on the whole composition (deps.ts, which builds them and adds the app's own parts).
 */
export interface Ports {
  config: Config;
  db: Database;
  database: Pick<DatabaseHandle, "kind" | "ping">;
  logger: Logger;
  /** "now" and waiting: the system clock, or a fake one in tests. */
  clock: Clock;
  startedAt: Date;
  version: string;
  /** Image generation: Eachlabs, the sandbox, or null (production without a key → predictions 503). */
  provider: GenerationProvider | null;
  /** Provider call outcomes for /health. */
  providerStats: Pick<ProviderStats, "recentErrorRate">;
  /** Provider reads in flight, by prediction id, so concurrent pollers of one prediction share one call. */
  predictionSyncs: Map<string, Promise<typeof prediction.$inferSelect>>;
  /** Predictions a completion announcement (an Eachlabs callback, the sandbox) is refreshing on this instance. */
  eachlabsCallbacks: Set<string>;
  /** Polar checkout client; null when POLAR_ACCESS_TOKEN is not set (purchases 503). */
  polar: PolarClient | null;
  /** Where output images are kept for good (STORAGE_DRIVER): served at GET /files/{key} or S3_PUBLIC_URL. */
  storage: Storage;
  /**
   * This app's own fetch handler, set by createApp: output URLs on PUBLIC_URL (the sandbox provider's
   * images) are copied in-process rather than over the network.
   */
  selfFetch?: (req: Request) => Promise<Response>;
  /** Outgoing webhook attempts of this instance by outcome (GET /metrics). */
  webhookMetrics: WebhookMetrics;
  /**
   * The fleet's change signal as this process hears it (LISTEN on a connection of its own): streams and
   * `Prefer: wait` subscribe to a job and wake when any instance commits a change to it. Stopped on shutdown.
   */
  changes: ChangeFeed;
  /** Deliverables of this instance: a new job kicks its claim loop (ASSET_WORKERS). */
  assetRunner: { kick(): void };
}

export type Needs<K extends keyof Ports> = Pick<Ports, K>;
