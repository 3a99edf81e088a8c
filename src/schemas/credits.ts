import { z } from "@hono/zod-openapi";
import type { CreditTransactionView } from "../db/schemas/credits";
import { CREDIT_TRANSACTION_TYPES } from "../domain/credits";
import { NO_NUL } from "../domain/patterns";
import type { CreditPackageConfig } from "../env";
import { NextCursorSchema, TimestampSchema } from "./common";
import { respond } from "./respond";

const Timestamp = TimestampSchema.openapi({ maxLength: 40 });
const ID_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;

const credits = (description: string, example: number, min = 0) =>
  z.int().min(min).max(2_147_483_647).openapi({ description, example });

export const WelcomeCreditsSchema = z
  .object({
    granted: credits("Welcome credits this account received when it was created (a guest's, or a sign-up's).", 3),
    withheld: z.enum(["address_budget"]).nullable().openapi({
      description:
        "Why fewer welcome credits were granted than configured, or null: `address_budget` when the client address had already used its free-credit budget for the last 24 hours (the account can still buy credits).",
      example: null,
    }),
  })
  .openapi("WelcomeCredits", {
    description: "The welcome credits of this account, and the reason when none were granted.",
    example: { granted: 0, withheld: "address_budget" },
  });

export const CreditBalanceSchema = z
  .object({
    balance: credits("Credits available now. Always equals the sum of the caller's ledger.", 42),
    totalPurchased: credits("Credits bought through Polar, net of what purchase refunds took back.", 50),
    totalSpent: credits("Credits charged for generations.", 12),
    totalRefunded: credits("Credits returned for failed or canceled generations.", 1),
    totalAdjusted: credits("Signed sum of administrator adjustments.", 0, -2_147_483_648),
    welcome: WelcomeCreditsSchema,
  })
  .openapi("CreditBalance", {
    description:
      "The caller's balance and lifetime totals, derived from the ledger. The balance also includes free credits (signup bonus) and credits moved from a guest account, which no total counts; `welcome` says what the account was given when it was created, and why it was given nothing.",
    example: {
      balance: 42,
      totalPurchased: 50,
      totalSpent: 12,
      totalRefunded: 1,
      totalAdjusted: 0,
      welcome: { granted: 3, withheld: null },
    },
  });

export const CreditPackageSchema = z
  .object({
    id: z
      .string()
      .max(64)
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)
      .openapi({ description: "Pass as `packageId` to `POST /api/credits/purchase`.", example: "pro" }),
    name: z.string().max(100).regex(NO_NUL).openapi({ example: "Pro" }),
    credits: z.int().min(1).max(2_147_483_647).openapi({ description: "Credits granted when paid.", example: 50 }),
    priceCents: z
      .int()
      .min(0)
      .max(2_147_483_647)
      .openapi({ description: "Price in the currency's minor unit (cents).", example: 2000 }),
    currency: z
      .string()
      .length(3)
      .regex(/^[a-z]{3}$/)
      .openapi({ description: "Lowercase ISO 4217 code.", example: "usd" }),
    purchasable: z.boolean().openapi({
      description: "Whether the package is linked to a Polar product and can be bought now.",
      example: true,
    }),
  })
  .openapi("CreditPackage");

export const CreditPackageListSchema = z
  .object({ data: z.array(CreditPackageSchema).max(100) })
  .openapi("CreditPackageList", {
    example: {
      data: [
        { id: "starter", name: "Starter", credits: 10, priceCents: 500, currency: "usd", purchasable: true },
        { id: "pro", name: "Pro", credits: 50, priceCents: 2000, currency: "usd", purchasable: true },
      ],
    },
  });

/** The ledger's own enum: one list for the database and the contract. */
export { CREDIT_TRANSACTION_TYPES };

export const CreditTransactionTypeSchema = z.enum(CREDIT_TRANSACTION_TYPES).openapi("CreditTransactionType", {
  description:
    "signup_bonus: free credits for a new account; purchase: a paid Polar order; generation: a prediction's charge; refund: a failed or canceled prediction's credits returned; purchase_refund: credits taken back after a Polar refund; admin_adjustment: added or removed by an administrator; transfer: moved from a guest account when it signed up; asset: a deliverable's charge; asset_refund: a failed deliverable's credits returned.",
  example: "purchase",
});

