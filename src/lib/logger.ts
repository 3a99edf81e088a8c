import { writeSync } from "node:fs";
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

const CENSOR = "[redacted]";

/** Keys redacted one level down in anything logged (pino's `*.password` paths, without their per-value cost). */
const NESTED_SECRETS = ["password", "token", "accessToken", "secret"] as const;

/**
 * `*.password`, `*.token`, `*.accessToken` and `*.secret`, as pino's `redact` would apply them: a logged object
 * (or a child's bindings) whose value at some key holds one of those keys gets that value copied with them
 * censored. Given to pino as wildcard paths, they made pino run its redactor on every value of every line, the
 * strings and numbers of the per-request line included (a third of that line's cost in the profile); here a line
 * of primitives costs one `typeof` per key. An `err` is left to its serializer, which needs the Error itself.
 */
function censorNested(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const value = obj[key];
    if (value === null || typeof value !== "object" || key === "err" || Array.isArray(value)) continue;
    if (!NESTED_SECRETS.some((k) => Object.hasOwn(value, k))) continue;
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const k of NESTED_SECRETS) if (Object.hasOwn(copy, k)) copy[k] = CENSOR;
    out ??= { ...obj };
    out[key] = copy;
  }
  return out ?? obj;
}

/** pino's error serializer, then query parameters and the nested secrets above removed. */
const errSerializerCensored = (err: unknown) => {
  const out = errSerializer(err);
  if (out && typeof out === "object" && !Array.isArray(out))
    for (const k of NESTED_SECRETS) if (Object.hasOwn(out, k)) (out as Record<string, unknown>)[k] = CENSOR;
  return out;
};

/** The longest a written line waits in the buffer before it is written out (well under the 1 s a reader may wait). */
export const LOG_FLUSH_MS = 200;

/** How much text gathers before it is handed to the stream as one chunk (one Buffer, one write(2)). */
const LOG_BATCH_CHARS = 4096;

/**
 * Where logs go by default: stdout through a buffer, written out synchronously (pino's SonicBoom, as pino's own
 * default destination writes) once 4 KB have gathered, not one write(2) per line, and at the latest LOG_FLUSH_MS
 * after the first line that is waiting: on a pipe (a container, systemd, a log shipper) a quiet server's lines
 * arrive within that, not when 4 KB have filled.
 * The timer is armed once per batch (a busy server pays one check per line) and never keeps the process alive. On
 * exit, whatever the reason (a signal handled by src/index.ts, a crash, a failed start, process.exit), the buffer is
 * written out synchronously.
 */
export function stdoutDestination(fd = 1): pino.DestinationStream & { flushSync(): void } {
  // Lines gather here as one string and reach SonicBoom a batch at a time, as a Buffer (its buffer mode). Given
  // each line as a string, SonicBoom measured the byte length of its whole pending buffer on every line (a string
  // grown by +=, flattened: up to 16 KB copied per line on a busy server); given each line as a Buffer, a
  // Buffer.from per line was 5% of a cheap request's CPU on Bun. Once per 4 KB, either is noise.
  // Synchronous: an asynchronous write goes through the runtime's thread pool and back to the event loop, and on Bun
  // with stdout a pipe read by another process that cost the service at info 25–30 µs per request on
  // GET /api/models (npm run bench: the same route at warn, three runs); written in place, 12–18 µs
  // (docs/performance.md). The price: a reader that stops reading stalls the writer, as with pino's default.
  const sonic = pino.destination({ dest: fd, sync: true, minLength: LOG_BATCH_CHARS, contentMode: "buffer" });
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const drain = () => {
    if (!pending) return;
    const chunk = pending;
    pending = "";
    sonic.write(Buffer.from(chunk) as unknown as string);
  };
  const flushLater = () => {
    timer = undefined;
    try {
      drain();
      sonic.flush();
    } catch {
      // Destroyed (the process is ending): the exit hook below wrote what it could.
    }
  };
  const flushSync = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    try {
      sonic.flushSync();
      // Written here, not handed to SonicBoom, which would start an asynchronous write the exit does not wait for.
      if (pending) writeSync(fd, pending);
      pending = "";
    } catch {
      // Nothing buffered, or the stream is closed already.
    }
  };
  process.once("exit", flushSync);
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= LOG_BATCH_CHARS) drain();
      else if (timer === undefined) {
        timer = setTimeout(flushLater, LOG_FLUSH_MS);
        timer.unref?.();
      }
    },
    flushSync,
  };
}

/** Structured JSON logs; pretty only when asked for in development. Secrets are redacted by path. */
export function createLogger(opts: { level: string; pretty?: boolean; destination?: pino.DestinationStream }): Logger {
  const pretty = opts.pretty && !opts.destination;
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { service: "logo-api" },
    serializers: { err: errSerializerCensored },
    formatters: { log: censorNested, bindings: censorNested },
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        'req.headers["x-api-key"]',
        'req.headers["set-cookie"]',
        "headers.authorization",
        "headers.cookie",
        'headers["x-api-key"]',
        "config.BETTER_AUTH_SECRET",
        "config.POLAR_ACCESS_TOKEN",
        "config.POLAR_WEBHOOK_SECRET",
        "config.EACHLABS_API_KEY",
        "config.METRICS_TOKEN",
        "config.DATABASE_URL",
      ],
      censor: CENSOR,
    },
    ...(pretty ? { transport: { target: "pino-pretty", options: { colorize: true } } } : {}),
  };
  const logger = pretty ? pino(options) : pino(options, opts.destination ?? stdoutDestination());
  // pino gives a child's bindings to no formatter: the nested secrets are censored here, for every descendant
  // (a child inherits its parent's `child`).
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, censorNested(bindings), childOptions);
  } as Logger["child"];
  return logger;
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

/** What the per-request line says (src/middleware/edge.ts); every value a string or a number, or left out. */
export interface RequestLine {
  requestId: string;
  clientAddress: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  userId?: string | undefined;
}

/**
 * The per-request line, written as `logger[level](line, "request")` writes it (the same bytes: the test in
 * test/server/logger.test.ts holds them to pino's), without pino's per-call work: its per-value serializer, the
 * formatters, and the diagnostics-channel trace around them, which made the line a third of a cheap request's
 * CPU on Bun. The line is only primitives this service chose, so nothing in it is a secret to censor: one
 * JSON.stringify of the fields, between the level, the time and the logger's bindings, as pino orders them.
 */
export function requestLineWriter(logger: Logger): (level: "info" | "error", line: RequestLine) => void {
  const symbols = pino.symbols;
  const internals = logger as unknown as Record<symbol, unknown>;
  const stream = internals[symbols.streamSym] as pino.DestinationStream;
  // `,"service":"logo-api"`: the base bindings, serialized once by pino.
  const bindings = internals[symbols.chindingsSym] as string;
  const values = logger.levels.values;
  return (level, line) => {
    if (!logger.isLevelEnabled(level)) return;
    const fields = JSON.stringify(line);
    stream.write(
      `{"level":${values[level]},"time":${Date.now()}${bindings}${fields.length > 2 ? `,${fields.slice(1, -1)}` : ""},"msg":"request"}\n`,
    );
  };
}
