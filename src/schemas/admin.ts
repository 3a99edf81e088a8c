import { z } from "@hono/zod-openapi";
import { NO_NUL } from "../domain/patterns";
import { PREDICTION_STATUSES } from "../domain/predictions";
import { isStorableDate } from "../lib/validation";
import { NextCursorSchema, PaginationQuerySchema, TimestampSchema } from "./common";
import { CreditTransactionSchema } from "./credits";
import { respond } from "./respond";

const Timestamp = TimestampSchema.openapi({ maxLength: 40 });

const count = (description: string, example: number) =>
  z.int().min(0).max(2_147_483_647).openapi({ description, example });

export const AdminCreditAdjustmentRequestSchema = z
  .strictObject({
    userId: z.uuid().max(36).openapi({ example: "3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34" }),
    amount: z
      .int()
      .min(-1_000_000)
      .max(1_000_000)
      .refine((n) => n !== 0, "amount must not be 0")
      .openapi({ description: "Credits to add (positive) or remove (negative); never 0.", example: 10 }),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .regex(NO_NUL, "must not contain NUL characters")
      .openapi({ description: "Why; stored on the ledger row.", example: "Compensation for a failed batch" }),
  })
  .openapi("AdminCreditAdjustmentRequest");

export const AdminCreditAdjustmentSchema = z
  .object({
    transaction: CreditTransactionSchema,
    balance: count("The user's balance after the adjustment.", 13),
  })
  .openapi("AdminCreditAdjustment");

export const AdminUserSchema = z
  .object({
    id: z.uuid().max(36),
    email: z.string().max(320).openapi({ format: "email", example: "ada@example.com" }),
    name: z.string().max(500).regex(NO_NUL).openapi({ example: "Ada" }),
    role: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9_, -]*$/)
      .nullable()
      .openapi({ description: "Better Auth role(s), e.g. `user` or `admin`.", example: "user" }),
    isAnonymous: z.boolean().openapi({ description: "A guest account (anonymous sign-in).", example: false }),
    balance: count("Current credit balance.", 3),
    createdAt: Timestamp,
  })
  .openapi("AdminUser");

export const AdminUserListSchema = z
  .object({ data: z.array(AdminUserSchema).max(100), nextCursor: NextCursorSchema })
  .openapi("AdminUserList");

export const AdminUserListQuerySchema = PaginationQuerySchema.extend({
  search: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(NO_NUL, "must not contain NUL characters")
    .optional()
    .openapi({
      param: { name: "search", in: "query" },
      description: "Case-insensitive substring of the email or the name.",
      example: "ada",
    }),
});

/** An ISO date-time PostgreSQL can hold (years 1970–9999, checked after the offset is applied). */
const RangeBound = z.iso
  .datetime({ offset: true })
  .max(40)
  .refine((s) => isStorableDate(new Date(s)), "Must be between the years 1970 and 9999");

export const AnalyticsQuerySchema = z.object({
  from: RangeBound.optional().openapi({
    param: { name: "from", in: "query" },
    description: "Start of the range (inclusive). Default: 30 days before `to`.",
    example: "2026-10-26T00:00:00Z",
  }),
  to: RangeBound.optional().openapi({
    param: { name: "to", in: "query" },
    description: "End of the range (exclusive). Default: now.",
    example: "2026-11-25T00:00:00Z",
  }),
  livemode: z
    .enum(["true", "false"])
    .optional()
    .openapi({
      param: { name: "livemode", in: "query" },
      description:
        "`false`: count test-mode predictions, ledger rows and balances (made with test keys) instead of live ones. Default `true`: live only. Users and revenue have no mode.",
      example: "false",
    }),
});

export const AnalyticsSchema = z
  .object({
    range: z.object({ from: Timestamp, to: Timestamp }),
    livemode: z
      .boolean()
      .openapi({ description: "Which mode the predictions and credits count (`?livemode`).", example: true }),
    users: z.object({
      total: count("All accounts now, guests included.", 120),
      anonymous: count("Guest accounts now.", 30),
      registered: count("Registered (non-guest) accounts now.", 90),
      newInRange: count("Accounts created in the range.", 12),
    }),
    predictions: z.object({
      total: count("Predictions created in the range.", 340),
      byStatus: z.object(
        Object.fromEntries(
          PREDICTION_STATUSES.map((s) => [s, count(`Created in the range and now ${s}.`, 0)]),
        ) as Record<(typeof PREDICTION_STATUSES)[number], ReturnType<typeof count>>,
      ),
      byModel: z
        .array(
          z.object({
            model: z
              .string()
              .max(100)
              .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
              .openapi({ example: "nano-banana" }),
            count: count("Predictions of this model in the range.", 200),
          }),
        )
        .max(100),
    }),
    credits: z.object({
      purchased: count("Credits granted by paid orders in the range.", 500),
      purchaseRefunded: count("Credits taken back after refunds in the range.", 10),
      spent: count("Credits charged for generations in the range.", 380),
      refunded: count("Credits returned for failed or canceled generations in the range.", 12),
      adjusted: z.int().min(-2_147_483_648).max(2_147_483_647).openapi({
        description: "Signed sum of admin adjustments in the range.",
        example: 5,
      }),
      bonus: count("Free signup credits granted in the range.", 40),
      outstanding: count("Sum of every balance now (credits users can still spend).", 900),
    }),
    revenue: z
      .array(
        z.object({
          currency: z
            .string()
            .max(10)
            .regex(/^[a-z]{3}$/)
            .openapi({ example: "usd" }),
          orders: count("Paid orders in the range.", 25),
          grossCents: count("Sum of the orders' total amounts.", 50000),
          refundedCents: count("Refunded so far on those orders.", 2000),
          netCents: z.int().min(-2_147_483_648).max(2_147_483_647).openapi({ example: 48000 }),
        }),
      )
      .max(50),
  })
  .openapi("Analytics", {
    description:
      "Users are counted now (plus new in range); predictions, credit flows and revenue over the range (`from` inclusive, `to` exclusive); `outstanding` is the sum of all balances now.",
  });

export function toAdminUser(u: {
  id: string;
  email: string;
  name: string;
  role: string | null;
  isAnonymous: boolean | null;
  balance: number | null;
  createdAt: Date;
}) {
  return respond(AdminUserSchema, {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    isAnonymous: Boolean(u.isAnonymous),
    balance: Number(u.balance ?? 0),
    createdAt: u.createdAt.toISOString(),
  });
}
