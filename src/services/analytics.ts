/**
 * Counts over the whole service: the admin analytics, the admin user list and the business gauges of
 * /metrics read the same aggregates from here.
 */
import { and, count, eq, gte, ilike, inArray, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../db";
import { creditAccount, creditTransaction, polarOrder, prediction, user } from "../db/schema";
import { type CreditTransactionType, JOB_REFUND_TYPES, SPENDING_TYPES } from "../domain/credits";
import { PREDICTION_STATUSES, type PredictionStatus } from "../domain/predictions";
import type { Clock } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { type Cursor, keysetOrder, keysetWhere, page } from "../lib/pagination";

export interface Range {
  /** inclusive */
  from: Date;
  /** exclusive */
  to: Date;
}

/** Accounts now, guests among them, and (with a range) those created in it. */
export async function userCounts(db: Executor, range?: Range) {
  const [row] = await db
    .select({
      total: count(),
      anonymous: sql<number>`count(*) filter (where coalesce(${user.isAnonymous}, false))::int`,
      newInRange: range
        ? sql<number>`count(*) filter (where ${user.createdAt} >= ${range.from.toISOString()} and ${user.createdAt} < ${range.to.toISOString()})::int`
        : sql<number>`0`,
    })
    .from(user);
  const total = Number(row?.total ?? 0);
  const anonymous = Number(row?.anonymous ?? 0);
  return { total, anonymous, registered: total - anonymous, newInRange: Number(row?.newInRange ?? 0) };
}

/** Predictions by status: all of them, or those created in the range. Every status is present. */
export async function predictionsByStatus(db: Executor, range?: Range): Promise<Record<PredictionStatus, number>> {
  const rows = await db
    .select({ status: prediction.status, n: count() })
    .from(prediction)
    .where(range ? and(gte(prediction.createdAt, range.from), lt(prediction.createdAt, range.to)) : undefined)
    .groupBy(prediction.status);
  const byStatus = Object.fromEntries(PREDICTION_STATUSES.map((s) => [s, 0])) as Record<PredictionStatus, number>;
  for (const r of rows) byStatus[r.status] = Number(r.n);
  return byStatus;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The analytics range asked for: `to` defaults to now, `from` to 30 days before `to`; `from` must come first. */
export function analyticsRange(q: { from?: string; to?: string }, now: Date): Range {
  const to = q.to ? new Date(q.to) : now;
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
  if (from.getTime() >= to.getTime())
    throw new ApiError("validation_error", "`from` must be before `to`.", {
      issues: [{ path: "from", message: "Must be before `to`" }],
    });
  return { from, to };
}

/** Users, predictions, credit flows and revenue for the admin analytics of a range. */
export async function computeAnalytics(db: Executor, range: Range) {
  const inRange = (col: typeof prediction.createdAt | typeof polarOrder.createdAt) =>
    and(gte(col, range.from), lt(col, range.to));
  const users = await userCounts(db, range);
  const byStatus = await predictionsByStatus(db, range);
  const byModelRows = await db
    .select({ model: prediction.model, n: count() })
    .from(prediction)
    .where(inRange(prediction.createdAt))
    .groupBy(prediction.model)
    .orderBy(sql`count(*) desc`, prediction.model)
    .limit(100);
  const revenueRows = await db
    .select({
      currency: polarOrder.currency,
      orders: count(),
      gross: sql<number>`coalesce(sum(${polarOrder.totalAmount}), 0)::bigint`,
      refunded: sql<number>`coalesce(sum(${polarOrder.refundedAmount}), 0)::bigint`,
    })
    .from(polarOrder)
    .where(inRange(polarOrder.createdAt))
    .groupBy(polarOrder.currency)
    .orderBy(polarOrder.currency)
    .limit(50);
  const flows = await creditFlowTotals(db, range);
  return {
    range: { from: range.from.toISOString(), to: range.to.toISOString() },
    users,
    predictions: {
      total: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      byModel: byModelRows.map((r) => ({ model: r.model, count: Number(r.n) })),
    },
    credits: { ...flows, outstanding: await creditsOutstanding(db) },
    revenue: revenueRows.map((r) => ({
      currency: r.currency,
      orders: Number(r.orders),
      grossCents: Number(r.gross),
      refundedCents: Number(r.refunded),
      netCents: Number(r.gross) - Number(r.refunded),
    })),
  };
}

/** Every account with its role and balance, newest first; `search` matches a substring of email or name. */
export async function listUsersWithBalance(db: Executor, opts: { limit: number; cursor?: Cursor; search?: string }) {
  const pattern = opts.search ? `%${opts.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%` : undefined;
  const rows = await db
    .select({
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      isAnonymous: user.isAnonymous,
      createdAt: user.createdAt,
      balance: creditAccount.balance,
    })
    .from(user)
    .leftJoin(creditAccount, eq(creditAccount.userId, user.id))
    .where(
      and(
        pattern ? or(ilike(user.email, pattern), ilike(user.name, pattern)) : undefined,
        keysetWhere(user.createdAt, user.id, opts.cursor),
      ),
    )
    .orderBy(...keysetOrder(user.createdAt, user.id))
    .limit(opts.limit + 1);
  return page(rows, opts.limit);
}

/** The business gauges of /metrics: predictions by status, accounts by kind, credits outstanding. */
export async function businessGauges(db: Executor) {
  return {
    predictionsByStatus: await predictionsByStatus(db),
    users: await userCounts(db),
    creditsOutstanding: await creditsOutstanding(db),
  };
}

export type BusinessGauges = Awaited<ReturnType<typeof businessGauges>>;

/** How long /metrics serves the same business gauges: a scrape interval is typically 15–60 s. */
export const BUSINESS_GAUGES_TTL_MS = 15_000;

const gaugeCaches = new WeakMap<
  object,
  { expiresAt: number; value?: BusinessGauges; pending?: Promise<BusinessGauges> }
>();

/**
 * The business gauges at most BUSINESS_GAUGES_TTL_MS old, per database handle: each scrape (and any number
 * of scrapers at once) costs at most one set of aggregates per TTL. Cached rather than kept current because
 * keeping them current would add a write to every sign-up, prediction and credit movement for a number
 * read a few times a minute. A failed computation is not cached.
 */
export async function cachedBusinessGauges(db: Executor, clock: Clock): Promise<BusinessGauges> {
  const now = clock.now().getTime();
  let entry = gaugeCaches.get(db);
  if (entry?.value && entry.expiresAt > now) return entry.value;
  if (entry?.pending) return entry.pending;
  entry ??= { expiresAt: 0 };
  gaugeCaches.set(db, entry);
  const e = entry;
  e.pending = businessGauges(db).then(
    (value) => {
      e.value = value;
      e.expiresAt = clock.now().getTime() + BUSINESS_GAUGES_TTL_MS;
      e.pending = undefined;
      return value;
    },
    (err: unknown) => {
      e.pending = undefined;
      throw err;
    },
  );
  return e.pending;
}

export type UserWithBalance = Awaited<ReturnType<typeof listUsersWithBalance>>["data"][number];

/** Ledger flows between `from` (inclusive) and `to` (exclusive). */
export async function creditFlowTotals(db: Executor, range: { from: Date; to: Date }) {
  const sumOf = (types: readonly CreditTransactionType[]) =>
    sql<number>`coalesce(sum(${creditTransaction.amount}) filter (where ${inArray(creditTransaction.type, [...types])}), 0)::int`;
  const [flows] = await db
    .select({
      purchased: sumOf(["purchase"]),
      purchaseRefunded: sumOf(["purchase_refund"]),
      spent: sumOf(SPENDING_TYPES),
      refunded: sumOf(JOB_REFUND_TYPES),
      adjusted: sumOf(["admin_adjustment"]),
      bonus: sumOf(["signup_bonus"]),
    })
    .from(creditTransaction)
    .where(and(gte(creditTransaction.createdAt, range.from), lt(creditTransaction.createdAt, range.to)));
  return {
    purchased: Number(flows?.purchased ?? 0),
    purchaseRefunded: -Number(flows?.purchaseRefunded ?? 0),
    spent: -Number(flows?.spent ?? 0),
    refunded: Number(flows?.refunded ?? 0),
    adjusted: Number(flows?.adjusted ?? 0),
    bonus: Number(flows?.bonus ?? 0),
  };
}

/** Credits held by all users now (the sum of every balance). */
export async function creditsOutstanding(db: Executor): Promise<number> {
  const [row] = await db
    .select({ total: sql<number>`coalesce(sum(${creditAccount.balance}), 0)::bigint` })
    .from(creditAccount);
  return Number(row?.total ?? 0);
}
