import { z } from "@hono/zod-openapi";
import { NO_NUL } from "../domain/patterns";
import { WEBHOOK_URL_MAX } from "../domain/webhooks";
import { ERROR_CODES, STATUS_OF } from "../lib/errors";

export const ErrorCodeSchema = z.enum(ERROR_CODES).openapi("ErrorCode", {
  description: `Machine-readable error code. ${ERROR_CODES.map((code) => `${code} ${STATUS_OF[code]}`).join(", ")}.`,
});

export const ValidationIssueSchema = z
  .object({
    path: z.string().max(500).regex(NO_NUL).openapi({
      description: "Dot-separated path of the invalid field; empty for the whole body.",
      example: "colors.0",
    }),
    message: z.string().max(1000).regex(NO_NUL).openapi({ example: "Invalid hex color" }),
  })
  .openapi("ValidationIssue");

export const ErrorSchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z
        .string()
        .max(2000)
        .regex(NO_NUL)
        .openapi({ description: "Human-readable explanation; safe to show to users." }),
      requestId: z
        .string()
        .max(200)
        .regex(/^[A-Za-z0-9_=-]+$/)
        .openapi({ description: "Same value as the X-Request-Id response header." }),
      details: z
        .object({
          issues: z.array(ValidationIssueSchema).max(100).optional(),
          required: z.int().min(0).max(1_000_000).optional(),
          balance: z.int().min(0).max(2_147_483_647).optional(),
          predictionId: z.uuid().max(36).optional(),
          authCode: z
            .string()
            .max(200)
            .regex(/^[A-Z0-9_]+$/)
            .optional()
            .openapi({ description: "Better Auth's own error code, on errors from `/api/auth/*`." }),
        })
        .catchall(z.unknown())
        .optional()
        .openapi({
          description:
            "Code-specific data: `issues` for validation errors, `required`/`balance` for 402, `predictionId` for provider errors, `authCode` for errors from Better Auth.",
        }),
    }),
  })
  .openapi("Error", {
    description: "The one error envelope used by every 4xx and 5xx response.",
    example: {
      error: {
        code: "insufficient_credits",
        message: "This generation costs 4 credits; your balance is 1.",
        requestId: "01J9Z6V7K3R4T1ZQ8W5Y2X0ABC",
        details: { required: 4, balance: 1 },
      },
    },
  });

export const UuidParamSchema = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, format: "uuid", example: "3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34" }),
});

export const PaginationQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { name: "limit", in: "query" }, description: "Page size (1–100).", example: 20 }),
  cursor: z
    .string()
    .max(500)
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional()
    .openapi({
      param: { name: "cursor", in: "query" },
      description: "Opaque cursor from the previous page's `nextCursor`.",
    }),
});

export const NextCursorSchema = z
  .string()
  .max(500)
  .regex(/^[A-Za-z0-9_-]+$/)
  .nullable()
  .openapi({ description: "Pass as `cursor` to get the next page; null on the last page." });

export const TimestampSchema = z.iso.datetime({ offset: true }).openapi({ example: "2026-11-25T12:00:00.000Z" });

/** The Idempotency-Key request header (the idempotent middleware enforces what it says). */
export const IdempotencyKeyHeaderSchema = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, "Printable ASCII without spaces")
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description:
        "Optional. The same key with the same body within 24 hours replays the first response — its status and body, with `Idempotent-Replayed: true` — and does nothing again; the same key with a different body is 422; while the first is in flight, 409. Replayed outcomes include errors from the work itself (402, 500, 502): to try again after topping up or after a provider failure, send a new key. Refusals that did nothing (400, 401, 403, 404, 409, 413, 422, 429, 503) are not kept, so the same request may be retried with the same key.",
      example: "3c6e0b8a-checkout-1",
    }),
});

/** A job's `webhook`: where its events are POSTed (the address rules are checked at create, services/webhooks). */
export const webhookUrlSchema = (description: string) =>
  z
    .url({ protocol: /^https?$/ })
    .max(WEBHOOK_URL_MAX)
    .optional()
    .openapi({ description, example: "https://example.com/hooks/logo-api" });

/** Test mode: false for an object made with a test key (seen only by test keys), true otherwise. */
export const LivemodeSchema = z.boolean().openapi({
  description:
    "false for an object made with a test key (`logo_test_…`): only test keys see it, and it is charged to the test balance. true otherwise.",
  example: true,
});
