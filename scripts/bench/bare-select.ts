/**
 * The bare limit with a database: Hono plus one prepared SELECT by primary key through the service's
 * driver and pool size (pg.Pool, DATABASE_POOL_MAX default 10), or PGlite when PGLITE_DIR is given.
 * BENCH_SELECT_USER_ID is the credit account read on every request.
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { bareApp, serveBare } from "./serve";

const userId = process.env.BENCH_SELECT_USER_ID ?? "";
const text = "select user_id, balance, updated_at from credit_account where user_id = $1";

let query: (id: string) => Promise<unknown[]>;
let close: () => Promise<void>;
if (process.env.DATABASE_URL) {
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  });
  // A named query is parsed once per connection and then only bound and executed.
  query = async (id) => (await pool.query({ name: "bench_account_by_id", text, values: [id] })).rows;
  close = () => pool.end();
} else {
  const db = await PGlite.create(process.env.PGLITE_DIR);
  query = async (id) => (await db.query(text, [id])).rows;
  close = () => db.close();
}

const app = bareApp();
app.get("/", async (c) => {
  const [row] = await query(userId);
  return row ? c.json(row) : c.json({ error: "not found" }, 404);
});

await serveBare(app, close);
