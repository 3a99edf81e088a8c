/**
 * The contract's floor: a hand-written app that answers `GET /api/models` and `GET /api/credits` with what the
 * service answers (the same body, the same security, cache, request-id and RateLimit-* headers, the request line
 * as the service writes it, a metric per request, the caller's bearer token looked up in memory, a rate-limit
 * count, the service's own credit-summary SQL as a named statement through one pg.Pool) and nothing the design
 * adds: no middleware chain, no route kit, no Drizzle at run time, no credential cache. What it costs against the
 * bare servers is what the answers themselves cost; docs/performance.md compares the service with it.
 *
 *   DATABASE_URL=… PORT=3993 FLOOR_BEARER=<a session token> FLOOR_USER_ID=<its user id> LOG_LEVEL=info \
 *     bun scripts/bench/floor.ts
 */
import { drizzle } from "drizzle-orm/node-postgres";
import { type Context, Hono } from "hono";
import pg from "pg";
import { MODELS } from "../../src/domain/models";
import { requestLineWriter } from "../../src/lib/logger";
import { SECURITY_HEADERS } from "../../src/middleware/edge";
import { ModelSchema } from "../../src/schemas/models";
import { creditSummaryQuery } from "../../src/services/credits";
import { clientAddress, logger, serveBare } from "./serve";

const bearer = process.env.FLOOR_BEARER ?? "";
const userId = process.env.FLOOR_USER_ID ?? "";
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
});
// The SQL text src/services/credits.ts prepares (Drizzle builds it once here; it runs no query).
const summary = creditSummaryQuery(drizzle(pool)).toSQL().sql;

const models = JSON.stringify({ data: MODELS.map((m) => ModelSchema.parse(m)) });
const sessions = new Map([[bearer, userId]]);
const requests = new Map<string, number>();
const hits = new Map<string, number>();
const LIMIT = 100_000_000;
// Not bareApp(): its line has no user; the floor writes the service's line itself when info is on.
const writeRequestLine = requestLineWriter(logger);
const app = new Hono();

function begin(c: Context, cacheControl: string): { started: number; requestId: string } {
  const started = performance.now();
  const requestId = crypto.randomUUID();
  // The service's own list (src/middleware/edge.ts), and the Vary it adds to every answer.
  for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
  c.header("Vary", "Origin");
  c.header("X-Request-Id", requestId);
  c.header("Cache-Control", cacheControl);
  return { started, requestId };
}

function end(c: Context, { started, requestId }: { started: number; requestId: string }, route: string, id?: string) {
  requests.set(route, (requests.get(route) ?? 0) + 1);
  if (logger.isLevelEnabled("info"))
    writeRequestLine("info", {
      requestId,
      clientAddress: clientAddress(c),
      method: c.req.method,
      path: c.req.path,
      status: 200,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      userId: id,
    });
}

app.get("/api/models", (c) => {
  const request = begin(c, "public, max-age=300");
  c.header("Content-Type", "application/json");
  const res = c.body(models);
  end(c, request, "/api/models");
  return res;
});

app.get("/api/credits", async (c) => {
  const request = begin(c, "no-store");
  const auth = c.req.header("authorization");
  const id = auth?.startsWith("Bearer ") ? sessions.get(auth.slice(7)) : undefined;
  if (!id) return c.json({ error: { code: "unauthorized", message: "Sign in first." } }, 401);
  const count = (hits.get(id) ?? 0) + 1;
  hits.set(id, count);
  c.header("RateLimit-Limit", String(LIMIT));
  c.header("RateLimit-Remaining", String(LIMIT - count));
  c.header("RateLimit-Reset", "60");
  const { rows } = await pool.query({ name: "credit_summary", text: summary, values: [true, id], rowMode: "array" });
  const [balance, totalPurchased, totalSpent, totalRefunded, totalAdjusted, granted, withheld] = rows[0] ?? [];
  const res = c.json({
    balance: balance ?? 0,
    totalPurchased: totalPurchased ?? 0,
    totalSpent: totalSpent ?? 0,
    totalRefunded: totalRefunded ?? 0,
    totalAdjusted: totalAdjusted ?? 0,
    welcome: { granted: granted ?? 0, withheld: withheld ?? null },
    livemode: true,
  });
  end(c, request, "/api/credits", id);
  return res;
});

await serveBare(app, () => pool.end());
