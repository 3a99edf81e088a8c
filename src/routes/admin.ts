import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, count, eq, gte, ilike, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../db";
import { creditAccount, polarOrder, prediction, user } from "../db/schema";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody, jsonResponse, userSecurity } from "../lib/openapi";
import { type Cursor, decodeCursor, keysetOrder, keysetWhere, page } from "../lib/pagination";
import { currentUser, requireAdmin } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import {
  AdminCreditAdjustmentRequestSchema,
  AdminCreditAdjustmentSchema,
  AdminUserListQuerySchema,
  AdminUserListSchema,
  AdminUserSchema,
  AnalyticsQuerySchema,
  AnalyticsSchema,
} from "../schemas/admin";
import { adjustCreditsByAdmin, creditFlowTotals } from "../services/credits";
import type { AppEnv } from "../types";
import { toCreditTransaction } from "./credits";

const DAY_MS = 24 * 60 * 60 * 1000;

const adjustCredits = createRoute({
  method: "post",
  path: "/api/admin/credits",
  operationId: "adjustUserCredits",
  tags: ["Admin"],
  summary: "Add or remove a user's credits",
  description:
    "Writes an `admin_adjustment` ledger row carrying the reason and the administrator's id. A removal that would take the balance below zero is 409 `conflict` and changes nothing; an unknown user is 404. Administrators only.",
  security: userSecurity,
  middleware: [rateLimit("moderate"), requireAdmin] as const,
  request: { body: jsonBody(AdminCreditAdjustmentRequestSchema, "The user, the signed amount and why.") },
  responses: {
    201: jsonResponse(AdminCreditAdjustmentSchema, "The ledger row and the new balance.", { rateLimited: true }),
    ...errorResponses([400, 401, 403, 404, 409, 413], { rateLimited: true }),
  },
});

const listUsers = createRoute({
  method: "get",
  path: "/api/admin/users",
  operationId: "listUsers",
  tags: ["Admin"],
  summary: "List users",
  description:
    "Every account (guests included) with its role and balance, newest first, cursor-paginated; `search` matches a substring of the email or name. Administrators only.",
  security: userSecurity,
  middleware: [rateLimit("moderate"), requireAdmin] as const,
  request: { query: AdminUserListQuerySchema },
  responses: {
    200: jsonResponse(AdminUserListSchema, "A page of users.", { rateLimited: true }),
    ...errorResponses([400, 401, 403], { rateLimited: true }),
  },
});

const analytics = createRoute({
  method: "get",
  path: "/api/admin/analytics",
  operationId: "getAnalytics",
  tags: ["Admin"],
  summary: "Usage, credits and revenue",
  description:
    "Users (now, and new in the range), predictions created in the range by status and model, credit flows in the range and the credits outstanding now, and Polar revenue by currency for orders created in the range. The range is `from` (inclusive) to `to` (exclusive), by default the last 30 days. Administrators only.",
  security: userSecurity,
  middleware: [rateLimit("moderate"), requireAdmin] as const,
  request: { query: AnalyticsQuerySchema },
  responses: {
    200: jsonResponse(AnalyticsSchema, "The figures.", { rateLimited: true }),
    ...errorResponses([400, 401, 403], { rateLimited: true }),
  },
});

export function registerAdminRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(adjustCredits, async (c) => {
    const body = c.req.valid("json");
    const admin = currentUser(c);
    const { transaction, balance } = await adjustCreditsByAdmin(c.var.deps.db, {
      userId: body.userId,
      amount: body.amount,
      reason: body.reason,
      actorId: admin.id,
    });
    c.var.logger.info(
      { adminId: admin.id, userId: body.userId, amount: body.amount, transactionId: transaction.id },
      "admin credit adjustment",
    );
    return c.json(AdminCreditAdjustmentSchema.parse({ transaction: toCreditTransaction(transaction), balance }), 201);
  });

  app.openapi(listUsers, async (c) => {
    const { limit, cursor, search } = c.req.valid("query");
    const result = await listUsersWithBalance(c.var.deps.db, { limit, cursor: decodeCursor(cursor), search });
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        data: result.data.map((u) =>
          AdminUserSchema.parse({
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            isAnonymous: Boolean(u.isAnonymous),
            balance: Number(u.balance ?? 0),
            createdAt: u.createdAt.toISOString(),
          }),
        ),
        nextCursor: result.nextCursor,
      },
      200,
    );
  });

  app.openapi(analytics, async (c) => {
    const q = c.req.valid("query");
    const to = q.to ? new Date(q.to) : c.var.deps.clock();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
    if (from.getTime() >= to.getTime())
      throw new ApiError("validation_error", "`from` must be before `to`.", {
        issues: [{ path: "from", message: "Must be before `to`" }],
      });
    const body = await computeAnalytics(c.var.deps.db, { from, to });
    c.header("Cache-Control", "no-store");
    return c.json(AnalyticsSchema.parse(body), 200);
  });
}

async function listUsersWithBalance(db: Executor, opts: { limit: number; cursor?: Cursor; search?: string }) {
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

async function computeAnalytics(db: Executor, range: { from: Date; to: Date }) {
  const inRange = (col: typeof prediction.createdAt | typeof user.createdAt | typeof polarOrder.createdAt) =>
    and(gte(col, range.from), lt(col, range.to));
  const [users] = await db
    .select({
      total: count(),
      anonymous: sql<number>`count(*) filter (where ${user.isAnonymous})::int`,
      newInRange: sql<number>`count(*) filter (where ${user.createdAt} >= ${range.from.toISOString()} and ${user.createdAt} < ${range.to.toISOString()})::int`,
    })
    .from(user);
  const byStatusRows = await db
    .select({ status: prediction.status, n: count() })
    .from(prediction)
    .where(inRange(prediction.createdAt))
    .groupBy(prediction.status);
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
  const credits = await creditFlowTotals(db, range);

  const byStatus = { queued: 0, processing: 0, succeeded: 0, failed: 0, canceled: 0 };
  for (const r of byStatusRows) byStatus[r.status] = Number(r.n);
  const total = Number(users?.total ?? 0);
  const anonymous = Number(users?.anonymous ?? 0);
  return {
    range: { from: range.from.toISOString(), to: range.to.toISOString() },
    users: { total, anonymous, registered: total - anonymous, newInRange: Number(users?.newInRange ?? 0) },
    predictions: {
      total: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      byModel: byModelRows.map((r) => ({ model: r.model, count: Number(r.n) })),
    },
    credits,
    revenue: revenueRows.map((r) => ({
      currency: r.currency,
      orders: Number(r.orders),
      grossCents: Number(r.gross),
      refundedCents: Number(r.refunded),
      netCents: Number(r.gross) - Number(r.refunded),
    })),
  };
}
