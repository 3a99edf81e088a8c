/**
 * `npm run db:migrate`: applies pending Drizzle migrations to DATABASE_URL (PostgreSQL) or, without
 * it, to the embedded PGlite database in PGLITE_DIR. Multi-instance deploys run this once and start
 * the servers with MIGRATE_ON_START=false.
 */

import { openDatabase } from "../src/deps";
import { loadConfigOrExit } from "../src/env";

const config = loadConfigOrExit();

const database = await openDatabase(config);
const where = database.kind === "postgres" ? "PostgreSQL (DATABASE_URL)" : `PGlite in ${config.PGLITE_DIR}`;
try {
  const started = performance.now();
  await database.migrate();
  console.log(`migrations applied to ${where} in ${Math.round(performance.now() - started)} ms`);
} catch (err) {
  // The driver's message names the failing statement, never the connection string.
  console.error(`migration failed on ${where}: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
