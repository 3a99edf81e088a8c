/**
 * The contract's floor: a hand-written app that answers `GET /api/models`, `GET /api/credits`, the first page of
 * `GET /api/credits/transactions` and the polling read of a final prediction, `GET /api/predictions/{id}`, with what
 * the service answers (the same body, the same security, cache, request-id and RateLimit-* headers, the request line as
 * the service writes it, a metric per request, the caller's bearer token looked up in memory, a rate-limit count, the
 * service's own SQL (the credit summary; the ledger page; the prediction's view, its owner and mode checked as the
 * service checks them, the answer built by the service's own toPrediction) as named statements through one pg.Pool)
 * and nothing the design adds: no middleware chain, no route kit, no validator middleware, no Drizzle at run time, no
 * credential cache. What it costs against the bare servers is what the answers themselves cost; docs/performance.md
 * compares the service with it.
 *
 * `npm run bench` runs it beside the service (the floor-* targets) and checks first that it answers as the service
 * does.
 *
 *   DATABASE_URL=… PORT=3993 FLOOR_BEARER=<a session token> FLOOR_USER_ID=<its user id> LOG_LEVEL=info \
 *     FLOOR_RATE_LIMIT=<the service's per-minute limit> bun scripts/bench/floor.ts
 */
import { drizzle } from "drizzle-orm/node-postgres";
import { type Context, Hono } from "hono";
import pg from "pg";
import { MODELS } from "../../src/domain/models";
import { requestLineWriter } from "../../src/lib/logger";
import { page } from "../../src/lib/pagination";
import { SECURITY_HEADERS } from "../../src/middleware/edge";
import { toCreditTransaction } from "../../src/schemas/credits";
import { ModelSchema } from "../../src/schemas/models";
import { toPrediction } from "../../src/schemas/predictions";
import { setResponseValidation } from "../../src/schemas/respond";
import { creditSummaryQuery, creditTransactionPageQuery } from "../../src/services/credits";
import { predictionViewQuery } from "../../src/services/predictions/queries";
import { clientAddress, logger, serveBare } from "./serve";

const bearer = process.env.FLOOR_BEARER ?? "";
const userId = process.env.FLOOR_USER_ID ?? "";
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
});
// The SQL text src/services/credits.ts prepares (Drizzle builds it once here; it runs no query).
const summary = creditSummaryQuery(drizzle(pool)).toSQL().sql;
const ledgerQuery = creditTransactionPageQuery(drizzle(pool), false);
const ledgerSql = ledgerQuery.toSQL();
const ledgerParams = ledgerSql.params.map((p) => (p as { name: string }).name);
const ledgerFields = Object.keys(ledgerQuery._.selectedFields);
const viewQuery = predictionViewQuery(drizzle(pool));
const predictionView = viewQuery.toSQL().sql;
// The row's fields in the order the statement selects them (rowMode "array" answers in that order).
const viewFields = Object.keys(viewQuery._.selectedFields);
// Built, not parsed again, as in production (createApp sets the same from VALIDATE_RESPONSES).
setResponseValidation(process.env.VALIDATE_RESPONSES === "true");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const models = JSON.stringify({ data: MODELS.map((m) => ModelSchema.parse(m)) });
const sessions = new Map([[bearer, userId]]);
const requests = new Map<string, number>();
const hits = new Map<string, number>();
// The service's limit for the tier (the bench's RATE_LIMIT_*_PER_MIN), as its RateLimit-Limit says.
const LIMIT = Number(process.env.FLOOR_RATE_LIMIT ?? 100_000_000);
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

/** The caller by its bearer token, and its rate-limit count and headers; undefined when it is not signed in. */
function caller(c: Context): string | undefined {
  const auth = c.req.header("authorization");
  const id = auth?.startsWith("Bearer ") ? sessions.get(auth.slice(7)) : undefined;
  if (!id) return undefined;
  const count = (hits.get(id) ?? 0) + 1;
  hits.set(id, count);
  c.header("RateLimit-Limit", String(LIMIT));
  c.header("RateLimit-Remaining", String(LIMIT - count));
  c.header("RateLimit-Reset", "60");
  return id;
}

const unauthorized = (c: Context) => c.json({ error: { code: "unauthorized", message: "Sign in first." } }, 401);
const notFound = (c: Context) => c.json({ error: { code: "not_found", message: "Prediction not found." } }, 404);

app.get("/api/credits", async (c) => {
  const request = begin(c, "no-store");
  const id = caller(c);
  if (!id) return unauthorized(c);
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

// The first page of the caller's ledger (the service's statement; its limit 1–100, default 20).
app.get("/api/credits/transactions", async (c) => {
  const request = begin(c, "no-store");
  const id = caller(c);
  if (!id) return unauthorized(c);
  const limit = Number(c.req.query("limit") ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return c.json({ error: { code: "validation_error" } }, 400);
  const values: Record<string, unknown> = { userId: id, livemode: true, limit: limit + 1 };
  const { rows } = await pool.query({
    name: "credit_transactions_first",
    text: ledgerSql.sql,
    values: ledgerParams.map((name) => values[name]),
    rowMode: "array",
  });
  // The service's own page of the rows (the extra row read says whether there is a next page).
  const { data, nextCursor } = page(
    rows.map(
      (r) =>
        Object.fromEntries(ledgerFields.map((field, i) => [field, r[i]])) as Parameters<typeof toCreditTransaction>[0],
    ),
    limit,
  );
  const res = c.json({ data: data.map(toCreditTransaction), nextCursor });
  end(c, request, "/api/credits/transactions", id);
  return res;
});

// A final prediction, as the service answers it without `Prefer` (an active one would go to the provider).
app.get("/api/predictions/:id", async (c) => {
  const request = begin(c, "no-store");
  const id = caller(c);
  if (!id) return unauthorized(c);
  const predictionId = c.req.param("id");
  if (!UUID.test(predictionId)) return notFound(c);
  const { rows } = await pool.query({
    name: "prediction_view",
    text: predictionView,
    values: [predictionId],
    rowMode: "array",
  });
  const [first] = rows;
  const row = first ? Object.fromEntries(viewFields.map((field, i) => [field, first[i]])) : undefined;
  if (row?.livemode !== true) return notFound(c); // none, or of test mode: the live caller cannot see it
  if (row.userId !== id) return c.json({ error: { code: "forbidden", message: "Not yours." } }, 403);
  const res = c.json(toPrediction(row as Parameters<typeof toPrediction>[0]));
  end(c, request, "/api/predictions/{id}", id);
  return res;
});

await serveBare(app, () => pool.end());