export const CreditTransactionSchema = z
  .object({
    id: z.uuid().max(36),
    type: CreditTransactionTypeSchema,
    amount: z
      .int()
      .min(-2_147_483_648)
      .max(2_147_483_647)
      .openapi({ description: "Signed change: positive adds credits, negative removes them.", example: 50 }),
    balanceAfter: z
      .int()
      .min(0)
      .max(2_147_483_647)
      .openapi({ description: "The balance of the account the row was written to, right after it.", example: 53 }),
    predictionId: z
      .uuid()
      .max(36)
      .nullable()
      .openapi({ description: "The prediction, for generation and refund rows." }),
    assetId: z
      .uuid()
      .max(36)
      .nullable()
      .openapi({ description: "The deliverable, for asset and asset_refund rows.", example: null }),
    orderId: z
      .string()
      .max(200)
      .regex(ID_PATTERN)
      .nullable()
      .openapi({ description: "The Polar order id, for purchase and purchase_refund rows.", example: null }),
    reason: z
      .string()
      .max(1000)
      .regex(NO_NUL)
      .nullable()
      .openapi({ description: "Why: the admin's reason, the order, …", example: "Polar order 6f0c…: Pro" }),
    createdAt: Timestamp,
  })
  .openapi("CreditTransaction", {
    description: "One row of the append-only credits ledger.",
    example: {
      id: "0b7c2f0e-5a57-4f55-9b0c-3c0c2b6b7a11",
      type: "purchase",
      amount: 50,
      balanceAfter: 53,
      predictionId: null,
      assetId: null,
      orderId: "b4a4bf0e-7d33-4b0c-a3a5-1f4f6c1f9a2d",
      reason: "Polar order b4a4bf0e-7d33-4b0c-a3a5-1f4f6c1f9a2d: Pro",
      createdAt: "2026-11-25T12:00:00.000Z",
    },
  });

export const CreditTransactionListSchema = z
  .object({ data: z.array(CreditTransactionSchema).max(100), nextCursor: NextCursorSchema })
  .openapi("CreditTransactionList");

export const PurchaseRequestSchema = z
  .strictObject({
    packageId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "Not a package id")
      .openapi({ description: "A package id from `GET /api/credits/packages`.", example: "pro" }),
    successUrl: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional()
      .openapi({
        description:
          "Where Polar sends the buyer after paying. Must be on one of the server's allowed origins (ALLOWED_ORIGINS). Polar replaces a literal `{CHECKOUT_ID}` in it with the checkout id. Default: Polar's own confirmation page.",
        example: "http://localhost:5173/billing/success",
      }),
  })
  .openapi("PurchaseRequest");

export const CheckoutSchema = z
  .object({
    checkoutId: z.string().max(200).regex(ID_PATTERN).openapi({ example: "b4a4bf0e-7d33-4b0c-a3a5-1f4f6c1f9a2d" }),
    checkoutUrl: z.url().max(2000).openapi({
      description: "Send the buyer here to pay.",
      example: "https://sandbox.polar.sh/checkout/polar_c_abc123",
    }),
    expiresAt: Timestamp.openapi({ description: "The checkout stops accepting payment after this." }),
  })
  .openapi("Checkout", {
    description:
      "A Polar checkout session. Credits are granted when Polar reports the order paid (webhook), not when this is created.",
  });

/** A ledger row as the API shows it (the actor and the guest-link columns stay inside). */
export function toCreditTransaction(row: CreditTransactionView) {
  return respond(CreditTransactionSchema, {
    id: row.id,
    type: row.type,
    amount: row.amount,
    balanceAfter: row.balanceAfter,
    predictionId: row.predictionId,
    assetId: row.assetId,
    orderId: row.orderId,
    reason: row.reason,
    createdAt: row.createdAt.toISOString(),
  });
}

/** A configured package as sold; `polarProductId` is configuration and never part of the response. */
export function toCreditPackage(p: CreditPackageConfig, paymentsConfigured: boolean) {
  return respond(CreditPackageSchema, {
    id: p.id,
    name: p.name,
    credits: p.credits,
    priceCents: p.priceCents,
    currency: p.currency,
    purchasable: paymentsConfigured && Boolean(p.polarProductId),
  });
}

export function toCheckout(checkout: { id: string; url: string; expiresAt: Date }) {
  return respond(CheckoutSchema, {
    checkoutId: checkout.id,
    checkoutUrl: checkout.url,
    expiresAt: checkout.expiresAt.toISOString(),
  });
}
