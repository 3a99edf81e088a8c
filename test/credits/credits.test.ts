import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { creditAccount, creditTransaction, user } from "../../src/db/schema";
import {
  CheckoutSchema,
  CreditBalanceSchema,
  CreditPackageListSchema,
  CreditTransactionListSchema,
} from "../../src/schemas/credits";
import { createPolarClient } from "../../src/services/polar/client";
import { type FakePolar, polarEnv, startFakePolar } from "../fakes/polar";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError, expectSchema } from "../helpers/schemas";

let fake: FakePolar;
let t: TestApp;
let admin: Awaited<ReturnType<TestApp["signUp"]>>;

beforeAll(async () => {
  fake = await startFakePolar();
  t = await createTestApp({ env: polarEnv(fake, { ADMIN_EMAILS: "root@example.com" }) });
  admin = await t.signUp({ email: "root@example.com" });
});

afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
  await fake.close();
});

const adjust = (userId: string, amount: number, reason = "test") =>
  t.json("POST", "/api/admin/credits", { body: { userId, amount, reason }, headers: admin.headers });

describe("GET /api/credits", () => {
  test("a new user has the signup credits and zero totals", async () => {
    const s = await t.signUp();
    const res = await t.json("GET", "/api/credits", { headers: s.headers });
    expect(res.status).toBe(200);
    expect(expectSchema(CreditBalanceSchema, res.body)).toEqual({
      balance: 3,
      totalPurchased: 0,
      totalSpent: 0,
      totalRefunded: 0,
      totalAdjusted: 0,
      welcome: { granted: 3, withheld: null },
    });
    expect(res.headers.get("ratelimit-limit")).toBe("10000");
  });

  test("totals follow the ledger", async () => {
    const s = await t.signUp();
    expect((await adjust(s.userId, 7)).status).toBe(201);
    expect((await adjust(s.userId, -2)).status).toBe(201);
    const res = await t.json("GET", "/api/credits", { headers: s.headers });
    expect(expectSchema(CreditBalanceSchema, res.body)).toEqual({
      balance: 8,
      totalPurchased: 0,
      totalSpent: 0,
      totalRefunded: 0,
      totalAdjusted: 5,
      welcome: { granted: 3, withheld: null },
    });
  });

  test("401 without credentials", async () => {
    expectError(await t.json("GET", "/api/credits"), 401, "unauthorized");
  });
});

describe("GET /api/credits/packages", () => {
  test("public, from CREDIT_PACKAGES, without Polar product ids", async () => {
    const res = await t.json("GET", "/api/credits/packages");
    expect(res.status).toBe(200);
    const body = expectSchema(CreditPackageListSchema, res.body);
    expect(body.data).toEqual([
      { id: "starter", name: "Starter", credits: 10, priceCents: 500, currency: "usd", purchasable: true },
      { id: "pro", name: "Pro", credits: 50, priceCents: 2000, currency: "usd", purchasable: true },
      { id: "legacy", name: "Legacy", credits: 5, priceCents: 300, currency: "eur", purchasable: false },
    ]);
    expect(JSON.stringify(res.body)).not.toContain("prod-");
    expect(JSON.stringify(res.body)).not.toContain("polarProductId");
  });
});

