import { availableParallelism } from "node:os";
import { z } from "zod";
import { invalidProxyEntries } from "./lib/client-address";
import { ASSET_KINDS, DEFAULT_ASSET_CREDITS } from "./services/deliverables";

/**
 * The one place that reads the environment. `loadConfig` parses a plain record so tests can
 * build any configuration; a bad value throws ConfigError with one line per variable.
 */

const bool = z.stringbool({ truthy: ["true", "1", "yes", "on"], falsy: ["false", "0", "no", "off", ""] });
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const csv = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

export const creditPackageSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "id must be lowercase letters, digits, - or _"),
  name: z.string().min(1).max(100),
  credits: z.number().int().positive(),
  priceCents: z.number().int().nonnegative(),
  currency: z
    .string()
    .regex(/^[a-z]{3}$/, "currency must be a lowercase ISO 4217 code")
    .default("usd"),
  polarProductId: z.string().min(1).nullable().optional(),
});
export type CreditPackageConfig = z.infer<typeof creditPackageSchema>;

/** A comma-separated list of waits in milliseconds: "5000,30000". */
const msList = (def: string) =>
  z
    .string()
    .default(def)
    .transform((s, ctx) => {
      const list = s.split(",").map((x) => Number(x.trim()));
      if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 0 || n > 7 * 24 * 3_600_000)) {
        ctx.addIssue({ code: "custom", message: "must be comma-separated milliseconds like 5000,30000" });
        return z.NEVER;
      }
      return list;
    });

const price = z.number().int().min(0).max(1000).optional();
const assetCreditsSchema = z.strictObject(Object.fromEntries(ASSET_KINDS.map((kind) => [kind, price])));

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

export const DEFAULT_CREDIT_PACKAGES: CreditPackageConfig[] = [
  { id: "starter", name: "Starter", credits: 10, priceCents: 500, currency: "usd", polarProductId: null },
  { id: "pro", name: "Pro", credits: 50, priceCents: 2000, currency: "usd", polarProductId: null },
  { id: "studio", name: "Studio", credits: 200, priceCents: 6000, currency: "usd", polarProductId: null },
];

const DEV_AUTH_SECRET = "dev-only-insecure-better-auth-secret-change-me";

