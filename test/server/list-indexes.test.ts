import { afterAll, beforeAll, expect, test } from "bun:test";
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { creditAccount, creditTransaction, prediction, user } from "../../src/db/schema";
import { keysetOrder, keysetWhere } from "../../src/lib/pagination";
import { createTestApp, type TestApp } from "../helpers/app";

// Every list is keyset-paginated in (created_at desc, id desc) order. Each must be answered by walking an
// index in exactly that order (no Sort node), from the first page and from a cursor, or its cost grows
// with the user's history. Sequential and bitmap scans and sorts are priced out so the planner shows what
// the indexes allow on a small table; the bench notes in docs/performance.md show the plans for 100,000 rows.
let t: TestApp;
const userId = "00000000-0000-4000-8000-000000000001";
let cursor: { createdAt: Date; id: string };

beforeAll(async () => {
  t = await createTestApp();
  // A user with 500 succeeded predictions and ledger rows, so the planner has statistics to choose from.
  await t.db.execute(sql`insert into "user" (id, name, email, created_at, updated_at)
    values (${userId}, 'Indexes', 'indexes@example.com', now(), now())`);
  await t.db.execute(sql`insert into prediction (user_id, model, status, input, prompt, credits_charged, created_at)
    select ${userId}, 'model-' || (g % 3), 'succeeded', '{}'::jsonb, 'p', 1, now() - g * interval '1 second'
    from generate_series(1, 500) g`);
  await t.db.execute(sql`insert into credit_transaction (user_id, type, amount, balance_after, created_at)
    select ${userId}, 'admin_adjustment', 1, 501 - g, now() - g * interval '1 second' from generate_series(1, 500) g`);
  await t.db.insert(creditAccount).values({ userId, balance: 500, totalAdjusted: 500 });
  await t.db.execute(sql`analyze`);
  // A cursor in the middle of the history.
  const [middle] = await t.db
    .select({ createdAt: prediction.createdAt, id: prediction.id })
    .from(prediction)
    .orderBy(...keysetOrder(prediction.createdAt, prediction.id))
    .offset(250)
    .limit(1);
  if (!middle) throw new Error("no middle row");
  cursor = middle;
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
});

async function plan(query: SQL | { getSQL(): SQL }): Promise<string> {
  return t.db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_seqscan = off`);
    await tx.execute(sql`set local enable_bitmapscan = off`);
    // Sorting is priced out too: a plan that still has a Sort node has no index in the list's order.
    await tx.execute(sql`set local enable_sort = off`);
    const result = (await tx.execute(sql`explain (costs off) ${query}`)) as unknown as
      | { rows: Record<string, string>[] }
      | Record<string, string>[];
    const rows = Array.isArray(result) ? result : result.rows;
    return rows.map((r) => Object.values(r)[0]).join("\n");
  });
}

function expectIndexOrder(text: string, index: string) {
  expect(text).toContain(index);
  expect(text).not.toMatch(/\bSort\b/);
  expect(text).not.toContain("Seq Scan");
}

const ledgerPage = (withCursor: boolean) =>
  t.db
    .select()
    .from(creditTransaction)
    .where(
      and(
        eq(creditTransaction.userId, userId),
        keysetWhere(creditTransaction.createdAt, creditTransaction.id, withCursor ? cursor : undefined),
      ),
    )
    .orderBy(...keysetOrder(creditTransaction.createdAt, creditTransaction.id))
    .limit(21);

const predictionPage = (filter: SQL | undefined, withCursor: boolean) =>
  t.db
    .select()
    .from(prediction)
    .where(
      and(
        eq(prediction.userId, userId),
        keysetWhere(prediction.createdAt, prediction.id, withCursor ? cursor : undefined),
        filter,
      ),
    )
    .orderBy(...keysetOrder(prediction.createdAt, prediction.id))
    .limit(21);

test("GET /api/credits/transactions: the ledger index, in order, and the cursor is an index condition", async () => {
  expectIndexOrder(await plan(ledgerPage(false)), "credit_transaction_user_created_idx");
  const deep = await plan(ledgerPage(true));
  expectIndexOrder(deep, "credit_transaction_user_created_idx");
  expect(deep).toMatch(/Index Cond: .*ROW\(created_at, id\) < ROW\(/);
});

test("GET /api/generations and /api/predictions: per user, and per user with a status or a model", async () => {
  for (const withCursor of [false, true]) {
    expectIndexOrder(await plan(predictionPage(undefined, withCursor)), "prediction_user_created_idx");
    expectIndexOrder(
      await plan(predictionPage(eq(prediction.status, "failed"), withCursor)),
      "prediction_user_status_created_idx",
    );
    expectIndexOrder(
      await plan(predictionPage(eq(prediction.model, "some-model"), withCursor)),
      "prediction_user_model_created_idx",
    );
  }
});

test("GET /api/admin/users: the users index, in order", async () => {
  for (const withCursor of [false, true])
    expectIndexOrder(
      await plan(
        t.db
          .select({ id: user.id, balance: creditAccount.balance })
          .from(user)
          .leftJoin(creditAccount, eq(creditAccount.userId, user.id))
          .where(keysetWhere(user.createdAt, user.id, withCursor ? cursor : undefined))
          .orderBy(...keysetOrder(user.createdAt, user.id))
          .limit(21),
      ),
      "user_created_idx",
    );
});

test("GET /api/credits: one row by primary key", async () => {
  const text = await plan(
    t.db.select().from(creditAccount).where(eq(creditAccount.userId, userId)).orderBy(desc(creditAccount.userId)),
  );
  expect(text).toContain("credit_account_pkey");
});
