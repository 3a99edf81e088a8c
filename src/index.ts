import { loadConfigOrExit } from "./env";
import { createLogger, flushLogsSync } from "./lib/logger";
import { startServer } from "./server";

const config = loadConfigOrExit();

const logger = createLogger({
  level: config.LOG_LEVEL,
  pretty: config.NODE_ENV === "development" && process.stdout.isTTY,
});
// A crash is logged as one fatal line (written out before the exit, like every buffered line) instead of being
// printed by the runtime beside the JSON logs.
for (const event of ["uncaughtException", "unhandledRejection"] as const)
  process.once(event, (err: unknown) => {
    logger.fatal(
      { err },
      event === "uncaughtException" ? "crashed: uncaught exception" : "crashed: unhandled rejection",
    );
    flushLogsSync(logger);
    process.exit(1);
  });

const server = await startServer(config, logger).catch((err: unknown) => {
  logger.fatal({ err }, "failed to start");
  flushLogsSync(logger);
  process.exit(1);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "shutting down");
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        flushLogsSync(logger);
        process.exit(1);
      },
    );
  });
}
