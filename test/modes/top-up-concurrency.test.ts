import { afterAll, beforeAll, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { creditTransaction } from "../../src/db/schema";
import { CreditBalanceSchema } from "../../src/schemas/credits";
import { createTestApp, type TestApp } from "../helpers/app";
import { testDatabaseUrl } from "../helpers/db";
import { expectSchema } from "../helpers/schemas";
import { balanceOf, body } from "../predictions/helpers";

/**
 * Concurrent test top-ups (meaningful on PostgreSQL, where they really run at once: TEST_DATABASE_URL): however
 * many arrive together, the test balance ends at TEST_CREDITS with one ledger row between them, and the live
 * balance never moves.
 */

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SIGNUP_CREDITS: "3", TEST_CREDITS: "50", SANDBOX_DELAY_MS: "0" } });
});
afterAll(() => t.close());

test(`30 top-ups at once end at TEST_CREDITS with one row (${testDatabaseUrl() ? "PostgreSQL" : "PGlite"})`, async () => {
  const s = await t.signUp();
  const created = await t.json("POST", "/api/auth/api-key/create", {
    headers: s.headers,
    body: { name: "ci", metadata: { mode: "test" } },
  });
  const headers = { "x-api-key": (created.body as { key: string }).key };
  const topUps = () =>
    Promise.all(Array.from({ length: 30 }, () => t.json("POST", "/api/credits/test-top-up", { headers })));
  const topUpRows = () =>
    t.db
      .select({ amount: creditTransaction.amount })
      .from(creditTransaction)
      .where(and(eq(creditTransaction.userId, s.userId), eq(creditTransaction.type, "test_top_up")));

  for (const res of await topUps()) {
    expect(res.status).toBe(200);
    expect(expectSchema(CreditBalanceSchema, res.body)).toMatchObject({ balance: 50, livemode: false });
  }
  expect((await topUpRows()).map((r) => r.amount)).toEqual([50]);

  // Spend some, then top up again from many requests at once, while predictions are charged.
  const spend = await t.json("POST", "/api/predictions", { headers, body: body({ numOutputs: 2 }) });
  expect(spend.status).toBe(201);
  const [answers] = await Promise.all([topUps(), t.json("POST", "/api/predictions", { headers, body: body() })]);
  for (const res of answers) expect(res.status).toBe(200);
  const after = await balanceOf(t, s.userId, false);
  // The top-ups brought it to 50; the last prediction was charged before or after them.
  expect([49, 50]).toContain(after);
  const amounts = (await topUpRows()).map((r) => r.amount).sort();
  expect(amounts.reduce((a, b) => a + b, 0) - 3).toBe(after);
  expect(await balanceOf(t, s.userId)).toBe(3);
  expect(await t.ledgerViolations()).toEqual([]);
});
