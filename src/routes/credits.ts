import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { decodeCursor } from "../lib/pagination";
import { defineRoute } from "../openapi/kit";
import { jsonBody, jsonResponse } from "../openapi/responses";
import { PaginationQuerySchema } from "../schemas/common";
import {
  CheckoutSchema,
  CreditBalanceSchema,
  CreditPackageListSchema,
  CreditTransactionListSchema,
  PurchaseRequestSchema,
  toCheckout,
  toCreditPackage,
  toCreditTransaction,
} from "../schemas/credits";
import { respond } from "../schemas/respond";
import { getCreditSummary, listCreditTransactions } from "../services/credits";
import { startPurchase } from "../services/purchases";

const getBalance = defineRoute({
  method: "get",
  path: "/api/credits",
  operationId: "getCreditBalance",
  tags: ["Credits"],
  summary: "Your credit balance",
  description:
    "The caller's balance and lifetime totals (purchased, spent on generations, refunded for failed generations, adjusted by administrators), all derived from the ledger.",
  access: "user",
  rateLimit: "moderate",
  responses: { 200: jsonResponse(CreditBalanceSchema, "The balance and totals.") },
});

const listPackages = defineRoute({
  method: "get",
  path: "/api/credits/packages",
  operationId: "listCreditPackages",
  tags: ["Credits"],
  summary: "List credit packages",
  description:
    "The credit packages on sale (configured by `CREDIT_PACKAGES`). `purchasable` is false for a package that is not linked to a Polar product, or while payments are not configured. Public.",
  access: "public",
  rateLimit: "moderate",
  responses: { 200: jsonResponse(CreditPackageListSchema, "The packages.") },
});

const listTransactions = defineRoute({
  method: "get",
  path: "/api/credits/transactions",
  operationId: "listCreditTransactions",
  tags: ["Credits"],
  summary: "Your credits ledger",
  description:
    "Every change of the caller's balance, newest first, cursor-paginated. Rows are never edited or deleted (except that a guest's rows move to the account it signed up as).",
  access: "user",
  rateLimit: "moderate",
  request: { query: PaginationQuerySchema },
  responses: { 200: jsonResponse(CreditTransactionListSchema, "A page of ledger rows.") },
  errors: [400],
});

const purchase = defineRoute({
  method: "post",
  path: "/api/credits/purchase",
  operationId: "purchaseCredits",
  tags: ["Credits"],
  summary: "Buy credits (start a Polar checkout)",
  description:
    "Creates a Polar checkout for the package's Polar product, with `external_customer_id` = your user id and metadata `{userId, packageId}`. Send the buyer to `checkoutUrl`; the credits arrive when Polar reports the order paid (`order.paid` webhook), once per order. " +
    "400 for an unknown package or a `successUrl` outside the allowed origins; 503 `service_unavailable` when payments are not configured or the package is not linked to a Polar product; 502 `provider_error` when Polar fails or times out. Send an `Idempotency-Key` to retry without creating a second checkout.",
  access: "user",
  rateLimit: "moderate",
  idempotent: "credits.purchase",
  request: { body: jsonBody(PurchaseRequestSchema, "The package to buy and where to return afterwards.") },
  responses: { 201: jsonResponse(CheckoutSchema, "The checkout was created.") },
  errors: [400, 502, 503],
});

export function registerCreditRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(getBalance, async (c) => {
    const summary = await getCreditSummary(c.get("deps").db, currentUser(c).id);
    return c.json(respond(CreditBalanceSchema, summary), 200);
  });

  app.openapi(listPackages, (c) => {
    const { config, polar } = c.get("deps");
    return c.json({ data: config.CREDIT_PACKAGES.map((p) => toCreditPackage(p, polar !== null)) }, 200);
  });

  app.openapi(listTransactions, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const result = await listCreditTransactions(c.get("deps").db, currentUser(c).id, {
      limit,
      cursor: decodeCursor(cursor),
    });
    return c.json({ data: result.data.map(toCreditTransaction), nextCursor: result.nextCursor }, 200);
  });

  app.openapi(purchase, async (c) => {
    const checkout = await startPurchase(c.get("deps"), currentUser(c), c.req.valid("json"));
    return c.json(toCheckout(checkout), 201);
  });
}