const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    /** Parse every response body against its schema before sending it; default: on outside production. */
    VALIDATE_RESPONSES: bool.optional(),
    PORT: int(3000, 0, 65535),
    HOST: z.string().min(1).default("0.0.0.0"),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    PGLITE_DIR: z.string().min(1).default(".data/pglite"),
    DATABASE_POOL_MAX: int(10, 1, 1000),
    DATABASE_IDLE_TIMEOUT_MS: int(30000),
    DATABASE_CONNECT_TIMEOUT_MS: int(5000),
    DATABASE_SSL: bool.default(false),
    MIGRATE_ON_START: bool.default(true),
    BETTER_AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    BETTER_AUTH_URL: z.url().optional(),
    ALLOWED_ORIGINS: z
      .string()
      .default("http://localhost:3000,http://localhost:5173")
      .transform((s, ctx) => {
        const origins = s
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean);
        // Report positions, not values: configuration errors never echo what was set.
        origins.forEach((o, i) => {
          try {
            const u = new URL(o);
            if (u.origin !== o.replace(/\/$/, "")) throw new Error();
          } catch {
            ctx.addIssue({ code: "custom", message: `entry ${i + 1} is not an origin like https://app.example.com` });
          }
        });
        return origins.map((o) => o.replace(/\/$/, ""));
      }),
    GUEST_EMAIL_DOMAIN: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/i, "must be a domain name")
      .default("guest.logo.local"),
    SIGNUP_CREDITS: int(3),
    ANONYMOUS_CREDITS: int(1),
    ADMIN_EMAILS: csv.transform((l) => l.map((e) => e.toLowerCase())),
    EACHLABS_API_KEY: z.string().min(1).optional(),
    EACHLABS_BASE_URL: z.url().default("https://api.eachlabs.ai"),
    EACHLABS_TIMEOUT_MS: int(30000, 1),
    POLAR_ACCESS_TOKEN: z.string().min(1).optional(),
    POLAR_WEBHOOK_SECRET: z.string().min(1).optional(),
    POLAR_ENVIRONMENT: z.enum(["sandbox", "production"]).default("sandbox"),
    POLAR_BASE_URL: z.url().optional(),
    CREDIT_PACKAGES: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (!s) return DEFAULT_CREDIT_PACKAGES;
        let raw: unknown;
        try {
          raw = JSON.parse(s);
        } catch {
          ctx.addIssue({ code: "custom", message: "must be a JSON array" });
          return z.NEVER;
        }
        const parsed = z.array(creditPackageSchema).min(1).safeParse(raw);
        if (!parsed.success) {
          for (const i of parsed.error.issues)
            ctx.addIssue({ code: "custom", message: `${i.path.join(".") || "(root)"}: ${i.message}` });
          return z.NEVER;
        }
        const ids = new Set(parsed.data.map((p) => p.id));
        if (ids.size !== parsed.data.length) ctx.addIssue({ code: "custom", message: "package ids must be unique" });
        return parsed.data;
      }),
    RATE_LIMIT_STORE: z.enum(["memory", "postgres"]).default("memory"),
    RATE_LIMIT_STRICT_PER_MIN: int(10, 1),
    RATE_LIMIT_MODERATE_PER_MIN: int(30, 1),
    RATE_LIMIT_POLL_PER_MIN: int(120, 1),
    RATE_LIMIT_CALLBACK_PER_MIN: int(600, 1),
    METRICS_TOKEN: z.string().min(1).optional(),
    TRUSTED_PROXIES: csv.superRefine((entries, ctx) => {
      // Report positions, not values, as for ALLOWED_ORIGINS.
      for (const i of invalidProxyEntries(entries))
        ctx.addIssue({ code: "custom", message: `entry ${i + 1} is not an IP address or CIDR range like 10.0.0.0/8` });
    }),
    SIGNIN_MAX_FAILURES: int(10, 1),
    /** Wrong passwords for one account from every address together; default 5 × SIGNIN_MAX_FAILURES. */
    SIGNIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).optional(),
    FREE_CREDITS_PER_ADDRESS_PER_DAY: int(5),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    BODY_LIMIT_BYTES: int(64 * 1024, 1024),
    RECONCILER_INTERVAL_MS: int(15000, 0),
    PREDICTION_STALE_AFTER_MS: int(10000, 0),
    PREDICTION_DEADLINE_MS: int(15 * 60 * 1000, 1000),
    SANDBOX_DELAY_MS: int(3000, 0),
    SHUTDOWN_TIMEOUT_MS: int(10000, 0),
    SESSION_CACHE_TTL_MS: int(5000, 0, 60000),
    /**
     * Session cookies for a frontend on another site (another registrable domain than the API's): SameSite=None;
     * Secure, which a browser then sends on the frontend's cross-site requests. Off: SameSite=Lax, sent only from
     * the same site (app.example.com → api.example.com, or localhost on any port).
     */
    CROSS_SITE_COOKIES: bool.default(false),
    PUBLIC_URL: z.url("must be an absolute URL like https://api.example.com").optional(),
    STORAGE_DRIVER: z.enum(["fs", "s3"], "must be fs or s3").default("fs"),
    STORAGE_DIR: z.string().min(1).default(".data/files"),
    S3_BUCKET: z.string().min(1).optional(),
    S3_REGION: z.string().min(1).optional(),
    S3_ENDPOINT: z.url("must be an absolute URL like https://s3.eu-west-1.amazonaws.com").optional(),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    S3_PUBLIC_URL: z.url("must be an absolute URL like https://cdn.example.com/logos").optional(),
    OUTPUT_MAX_BYTES: int(20 * 1024 * 1024, 1),
    /** Output copies from loopback/private addresses (a provider or a fake on the same network); default: outside production. */
    OUTPUT_ALLOW_PRIVATE_URLS: bool.optional(),
    // Eachlabs completion callbacks: send Eachlabs a webhook_url on create (PUBLIC_URL must reach this server).
    EACHLABS_CALLBACKS: bool.default(true),
    // end Eachlabs completion callbacks
    // Outgoing webhooks (prediction events).
    WEBHOOK_MAX_ATTEMPTS: int(8, 1, 20),
    // The wait after attempt 1, 2, … failed (the last repeats), each ±20 %.
    WEBHOOK_RETRY_BACKOFF_MS: msList("5000,30000,120000,600000,3600000,21600000,43200000"),
    // The sender: deliveries in flight per instance (each its own slot), and over the fleet per user and per
    // receiver host; a host that timed out WEBHOOK_HOST_TIMEOUTS times in a row is left alone for
    // WEBHOOK_HOST_BACKOFF_MS (its deliveries wait, their attempts unspent).
    WEBHOOK_CONCURRENCY: int(16, 1, 1000),
    WEBHOOK_MAX_PER_USER: int(4, 1, 1000),
    WEBHOOK_MAX_PER_HOST: int(4, 1, 1000),
    WEBHOOK_HOST_TIMEOUTS: int(3, 1, 1000),
    WEBHOOK_HOST_BACKOFF_MS: int(60_000, 0),
    WEBHOOK_TIMEOUT_MS: int(10000, 100, 60000),
    WEBHOOK_ALLOW_PRIVATE_URLS: bool.optional(),
    // Housekeeping: how often a pass runs (0: never), how long delivered webhook rows and unreferenced files stay.
    HOUSEKEEPING_INTERVAL_MS: int(10 * 60 * 1000, 0),
    WEBHOOK_RETENTION_DAYS: int(30, 1, 3650),
    STORAGE_ORPHAN_GRACE_MS: int(24 * 60 * 60 * 1000, 60 * 60 * 1000),
    // Deliverables (assets): prices, worker threads, the largest source, lease and deadline of a job.
    ASSET_CREDITS: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined) return { ...DEFAULT_ASSET_CREDITS };
        const parsed = assetCreditsSchema.safeParse(parseJson(s));
        if (parsed.success) return { ...DEFAULT_ASSET_CREDITS, ...parsed.data };
        ctx.addIssue({
          code: "custom",
          message: `must be a JSON object of kind → credits (0–1000), kinds: ${ASSET_KINDS.join(", ")}`,
        });
        return z.NEVER;
      }),
    // 0: this instance runs no deliverables (a web-only instance; others claim its jobs).
    ASSET_WORKERS: int(Math.max(1, availableParallelism() - 1), 0, 64),
    ASSET_MAX_PIXELS: int(25_000_000, 1),
    // The longest side of a source (its aspect ratio is also at most MAX_ASPECT_RATIO), checked before decoding.
    ASSET_MAX_SIDE: int(16_384, 1),
    // libuv's thread pool (read by Node and Bun at start, not set by us): image workers hold all but two of its
    // threads at most, so the main thread's WebCrypto, file reads and DNS never wait behind image work.
    UV_THREADPOOL_SIZE: int(4, 1, 1024),
    ASSET_LEASE_MS: int(60_000, 100),
    ASSET_DEADLINE_MS: int(600_000, 1000),
    // A job interrupted by storage or database trouble (or its instance's death) is tried again after these waits
    // (the last repeats, ±20 %), ASSET_MAX_ATTEMPTS times in all; a failure caused by the source is never retried.
    ASSET_MAX_ATTEMPTS: int(3, 1, 20),
    ASSET_RETRY_BACKOFF_MS: msList("5000,30000"),
    // A user's queued + processing deliverables; one more answers 429.
    ASSET_MAX_ACTIVE_PER_USER: int(10, 1, 10_000),
    // How often an idle instance looks for queued deliverables (created on another instance, or taken over).
    ASSET_POLL_INTERVAL_MS: int(1000, 0),
    // Server-Sent Event streams of predictions and assets: open streams per user on one instance, longest stream.
    STREAMS_PER_USER: int(10, 1, 1000),
    STREAM_MAX_MS: int(600_000, 1000),
    // The Model Context Protocol endpoint for AI assistants (src/mcp/), at /mcp.
    MCP_ENABLED: bool.default(true),
  })
  .superRefine((e, ctx) => {
    if (e.NODE_ENV === "production" && !e.BETTER_AUTH_SECRET)
      ctx.addIssue({ code: "custom", path: ["BETTER_AUTH_SECRET"], message: "is required in production" });
    if (e.STORAGE_DRIVER === "s3") {
      if (!e.S3_BUCKET)
        ctx.addIssue({ code: "custom", path: ["S3_BUCKET"], message: "is required when STORAGE_DRIVER=s3" });
      // Keys come as a pair: one without the other is a typo, not a request for the SDK's default chain.
      if (!!e.S3_ACCESS_KEY_ID !== !!e.S3_SECRET_ACCESS_KEY)
        ctx.addIssue({
          code: "custom",
          path: [e.S3_ACCESS_KEY_ID ? "S3_SECRET_ACCESS_KEY" : "S3_ACCESS_KEY_ID"],
          message: "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together or not at all",
        });
    }
  });

