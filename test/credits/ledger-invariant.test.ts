import { expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { creditAccount } from "../../src/db/schema";
import { createTestApp } from "../helpers/app";

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
