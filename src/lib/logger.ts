import pino from "pino";

export type Logger = pino.Logger;

/** Structured JSON logs; pretty only when asked for in development. Secrets are redacted by path. */
export function createLogger(opts: { level: string; pretty?: boolean }): Logger {
  return pino({
    level: opts.level,
    base: { service: "logo-api" },
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
    ...(opts.pretty ? { transport: { target: "pino-pretty", options: { colorize: true } } } : {}),
  });
}
