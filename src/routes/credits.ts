import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { forbidden } from "../lib/errors";
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
import { getCreditSummary, listCreditTransactions, topUpTestCredits } from "../services/credits";
import { startPurchase } from "../services/purchases";

const getBalance = defineRoute({
  method: "get",
  path: "/api/credits",
  operationId: "getCreditBalance",
  tags: ["Credits"],
  summary: "Your credit balance",
  description:
    "The caller's balance and lifetime totals (purchased, spent on generations, refunded for failed generations, adjusted by administrators), all derived from the ledger. With a test key (`logo_test_…`): the test balance and its totals (`livemode: false`), never the live ones.",
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
    "Every change of the caller's balance, newest first, cursor-paginated (with a test key: the test balance's rows). Rows are never edited or deleted (except that a guest's rows move to the account it signed up as).",
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
    "400 for an unknown package or a `successUrl` outside the allowed origins; 503 `service_unavailable` when payments are not configured or the package is not linked to a Polar product; 502 `provider_error` when Polar fails or times out. Send an `Idempotency-Key` to retry without creating a second checkout. A test key (`logo_test_…`) answers 403: test credits are never bought.",
  access: "user",
  rateLimit: "moderate",
  idempotent: "credits.purchase",
  request: { body: jsonBody(PurchaseRequestSchema, "The package to buy and where to return afterwards.") },
  responses: { 201: jsonResponse(CheckoutSchema, "The checkout was created.") },
  errors: [400, 403, 502, 503],
});

const testTopUp = defineRoute({
  method: "post",
  path: "/api/credits/test-top-up",
  operationId: "topUpTestCredits",
  tags: ["Credits"],
  summary: "Top up the test balance",
  description:
    "Test mode only: with a test key (`logo_test_…`) it brings the caller's test balance up to `TEST_CREDITS` (default 100) and answers it, as `GET /api/credits` does; a balance already there is left as it is, so calling it again (or many times at once) changes nothing more. " +
    "Test credits pay only for test predictions and deliverables: they are never bought, moved to or from live credits, or counted with them. Any other credential answers 403.",
  access: "user",
  rateLimit: "moderate",
  responses: { 200: jsonResponse(CreditBalanceSchema, "The test balance after the top-up.") },
  errors: [403],
});

export function registerCreditRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(getBalance, async (c) => {
    const user = currentUser(c);
    const summary = await getCreditSummary(c.env.deps.db, user.id, user.livemode);
    return c.json(respond(CreditBalanceSchema, { ...summary, livemode: user.livemode }), 200);
  });

  app.openapi(listPackages, (c) => {
    const { config, polar } = c.env.deps;
    return c.json({ data: config.CREDIT_PACKAGES.map((p) => toCreditPackage(p, polar !== null)) }, 200);
  });

  app.openapi(listTransactions, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const user = currentUser(c);
    const result = await listCreditTransactions(c.env.deps.db, user.id, {
      livemode: user.livemode,
      limit,
      cursor: decodeCursor(cursor),
    });
    return c.json({ data: result.data.map(toCreditTransaction), nextCursor: result.nextCursor }, 200);
  });

  app.openapi(testTopUp, async (c) => {
    const { db, config } = c.env.deps;
    const user = currentUser(c);
    if (user.livemode) throw forbidden("Test credits are topped up with a test API key (logo_test_…).");
    const { summary } = await topUpTestCredits(db, user.id, config.TEST_CREDITS);
    return c.json(respond(CreditBalanceSchema, { ...summary, livemode: false }), 200);
  });

  app.openapi(purchase, async (c) => {
    if (!currentUser(c).livemode)
      throw forbidden(
        "Credits cannot be bought with a test key; top up the test balance with POST /api/credits/test-top-up.",
      );
    const checkout = await startPurchase(c.env.deps, currentUser(c), c.req.valid("json"));
    return c.json(toCheckout(checkout), 201);
  });
}
