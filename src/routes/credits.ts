import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { ApiError } from "../lib/errors";
import { errorResponses, idempotencyKeyHeader, jsonBody, jsonResponse, userSecurity } from "../lib/openapi";
import { decodeCursor } from "../lib/pagination";
import { currentUser, requireUser } from "../middleware/auth";
import { idempotent } from "../middleware/idempotency";
import { rateLimit } from "../middleware/rate-limit";
import { PaginationQuerySchema } from "../schemas/common";
import {
  CheckoutSchema,
  CreditBalanceSchema,
  CreditPackageListSchema,
  CreditPackageSchema,
  CreditTransactionListSchema,
  CreditTransactionSchema,
  PurchaseRequestSchema,
} from "../schemas/credits";
import { type CreditTransactionRow, getCreditSummary, listCreditTransactions } from "../services/credits";
import { findPackage, PolarProviderError } from "../services/polar";
import type { AppEnv } from "../types";

const getBalance = createRoute({
  method: "get",
  path: "/api/credits",
  operationId: "getCreditBalance",
  tags: ["Credits"],
  summary: "Your credit balance",
  description:
    "The caller's balance and lifetime totals (purchased, spent on generations, refunded for failed generations, adjusted by administrators), all derived from the ledger.",
  security: userSecurity,
  middleware: [rateLimit("moderate"), requireUser] as const,
  responses: {
    200: jsonResponse(CreditBalanceSchema, "The balance and totals.", { rateLimited: true }),
    ...errorResponses([401], { rateLimited: true }),
  },
});

const listPackages = createRoute({
  method: "get",
  path: "/api/credits/packages",
  operationId: "listCreditPackages",
  tags: ["Credits"],
  summary: "List credit packages",
  description:
    "The credit packages on sale (configured by `CREDIT_PACKAGES`). `purchasable` is false for a package that is not linked to a Polar product, or while payments are not configured. Public.",
  security: [],
  middleware: [rateLimit("moderate")] as const,
  responses: {
    200: jsonResponse(CreditPackageListSchema, "The packages.", { rateLimited: true }),
    ...errorResponses([], { rateLimited: true }),
  },
});

const listTransactions = createRoute({
  method: "get",
  path: "/api/credits/transactions",
  operationId: "listCreditTransactions",
  tags: ["Credits"],
  summary: "Your credits ledger",
  description:
    "Every change of the caller's balance, newest first, cursor-paginated. Rows are never edited or deleted (except that a guest's rows move to the account it signed up as).",
  security: userSecurity,
  middleware: [rateLimit("moderate"), requireUser] as const,
  request: { query: PaginationQuerySchema },
  responses: {
    200: jsonResponse(CreditTransactionListSchema, "A page of ledger rows.", { rateLimited: true }),
    ...errorResponses([400, 401], { rateLimited: true }),
  },
});

const purchase = createRoute({
  method: "post",
  path: "/api/credits/purchase",
  operationId: "purchaseCredits",
  tags: ["Credits"],
  summary: "Buy credits (start a Polar checkout)",
  description:
    "Creates a Polar checkout for the package's Polar product, with `external_customer_id` = your user id and metadata `{userId, packageId}`. Send the buyer to `checkoutUrl`; the credits arrive when Polar reports the order paid (`order.paid` webhook), once per order. " +
    "400 for an unknown package or a `successUrl` outside the allowed origins; 503 `service_unavailable` when payments are not configured or the package is not linked to a Polar product; 502 `provider_error` when Polar fails or times out. Send an `Idempotency-Key` to retry without creating a second checkout.",
  security: userSecurity,
  middleware: [rateLimit("moderate"), requireUser, idempotent("credits.purchase")] as const,
  request: {
    headers: idempotencyKeyHeader,
    body: jsonBody(PurchaseRequestSchema, "The package to buy and where to return afterwards."),
  },
  responses: {
    201: jsonResponse(CheckoutSchema, "The checkout was created.", { rateLimited: true }),
    ...errorResponses([400, 401, 409, 413, 422, 502, 503], { rateLimited: true }),
  },
});

export function toCreditTransaction(row: CreditTransactionRow) {
  return CreditTransactionSchema.parse({
    id: row.id,
    type: row.type,
    amount: row.amount,
    balanceAfter: row.balanceAfter,
    predictionId: row.predictionId,
    orderId: row.orderId,
    reason: row.reason,
    createdAt: row.createdAt.toISOString(),
  });
}

export function registerCreditRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(getBalance, async (c) => {
    const summary = await getCreditSummary(c.var.deps.db, currentUser(c).id);
    c.header("Cache-Control", "no-store");
    return c.json(CreditBalanceSchema.parse(summary), 200);
  });

  app.openapi(listPackages, (c) => {
    const { config, polar } = c.var.deps;
    const data = config.CREDIT_PACKAGES.map((p) =>
      // Explicit mapping: polarProductId is configuration, never part of the response.
      CreditPackageSchema.parse({
        id: p.id,
        name: p.name,
        credits: p.credits,
        priceCents: p.priceCents,
        currency: p.currency,
        purchasable: Boolean(polar && p.polarProductId),
      }),
    );
    return c.json({ data }, 200);
  });

  app.openapi(listTransactions, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const result = await listCreditTransactions(c.var.deps.db, currentUser(c).id, {
      limit,
      cursor: decodeCursor(cursor),
    });
    c.header("Cache-Control", "no-store");
    return c.json({ data: result.data.map(toCreditTransaction), nextCursor: result.nextCursor }, 200);
  });

  app.openapi(purchase, async (c) => {
    const { config, polar } = c.var.deps;
    const user = currentUser(c);
    const body = c.req.valid("json");
    const pkg = findPackage(config, body.packageId);
    if (!pkg)
      throw new ApiError("validation_error", `There is no credit package "${body.packageId}".`, {
        issues: [
          {
            path: "packageId",
            message: `Unknown package; one of: ${config.CREDIT_PACKAGES.map((p) => p.id).join(", ")}`,
          },
        ],
      });
    if (body.successUrl !== undefined && !config.ALLOWED_ORIGINS.includes(new URL(body.successUrl).origin))
      throw new ApiError("validation_error", "successUrl must be on one of the allowed origins.", {
        issues: [{ path: "successUrl", message: `Origin not allowed; allowed: ${config.ALLOWED_ORIGINS.join(", ")}` }],
      });
    if (!polar) throw new ApiError("service_unavailable", "Payments are not configured on this server.");
    if (!pkg.polarProductId)
      throw new ApiError("service_unavailable", `The package "${pkg.id}" is not linked to a Polar product yet.`, {
        packageId: pkg.id,
      });
    try {
      const checkout = await polar.createCheckout({
        productId: pkg.polarProductId,
        userId: user.id,
        packageId: pkg.id,
        successUrl: body.successUrl,
        customerEmail: user.isAnonymous ? undefined : user.email,
      });
      c.var.logger.info({ checkoutId: checkout.id, packageId: pkg.id }, "polar checkout created");
      return c.json(
        CheckoutSchema.parse({
          checkoutId: checkout.id,
          checkoutUrl: checkout.url,
          expiresAt: checkout.expiresAt.toISOString(),
        }),
        201,
      );
    } catch (err) {
      if (!(err instanceof PolarProviderError)) throw err;
      c.var.logger.error({ err, packageId: pkg.id }, "polar checkout failed");
      throw new ApiError(
        "provider_error",
        "The payment provider could not create a checkout. Try again shortly.",
        err.providerStatus ? { providerStatus: err.providerStatus } : undefined,
      );
    }
  });
}
