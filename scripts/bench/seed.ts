import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

/**
 * The bench's data. Users, API keys, credits and a few predictions are made over HTTP, through the
 * service's own paths; the long history (100,000 ledger rows and predictions) is written with SQL,
 * while the service is stopped (PGlite has one process).
 */

export const ORIGIN = "http://localhost:3000";

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  close(): Promise<void>;
}

export async function openSql(target: { url: string } | { pgliteDir: string }): Promise<Sql> {
  if ("url" in target) {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    return {
      query: async <T>(text: string, params?: unknown[]) => ({ rows: (await client.query(text, params)).rows as T[] }),
      close: () => client.end(),
    };
  }
  const db = await PGlite.create(target.pgliteDir);
  return {
    query: async <T>(text: string, params?: unknown[]) => ({ rows: (await db.query<T>(text, params)).rows }),
    close: () => db.close(),
  };
}

async function call(base: string, path: string, init: RequestInit & { expect?: number }): Promise<Response> {
  const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
  if (res.status !== (init.expect ?? 200))
    throw new Error(`bench: ${init.method ?? "GET"} ${path} answered ${res.status}: ${await res.text()}`);
  return res;
}

export interface BenchUser {
  id: string;
  email: string;
  token: string;
}

export async function signUp(base: string, email: string): Promise<BenchUser> {
  const res = await call(base, "/api/auth/sign-up/email", {
    method: "POST",
    headers: { origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify({ email, password: "bench-password-1", name: "Bench" }),
  });
  const token = res.headers.get("set-auth-token");
  const body = (await res.json()) as { user?: { id?: string } };
  if (!token || !body.user?.id) throw new Error(`bench: sign-up of ${email} returned no token or user id`);
  return { id: body.user.id, email, token };
}

export const bearer = (u: BenchUser) => ({ authorization: `Bearer ${u.token}` });

export async function createApiKey(base: string, u: BenchUser): Promise<string> {
  const res = await call(base, "/api/auth/api-key/create", {
    method: "POST",
    headers: { ...bearer(u), origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify({ name: "bench" }),
  });
  const { key } = (await res.json()) as { key?: string };
  if (!key) throw new Error("bench: api-key/create returned no key");
  return key;
}

export async function grantCredits(base: string, admin: BenchUser, userId: string, amount: number): Promise<void> {
  await call(base, "/api/admin/credits", {
    method: "POST",
    headers: { ...bearer(admin), "content-type": "application/json" },
    body: JSON.stringify({ userId, amount, reason: "bench" }),
    expect: 201,
  });
}

/** Creates a sandbox prediction and waits until it is final; returns its id and status. */
export async function finalPrediction(base: string, u: BenchUser, brandName: string) {
  const created = await call(base, "/api/predictions", {
    method: "POST",
    headers: { ...bearer(u), "content-type": "application/json" },
    body: JSON.stringify({ brandName }),
    expect: 201,
  });
  const { id } = (await created.json()) as { id: string };
  for (let i = 0; i < 5; i++) {
    const res = await call(base, `/api/predictions/${id}`, { headers: { ...bearer(u), prefer: "wait=10" } });
    const { status } = (await res.json()) as { status: string };
    if (["succeeded", "failed", "canceled"].includes(status)) return { id, status };
  }
  throw new Error(`bench: prediction ${id} did not become final`);
}

/**
 * Gives `userId` a history of `rows` succeeded predictions, each with its generation charge, after
 * one admin grant that pays for them, all older than the user's existing rows; then the balance is
 * set to the ledger's sum and the account's totals to theirs. Timestamps are whole milliseconds, as the
 * service writes them, so keyset cursors compare exactly. The prediction rows copy the input, prompt and output of `templateId`.
 */
export async function seedHistory(sql: Sql, userId: string, templateId: string, rows: number): Promise<void> {
  await sql.query("begin");
  try {
    await sql.query(
      `insert into credit_transaction (user_id, type, amount, balance_after, reason, created_at)
       values ($1, 'admin_adjustment', $2, $2, 'bench history', date_trunc('milliseconds', now() - interval '2 days'))`,
      [userId, rows],
    );
    await sql.query(
      `insert into prediction (user_id, model, status, input, prompt, output, credits_charged,
                               created_at, started_at, completed_at, last_synced_at, updated_at)
       select $1, t.model, 'succeeded', t.input, t.prompt, t.output, 1, s.at, s.at, s.at, s.at, s.at
       from (select model, input, prompt, output from prediction where id = $2) t,
            (select date_trunc('milliseconds', now() - interval '2 days') + g * interval '1 millisecond' as at
             from generate_series(1, $3::int) g) s`,
      [userId, templateId, rows],
    );
    await sql.query(
      `insert into credit_transaction (user_id, type, amount, balance_after, prediction_id, created_at)
       select user_id, 'generation', -1, $2 - row_number() over (order by created_at, id), id, created_at
       from prediction where user_id = $1 and created_at < now() - interval '1 day'`,
      [userId, rows],
    );
    // The balance and the lifetime totals, each the sum over the ledger that src/services/credits.ts
    // CREDIT_TOTALS defines (the same as drizzle/0006_backfill-credit-account-totals.sql).
    await sql.query(
      `update credit_account a set balance = l.balance, total_purchased = l.purchased, total_spent = l.spent,
              total_refunded = l.refunded, total_adjusted = l.adjusted, updated_at = now()
       from (select sum(amount)::int as balance,
                    coalesce(sum(amount) filter (where type in ('purchase', 'purchase_refund')), 0)::int as purchased,
                    coalesce(-sum(amount) filter (where type = 'generation'), 0)::int as spent,
                    coalesce(sum(amount) filter (where type = 'refund'), 0)::int as refunded,
                    coalesce(sum(amount) filter (where type = 'admin_adjustment'), 0)::int as adjusted
             from credit_transaction where user_id = $1) l
       where a.user_id = $1`,
      [userId],
    );
    await sql.query("commit");
  } catch (err) {
    await sql.query("rollback");
    throw err;
  }
  await sql.query("analyze");
}

/** Columns of credit_account that seedHistory does not maintain (for example totals kept as counters). */
export async function unmaintainedAccountColumns(sql: Sql): Promise<string[]> {
  const { rows } = await sql.query<{ column_name: string }>(
    `select column_name from information_schema.columns
     where table_name = 'credit_account' and column_name not in
       ('user_id', 'balance', 'total_purchased', 'total_spent', 'total_refunded', 'total_adjusted', 'updated_at')`,
  );
  return rows.map((r) => r.column_name);
}

export async function historySize(sql: Sql, userId: string) {
  const { rows } = await sql.query<{ ledger: number; predictions: number }>(
    `select (select count(*)::int from credit_transaction where user_id = $1) as ledger,
            (select count(*)::int from prediction where user_id = $1) as predictions`,
    [userId],
  );
  return rows[0] ?? { ledger: 0, predictions: 0 };
}

export interface MoneyCheck {
  balance: number;
  ledgerSum: number;
  charges: number;
  predictions: number;
  /** Accounts, over the whole database, whose balance differs from their ledger's sum or is negative. */
  inconsistentAccounts: number;
  ok: boolean;
}

/** No overspend: balance = sum of the ledger ≥ 0, one charge per prediction, for these users and every account. */
export async function checkMoney(sql: Sql, userIds: string[]): Promise<MoneyCheck> {
  const { rows } = await sql.query<Omit<MoneyCheck, "ok">>(
    `select (select coalesce(sum(balance), 0)::int from credit_account where user_id = any($1::uuid[])) as balance,
            (select coalesce(sum(amount), 0)::int from credit_transaction where user_id = any($1::uuid[])) as "ledgerSum",
            (select count(*)::int from credit_transaction where user_id = any($1::uuid[]) and type = 'generation') as charges,
            (select count(*)::int from prediction where user_id = any($1::uuid[])) as predictions,
            (select count(*)::int from credit_account a
             where a.balance < 0 or a.balance <> (select coalesce(sum(t.amount), 0) from credit_transaction t
                                                   where t.user_id = a.user_id)) as "inconsistentAccounts"`,
    [userIds],
  );
  const r = rows[0];
  if (!r) throw new Error("bench: money check returned nothing");
  return {
    ...r,
    ok: r.balance === r.ledgerSum && r.balance >= 0 && r.charges === r.predictions && r.inconsistentAccounts === 0,
  };
}

export async function databaseVersion(sql: Sql): Promise<string> {
  const { rows } = await sql.query<{ v: string }>("select version() as v");
  return rows[0]?.v ?? "unknown";
}
