import pino from "pino";

export type Logger = pino.Logger;

/**
 * Drizzle's and pg's errors quote the failed query's parameters ("Failed query: …\nparams: <token>,…"):
 * session tokens, emails, API key hashes. Path redaction cannot see inside a message, so they are cut.
 */
export function scrubQueryParams(text: string): string {
  return text.replace(/(\bparams:)[^\n]*/g, "$1 [redacted]");
}

function scrubSerialized(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubQueryParams(value);
  if (!value || typeof value !== "object" || depth > 5) return value;
  if (Array.isArray(value)) return value.map((v) => scrubSerialized(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === "params" ? "[redacted]" : scrubSerialized(v, depth + 1);
  return out;
}

/** pino's error serializer, then query parameters removed from the error, its stack and its causes. */
const errSerializer = (err: unknown) =>
  scrubSerialized(err instanceof Error ? pino.stdSerializers.errWithCause(err) : err);

/** Structured JSON logs; pretty only when asked for in development. Secrets are redacted by path. */
export function createLogger(opts: { level: string; pretty?: boolean; destination?: pino.DestinationStream }): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { service: "logo-api" },
    serializers: { err: errSerializer },
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        'req.headers["x-api-key"]',
        'req.headers["set-cookie"]',
        "headers.authorization",
        "headers.cookie",
        'headers["x-api-key"]',
        "*.password",
        "*.token",
        "*.accessToken",
        "*.secret",
        "config.BETTER_AUTH_SECRET",
        "config.POLAR_ACCESS_TOKEN",
        "config.POLAR_WEBHOOK_SECRET",
        "config.EACHLABS_API_KEY",
        "config.METRICS_TOKEN",
        "config.DATABASE_URL",
      ],
      censor: "[redacted]",
    },
    ...(opts.pretty && !opts.destination ? { transport: { target: "pino-pretty", options: { colorize: true } } } : {}),
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/**
 * A child of `parent` with `bindings()`, made on first use: a request's logger costs nothing on the requests
 * that log nothing (pino's child, with its redaction, was a few per cent of a cheap request's time).
 */
export function lazyChild(parent: Logger, bindings: () => pino.Bindings): Logger {
  let child: Logger | undefined;
  const made = () => {
    child ??= parent.child(bindings());
    return child;
  };
  return new Proxy(parent, {
    get(_target, prop) {
      const target = made();
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(_target, prop, value) {
      return Reflect.set(made(), prop, value);
    },
  });
}

/**
 * Writes out what the logger's destination still buffers, synchronously: before `process.exit`, so the last
 * lines (a fatal error, "stopped") are not lost. A destination that cannot (a test's sink) is left alone.
 */
export function flushLogsSync(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { flushSync?: () => void }
    | undefined;
  try {
    stream?.flushSync?.();
  } catch {
    // Nothing buffered, or the stream is closed already.
  }
}