describe("GET /api/credits/transactions", () => {
  test("newest first, cursor-paginated, every row once", async () => {
    const s = await t.signUp();
    for (let i = 1; i <= 5; i++) expect((await adjust(s.userId, i, `grant ${i}`)).status).toBe(201);
    const seen: string[] = [];
    const amounts: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const res = await t.json("GET", `/api/credits/transactions${q}`, { headers: s.headers });
      expect(res.status).toBe(200);
      const body = expectSchema(CreditTransactionListSchema, res.body);
      expect(body.data.length).toBeLessThanOrEqual(2);
      for (const row of body.data) {
        seen.push(row.id);
        amounts.push(row.amount);
      }
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(6);
    // newest first: the five grants in reverse order, then the signup bonus
    expect(amounts).toEqual([5, 4, 3, 2, 1, 3]);
    const first = await t.json("GET", "/api/credits/transactions?limit=1", { headers: s.headers });
    const row = expectSchema(CreditTransactionListSchema, first.body).data[0];
    expect(row).toMatchObject({ type: "admin_adjustment", amount: 5, balanceAfter: 18, reason: "grant 5" });
    expect(Object.keys(row ?? {}).sort()).toEqual(
      ["amount", "assetId", "balanceAfter", "createdAt", "id", "orderId", "predictionId", "reason", "type"].sort(),
    );
  });

  test("a bad cursor or limit is 400", async () => {
    const s = await t.signUp();
    expectError(
      await t.json("GET", "/api/credits/transactions?cursor=bm90LWEtY3Vyc29y", { headers: s.headers }),
      400,
      "validation_error",
    );
    expectError(
      await t.json("GET", "/api/credits/transactions?limit=101", { headers: s.headers }),
      400,
      "validation_error",
    );
  });

  test("crafted cursors (an id that is no UUID, dates PostgreSQL cannot hold) are 400 on every list, never 500", async () => {
    const s = await t.signUp();
    const uuid = crypto.randomUUID();
    const crafted = [
      ["2026-01-01T00:00:00.000Z", "-".repeat(36)],
      ["0000-01-01T00:00:00.000Z", uuid],
      ["+275760-09-13T00:00:00.000Z", uuid],
      ["-271821-04-20T00:00:00.000Z", uuid],
      [12345, uuid],
    ].map((c) => Buffer.from(JSON.stringify(c)).toString("base64url"));
    for (const path of ["/api/credits/transactions", "/api/predictions", "/api/generations"])
      for (const cursor of crafted)
        expectError(await t.json("GET", `${path}?cursor=${cursor}`, { headers: s.headers }), 400, "validation_error");
    // a well-formed cursor still pages
    const ok = Buffer.from(JSON.stringify(["2026-01-01T00:00:00.000Z", uuid])).toString("base64url");
    expect((await t.json("GET", `/api/credits/transactions?cursor=${ok}`, { headers: s.headers })).status).toBe(200);
  });
});

