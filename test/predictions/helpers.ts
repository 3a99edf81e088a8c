import { and, eq } from "drizzle-orm";
import { creditAccount, creditTransaction, prediction } from "../../src/db/schema";
import type { TestApp } from "../helpers/app";

/** Ledger rows of one prediction, as [type, amount] pairs in order. */
export async function ledgerOf(t: TestApp, predictionId: string) {
  const rows = await t.db
    .select()
    .from(creditTransaction)
    .where(eq(creditTransaction.predictionId, predictionId))
    .orderBy(creditTransaction.createdAt);
  return rows.map((r) => [r.type, r.amount] as const);
}

/** The live balance (livemode false: the test balance). */
export async function balanceOf(t: TestApp, userId: string, livemode = true) {
  const [row] = await t.db
    .select()
    .from(creditAccount)
    .where(and(eq(creditAccount.userId, userId), eq(creditAccount.livemode, livemode)));
  return row?.balance ?? 0;
}

export async function refundRows(t: TestApp, predictionId: string) {
  return t.db
    .select()
    .from(creditTransaction)
    .where(and(eq(creditTransaction.predictionId, predictionId), eq(creditTransaction.type, "refund")));
}

export async function rowOf(t: TestApp, id: string) {
  const [row] = await t.db.select().from(prediction).where(eq(prediction.id, id));
  if (!row) throw new Error(`no prediction ${id}`);
  return row;
}

/** Lets the next poll call the provider at once (as if the last sync were long ago). */
export async function allowSyncNow(t: TestApp, id: string) {
  await t.db.update(prediction).set({ lastSyncedAt: null }).where(eq(prediction.id, id));
}

export const body = (over: Record<string, unknown> = {}) => ({
  brandName: "Acme",
  description: "coffee roastery",
  style: "minimal",
  colors: ["#1F2937", "#F59E0B"],
  ...over,
});
