import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { decodeCursor } from "../lib/pagination";
import { requestLogger } from "../lib/request-logger";
import { defineRoute } from "../openapi/kit";
import { jsonBody, jsonResponse } from "../openapi/responses";
import {
  AdminCreditAdjustmentRequestSchema,
  AdminCreditAdjustmentSchema,
  AdminUserListQuerySchema,
  AdminUserListSchema,
  AnalyticsQuerySchema,
  AnalyticsSchema,
  toAdminUser,
} from "../schemas/admin";
import { toCreditTransaction } from "../schemas/credits";
import { respond } from "../schemas/respond";
import { analyticsRange, computeAnalytics, listUsersWithBalance } from "../services/analytics";
import { adjustCreditsByAdmin } from "../services/credits";

const adjustCredits = defineRoute({
  method: "post",
  path: "/api/admin/credits",
  operationId: "adjustUserCredits",
  tags: ["Admin"],
  summary: "Add or remove a user's credits",
  description:
    "Writes an `admin_adjustment` ledger row carrying the reason and the administrator's id. A removal that would take the balance below zero is 409 `conflict` and changes nothing; an unknown user is 404. Administrators only.",
  access: "admin",
  rateLimit: "moderate",
  request: { body: jsonBody(AdminCreditAdjustmentRequestSchema, "The user, the signed amount and why.") },
  responses: { 201: jsonResponse(AdminCreditAdjustmentSchema, "The ledger row and the new balance.") },
  errors: [400, 404, 409, 413],
});

const listUsers = defineRoute({
  method: "get",
  path: "/api/admin/users",
  operationId: "listUsers",
  tags: ["Admin"],
  summary: "List users",
  description:
    "Every account (guests included) with its role and balance, newest first, cursor-paginated; `search` matches a substring of the email or name. Administrators only.",
  access: "admin",
  rateLimit: "moderate",
  request: { query: AdminUserListQuerySchema },
  responses: { 200: jsonResponse(AdminUserListSchema, "A page of users.") },
  errors: [400],
});

const analytics = defineRoute({
  method: "get",
  path: "/api/admin/analytics",
  operationId: "getAnalytics",
  tags: ["Admin"],
  summary: "Usage, credits and revenue",
  description:
    "Users (now, and new in the range), predictions created in the range by status and model, credit flows in the range and the credits outstanding now, and Polar revenue by currency for orders created in the range. The range is `from` (inclusive) to `to` (exclusive), by default the last 30 days. Predictions and credits count live mode only unless `livemode=false` asks for test mode's. Administrators only.",
  access: "admin",
  rateLimit: "moderate",
  request: { query: AnalyticsQuerySchema },
  responses: { 200: jsonResponse(AnalyticsSchema, "The figures.") },
  errors: [400],
});

export function registerAdminRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(adjustCredits, async (c) => {
    const body = c.req.valid("json");
    const admin = currentUser(c);
    const { transaction, balance } = await adjustCreditsByAdmin(c.env.deps.db, {
      userId: body.userId,
      amount: body.amount,
      reason: body.reason,
      actorId: admin.id,
    });
    requestLogger(c).info(
      { adminId: admin.id, userId: body.userId, amount: body.amount, transactionId: transaction.id },
      "admin credit adjustment",
    );
    return c.json(
      respond(AdminCreditAdjustmentSchema, { transaction: toCreditTransaction(transaction), balance }),
      201,
    );
  });

  app.openapi(listUsers, async (c) => {
    const { limit, cursor, search } = c.req.valid("query");
    const result = await listUsersWithBalance(c.env.deps.db, { limit, cursor: decodeCursor(cursor), search });
    return c.json({ data: result.data.map(toAdminUser), nextCursor: result.nextCursor }, 200);
  });

  app.openapi(analytics, async (c) => {
    const q = c.req.valid("query");
    const range = analyticsRange(q, c.env.deps.clock.now());
    const body = await computeAnalytics(c.env.deps.db, range, q.livemode !== "false");
    return c.json(respond(AnalyticsSchema, body), 200);
  });
}
