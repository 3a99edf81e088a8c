import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { MIGRATIONS_FOLDER } from "../../src/db";
import { creditAccount } from "../../src/db/schema";
import { CreditBalanceSchema } from "../../src/schemas/credits";
import { createTestApp } from "../helpers/app";
import { expectSchema } from "../helpers/schemas";

// The harness checks balance = sum(ledger) whenever a test app closes; this shows the check can fail.
test("closing a test app whose balances disagree with the ledger fails loudly", async () => {
  const t = await createTestApp();
  const s = await t.signUp();
  expect(await t.ledgerViolations()).toEqual([]);
  // Bypass the ledger service on purpose: a balance change with no ledger row.
  await t.db
    .update(creditAccount)
    .set({ balance: sql`${creditAccount.balance} + 5` })
    .where(eq(creditAccount.userId, s.userId));
  const violations = await t.ledgerViolations();
  expect(violations.map((v) => v.user_id)).toEqual([s.userId]);
  await expect(t.close()).rejects.toThrow("ledger invariant broken");
});

test("the database refuses a negative balance outright", async () => {
  const t = await createTestApp();
  const s = await t.signUp();
  const outcome = await t.db
    .update(creditAccount)
    .set({ balance: -1 })
    .where(eq(creditAccount.userId, s.userId))
    .then(
      () => "updated",
      (err: unknown) => String((err as { cause?: unknown }).cause ?? err),
    );
  expect(outcome).toContain("credit_account_balance_non_negative");
  await t.close();
});

test("a lifetime total that drifts from its ledger sum is a violation too", async () => {
  const t = await createTestApp();
  const s = await t.signUp();
  await t.db
    .update(creditAccount)
    .set({ totalSpent: sql`${creditAccount.totalSpent} + 1` })
    .where(eq(creditAccount.userId, s.userId));
  const violations = await t.ledgerViolations();
  expect(violations.map((v) => [v.user_id, v.totals, v.ledger_totals])).toEqual([
    [s.userId, [0, 1, 0, 0], [0, 0, 0, 0]],
  ]);
  await expect(t.close()).rejects.toThrow("ledger invariant broken");
});

// drizzle/0006_backfill-credit-account-totals.sql is hand-written: run it on accounts whose counters are lost
// (and one account that is missing altogether) and check it rebuilds exactly what the ledger says.
test("the back-fill migration rebuilds every total (and a missing account) from the ledger", async () => {
  const t = await createTestApp({ env: { ADMIN_EMAILS: "root@example.com" } });
  const admin = await t.signUp({ email: "root@example.com" });
  const users = [await t.signUp(), await t.signUp(), await t.signUp()];
  const amounts = [7, -2, 5];
  for (const [i, u] of users.entries())
    for (const amount of amounts.slice(0, i + 1)) {
      const res = await t.json("POST", "/api/admin/credits", {
        body: { userId: u.userId, amount, reason: "test" },
        headers: admin.headers,
      });
      expect(res.status).toBe(201);
    }
  const before = await Promise.all(users.map((u) => t.json("GET", "/api/credits", { headers: u.headers })));
  await t.db.update(creditAccount).set({ totalPurchased: 0, totalSpent: 0, totalRefunded: 0, totalAdjusted: 0 });
  // An account row missing for a user that has ledger rows.
  const missing = users[2]?.userId ?? "";
  await t.db.delete(creditAccount).where(eq(creditAccount.userId, missing));
  expect((await t.ledgerViolations()).length).toBeGreaterThan(0);
  // Written when an account was one row per user; since test mode it is one per (user, mode). Every row here is
  // live, the column's default, so the same statement keyed on the new primary key is the same back-fill.
  const backfill = readFileSync(join(MIGRATIONS_FOLDER, "0006_backfill-credit-account-totals.sql"), "utf8").replace(
    'ON CONFLICT ("user_id")',
    'ON CONFLICT ("user_id", "livemode")',
  );
  expect(backfill).toContain('ON CONFLICT ("user_id", "livemode")');
  await t.db.execute(sql.raw(backfill));
  expect(await t.ledgerViolations()).toEqual([]);
  const after = await Promise.all(users.map((u) => t.json("GET", "/api/credits", { headers: u.headers })));
  expect(after.map((r) => expectSchema(CreditBalanceSchema, r.body))).toEqual(before.map((r) => r.body));
  expect(after.map((r) => (r.body as { totalAdjusted: number }).totalAdjusted)).toEqual([7, 5, 10]);
  await t.close();
});