/** Every variable the configuration reads (docs/configuration.md documents each; a test checks it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export type Config = Omit<
  z.infer<typeof envSchema>,
  | "BETTER_AUTH_SECRET"
  | "PUBLIC_URL"
  | "WEBHOOK_ALLOW_PRIVATE_URLS"
  | "OUTPUT_ALLOW_PRIVATE_URLS"
  | "SIGNIN_MAX_FAILURES_PER_ACCOUNT"
> & {
  BETTER_AUTH_SECRET: string;
  /** The base URL clients reach this server at (no trailing slash): PUBLIC_URL, else BETTER_AUTH_URL, else localhost:PORT. */
  PUBLIC_URL: string;
  /** "eachlabs" with a key, "sandbox" without one outside production, "unconfigured" in production without a key. */
  providerMode: "eachlabs" | "sandbox" | "unconfigured";
  /** Webhook URLs on loopback/private addresses: allowed outside production unless set. */
  WEBHOOK_ALLOW_PRIVATE_URLS: boolean;
  /** Output copies (every redirect hop) from loopback/private addresses: allowed outside production unless set. */
  OUTPUT_ALLOW_PRIVATE_URLS: boolean;
  /** Wrong passwords per account over every address before all its sign-ins answer 429: set, else 5 × SIGNIN_MAX_FAILURES. */
  SIGNIN_MAX_FAILURES_PER_ACCOUNT: number;
  /** VALIDATE_RESPONSES, else on outside production (src/schemas/respond.ts). */
  validateResponses: boolean;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Treat empty strings as unset, as shells and .env files often leave them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const byVar = new Map<string, string[]>();
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "environment");
      byVar.set(name, [...(byVar.get(name) ?? []), issue.message]);
    }
    // One line per bad variable; values are never echoed (they may be secrets).
    throw new ConfigError([...byVar].map(([name, msgs]) => `${name}: ${msgs.join("; ")}`));
  }
  const e = parsed.data;
  return {
    ...e,
    BETTER_AUTH_SECRET: e.BETTER_AUTH_SECRET ?? DEV_AUTH_SECRET,
    PUBLIC_URL: (e.PUBLIC_URL ?? e.BETTER_AUTH_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    WEBHOOK_ALLOW_PRIVATE_URLS: e.WEBHOOK_ALLOW_PRIVATE_URLS ?? e.NODE_ENV !== "production",
    OUTPUT_ALLOW_PRIVATE_URLS: e.OUTPUT_ALLOW_PRIVATE_URLS ?? e.NODE_ENV !== "production",
    SIGNIN_MAX_FAILURES_PER_ACCOUNT: e.SIGNIN_MAX_FAILURES_PER_ACCOUNT ?? 5 * e.SIGNIN_MAX_FAILURES,
    providerMode: e.EACHLABS_API_KEY ? "eachlabs" : e.NODE_ENV === "production" ? "unconfigured" : "sandbox",
    validateResponses: e.VALIDATE_RESPONSES ?? e.NODE_ENV !== "production",
  };
}

/** For entrypoints (server, scripts): the configuration, or one line per bad variable on stderr and exit 1. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