describe("POST /api/credits/purchase", () => {
  test("creates a Polar checkout with the package's product, the user id and metadata", async () => {
    const s = await t.signUp();
    fake.reset();
    const res = await t.json("POST", "/api/credits/purchase", {
      body: { packageId: "pro", successUrl: "http://localhost:5173/billing/done?checkout_id={CHECKOUT_ID}" },
      headers: s.headers,
    });
    expect(res.status).toBe(201);
    const body = expectSchema(CheckoutSchema, res.body);
    expect(body.checkoutUrl).toStartWith("https://sandbox.polar.sh/checkout/");
    expect(new Date(body.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0];
    expect(sent?.method).toBe("POST");
    expect(sent?.path).toBe("/v1/checkouts/");
    expect(sent?.headers.authorization).toBe(`Bearer ${fake.accessToken}`);
    expect(sent?.headers["polar-version"]).toBe("2026-04");
    expect(sent?.body).toEqual({
      products: ["prod-pro"],
      external_customer_id: s.userId,
      metadata: { userId: s.userId, packageId: "pro" },
      success_url: "http://localhost:5173/billing/done?checkout_id={CHECKOUT_ID}",
      customer_email: s.email,
    });
    // Creating a checkout grants nothing: credits arrive with order.paid.
    const bal = await t.json("GET", "/api/credits", { headers: s.headers });
    expect(bal.body.balance).toBe(3);
  });

  test("a guest can buy; its placeholder email is not sent to Polar", async () => {
    const g = await t.signInAnonymous();
    fake.reset();
    const res = await t.json("POST", "/api/credits/purchase", { body: { packageId: "starter" }, headers: g.headers });
    expect(res.status).toBe(201);
    expect(fake.requests[0]?.body).toEqual({
      products: ["prod-starter"],
      external_customer_id: g.userId,
      metadata: { userId: g.userId, packageId: "starter" },
    });
  });

  test("Idempotency-Key replays the first checkout without calling Polar again", async () => {
    const s = await t.signUp();
    fake.reset();
    const headers = { ...s.headers, "idempotency-key": "buy-pro-1" };
    const first = await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro" }, headers });
    expect(first.status).toBe(201);
    const second = await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro" }, headers });
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(fake.requests).toHaveLength(1);
    const other = await t.json("POST", "/api/credits/purchase", { body: { packageId: "starter" }, headers });
    expectError(other, 422, "idempotency_key_reused");
    expect(fake.requests).toHaveLength(1);
  });

  test("successUrl off the allowed origins is 400 and Polar is not called", async () => {
    const s = await t.signUp();
    fake.reset();
    for (const successUrl of [
      "https://evil.example/steal",
      "http://localhost:5174/x",
      "javascript:alert(1)",
      "not a url",
    ]) {
      const res = await t.json("POST", "/api/credits/purchase", {
        body: { packageId: "pro", successUrl },
        headers: s.headers,
      });
      expectError(res, 400, "validation_error");
    }
    expect(fake.requests).toHaveLength(0);
  });

  test("unknown package or unknown field is 400; a package without a Polar product is 503", async () => {
    const s = await t.signUp();
    fake.reset();
    const unknown = await t.json("POST", "/api/credits/purchase", { body: { packageId: "gold" }, headers: s.headers });
    expect(expectError(unknown, 400, "validation_error").details?.issues?.[0]?.path).toBe("packageId");
    expectError(
      await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro", price: 1 }, headers: s.headers }),
      400,
      "validation_error",
    );
    expectError(
      await t.json("POST", "/api/credits/purchase", { body: { packageId: "legacy" }, headers: s.headers }),
      503,
      "service_unavailable",
    );
    expect(fake.requests).toHaveLength(0);
  });

  test("Polar 500, 422, unreadable answers and timeouts are 502 provider_error", async () => {
    const s = await t.signUp();
    fake.reset();
    fake.failNext(500, { error: "Internal Server Error" });
    const e500 = await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro" }, headers: s.headers });
    expect(expectError(e500, 502, "provider_error").details?.providerStatus).toBeUndefined();
    fake.failNext(422, { detail: [{ loc: ["body", "products"], msg: "Product archived", type: "value_error" }] });
    const e422 = await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro" }, headers: s.headers });
    expect(expectError(e422, 502, "provider_error").details?.providerStatus).toBe(422);
    fake.garbageNext();
    expectError(
      await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro" }, headers: s.headers }),
      502,
      "provider_error",
    );
    // The same app and database, with a client that gives up quickly.
    const quick = await createTestApp({
      database: t.database,
      env: polarEnv(fake),
      overrides: {
        polar: createPolarClient({
          accessToken: fake.accessToken,
          environment: "sandbox",
          baseUrl: fake.url,
          timeoutSeconds: 0.3,
        }),
      },
    });
    fake.hangNext();
    const timeout = await quick.json("POST", "/api/credits/purchase", {
      body: { packageId: "pro" },
      headers: s.headers,
    });
    expectError(timeout, 502, "provider_error");
    await quick.close();
    // A purchase that reached Polar and failed keeps its Idempotency-Key: the same key replays the 502
    // without calling Polar again (it may have created the checkout); a new key tries again.
    const key = { ...s.headers, "idempotency-key": "retry-after-502" };
    fake.failNext(503, "upstream down");
    expectError(
      await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro" }, headers: key }),
      502,
      "provider_error",
    );
    const polarCalls = fake.requests.length;
    const replay = await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro" }, headers: key });
    expectError(replay, 502, "provider_error");
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(fake.requests.length).toBe(polarCalls);
    const fresh = { ...s.headers, "idempotency-key": "retry-after-502-again" };
    expect((await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro" }, headers: fresh })).status).toBe(
      201,
    );
  });

  test("without Polar configured it is 503 and packages are not purchasable", async () => {
    const bare = await createTestApp({
      database: t.database,
      env: { CREDIT_PACKAGES: polarEnv(fake).CREDIT_PACKAGES },
    });
    const s = await bare.signUp();
    expectError(
      await bare.json("POST", "/api/credits/purchase", { body: { packageId: "pro" }, headers: s.headers }),
      503,
      "service_unavailable",
    );
    const pk = await bare.json("GET", "/api/credits/packages");
    expect(pk.body.data.every((p: { purchasable: boolean }) => !p.purchasable)).toBe(true);
    await bare.close();
  });

  test("401 without credentials", async () => {
    expectError(await t.json("POST", "/api/credits/purchase", { body: { packageId: "pro" } }), 401, "unauthorized");
  });
});

describe("guest to user transfer through Better Auth", () => {
  async function guestWithHistory() {
    const g = await t.signInAnonymous();
    expect((await adjust(g.userId, 4, "guest top-up")).status).toBe(201);
    const rows = await t.db.select().from(creditTransaction).where(eq(creditTransaction.userId, g.userId));
    return { g, rowIds: rows.map((r) => r.id) };
  }

  async function expectMoved(guestId: string, userId: string, rowIds: string[], expectedBalance: number) {
    const [acct] = await t.db.select().from(creditAccount).where(eq(creditAccount.userId, userId));
    expect(acct?.balance).toBe(expectedBalance);
    const rows = await t.db.select().from(creditTransaction).where(eq(creditTransaction.userId, userId));
    for (const id of rowIds) expect(rows.some((r) => r.id === id)).toBe(true);
    expect(rows.filter((r) => r.type === "transfer").map((r) => r.amount)).toContain(5);
    expect(rows.filter((r) => r.type === "signup_bonus")).toHaveLength(1);
    expect(rows.reduce((a, r) => a + r.amount, 0)).toBe(expectedBalance);
    expect(await t.db.select().from(user).where(eq(user.id, guestId))).toHaveLength(0);
    expect(await t.db.select().from(creditTransaction).where(eq(creditTransaction.userId, guestId))).toHaveLength(0);
    expect(await t.db.select().from(creditAccount).where(eq(creditAccount.userId, guestId))).toHaveLength(0);
  }

  test("signing up with the guest's bearer token keeps its balance and ledger, plus signup credits", async () => {
    const { g, rowIds } = await guestWithHistory();
    const linked = await t.signUp({ email: "linked-bearer@example.com", name: "Linked", headers: g.headers });
    const newUserId = linked.userId;
    expect(newUserId).not.toBe(g.userId);
    await expectMoved(g.userId, newUserId, rowIds, 1 + 4 + 3);
    const bal = await t.json("GET", "/api/credits", { headers: linked.headers });
    expect(expectSchema(CreditBalanceSchema, bal.body)).toMatchObject({ balance: 8, totalAdjusted: 4 });
  });

  test("a guest with nothing left to move still brings its totals: the user's counters count its ledger rows", async () => {
    const g = await t.signInAnonymous();
    expect((await adjust(g.userId, 4)).status).toBe(201);
    expect((await adjust(g.userId, -5)).status).toBe(201);
    const linked = await t.signUp({ email: "linked-empty@example.com", name: "Linked", headers: g.headers });
    const bal = await t.json("GET", "/api/credits", { headers: linked.headers });
    expect(expectSchema(CreditBalanceSchema, bal.body)).toEqual({
      balance: 3,
      totalPurchased: 0,
      totalSpent: 0,
      totalRefunded: 0,
      totalAdjusted: -1,
      welcome: { granted: 3, withheld: null },
    });
    expect(await t.ledgerViolations()).toEqual([]);
  });

  test("signing up with the guest's session cookie does the same", async () => {
    const { g, rowIds } = await guestWithHistory();
    const { userId: newUserId } = await t.signUp({
      email: "linked-cookie@example.com",
      name: "Linked",
      headers: { cookie: g.cookie },
    });
    await expectMoved(g.userId, newUserId, rowIds, 8);
  });

  test("signing in to an existing account with the guest's session moves the guest's credits there", async () => {
    const existing = await t.signUp({ email: "returning@example.com", password: "correct-horse-battery" });
    const { g, rowIds } = await guestWithHistory();
    const res = await t.fetch("/api/auth/sign-in/email", {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://localhost:3000", ...g.headers },
      body: JSON.stringify({ email: "returning@example.com", password: "correct-horse-battery" }),
    });
    expect(res.status).toBe(200);
    await expectMoved(g.userId, existing.userId, rowIds, 3 + 5);
  });
});
