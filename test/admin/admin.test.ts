import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { creditAccount, creditTransaction, prediction, user } from "../../src/db/schema";
import { createLogger } from "../../src/lib/logger";
import { AdminCreditAdjustmentSchema, AdminUserListSchema, AnalyticsSchema } from "../../src/schemas/admin";
import {
  type FakePolar,
  polarEnv,
  polarEvent,
  polarOrder,
  signWebhook,
  startFakePolar,
  WEBHOOK_SECRET,
} from "../fakes/polar";
import { createTestApp, type TestApp } from "../helpers/app";
import { eventually } from "../helpers/clock";
import { expectError, expectSchema } from "../helpers/schemas";

let fake: FakePolar;
let t: TestApp;
let admin: Awaited<ReturnType<TestApp["signUp"]>>;

beforeAll(async () => {
  fake = await startFakePolar();
  t = await createTestApp({ env: polarEnv(fake, { ADMIN_EMAILS: "chief@example.com" }) });
  admin = await t.signUp({ email: "chief@example.com", name: "Chief" });
});

afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
  await fake.close();
});

const adjust = (body: unknown, headers: Record<string, string> = admin.headers) =>
  t.json("POST", "/api/admin/credits", { body, headers });
const balanceOf = async (userId: string) =>
  (await t.db.select().from(creditAccount).where(eq(creditAccount.userId, userId)))[0]?.balance ?? 0;
const ledgerSum = async (userId: string) =>
  (await t.db.select().from(creditTransaction).where(eq(creditTransaction.userId, userId))).reduce(
    (a, r) => a + r.amount,
    0,
  );

describe("POST /api/admin/credits", () => {
  test("adds and removes credits with an admin_adjustment row carrying the admin's id", async () => {
    const s = await t.signUp();
    const add = await adjust({ userId: s.userId, amount: 20, reason: "Support: failed batch" });
    expect(add.status).toBe(201);
    const body = expectSchema(AdminCreditAdjustmentSchema, add.body);
    expect(body.balance).toBe(23);
    expect(body.transaction).toMatchObject({
      type: "admin_adjustment",
      amount: 20,
      balanceAfter: 23,
      reason: "Support: failed batch",
    });
    const [row] = await t.db.select().from(creditTransaction).where(eq(creditTransaction.id, body.transaction.id));
    expect(row?.actorId).toBe(admin.userId);
    const remove = await adjust({ userId: s.userId, amount: -23, reason: "Chargeback" });
    expect(remove.status).toBe(201);
    expect(remove.body.balance).toBe(0);
    expect(await balanceOf(s.userId)).toBe(0);
  });

  test("below zero is 409 and changes nothing; unknown user is 404", async () => {
    const s = await t.signUp();
    const before = await t.db.select().from(creditTransaction).where(eq(creditTransaction.userId, s.userId));
    const res = await adjust({ userId: s.userId, amount: -4, reason: "too much" });
    expect(expectError(res, 409, "conflict").details).toMatchObject({ required: 4, balance: 3 });
    expect(await balanceOf(s.userId)).toBe(3);
    expect(await t.db.select().from(creditTransaction).where(eq(creditTransaction.userId, s.userId))).toHaveLength(
      before.length,
    );
    expectError(
      await adjust({ userId: "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", amount: 5, reason: "ghost" }),
      404,
      "not_found",
    );
  });

  test("validation: zero, non-integer, empty or long reason, bad uuid, extra fields are 400", async () => {
    const s = await t.signUp();
    for (const body of [
      { userId: s.userId, amount: 0, reason: "x" },
      { userId: s.userId, amount: 1.5, reason: "x" },
      { userId: s.userId, amount: 1, reason: "" },
      { userId: s.userId, amount: 1, reason: "   " },
      { userId: s.userId, amount: 1, reason: "x".repeat(501) },
      { userId: s.userId, amount: 1, reason: "nul \u0000 inside" },
      { userId: "nope", amount: 1, reason: "x" },
      { userId: s.userId, amount: 1, reason: "x", actorId: admin.userId },
    ])
      expectError(await adjust(body), 400, "validation_error");
    expect(await balanceOf(s.userId)).toBe(3);
  });

  test("non-admins get 403, anonymous callers 401", async () => {
    const s = await t.signUp();
    expectError(await adjust({ userId: s.userId, amount: 100, reason: "me" }, s.headers), 403, "forbidden");
    expectError(await t.json("POST", "/api/admin/credits", { body: {} }), 401, "unauthorized");
    expectError(await t.json("GET", "/api/admin/users", { headers: s.headers }), 403, "forbidden");
    expectError(await t.json("GET", "/api/admin/analytics", { headers: s.headers }), 403, "forbidden");
    const g = await t.signInAnonymous();
    expectError(await t.json("GET", "/api/admin/users", { headers: g.headers }), 403, "forbidden");
  });

  test("30 concurrent debits of 1 against a balance of 10: exactly 10 succeed", async () => {
    const s = await t.signUp();
    expect((await adjust({ userId: s.userId, amount: 7, reason: "top up to 10" })).status).toBe(201);
    expect(await balanceOf(s.userId)).toBe(10);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => adjust({ userId: s.userId, amount: -1, reason: `debit ${i}` })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((x) => x === 201)).toHaveLength(10);
    expect(statuses.filter((x) => x === 409)).toHaveLength(20);
    for (const r of results.filter((x) => x.status === 409)) expectError(r, 409, "conflict");
    expect(await balanceOf(s.userId)).toBe(0);
    expect(await ledgerSum(s.userId)).toBe(0);
    const afters = results
      .filter((r) => r.status === 201)
      .map((r) => r.body.balance as number)
      .sort((a, b) => a - b);
    expect(afters).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("the adjustment is logged under the request's id and client address (the request's logger)", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(l) } });
    // In process every request comes from 127.0.0.1: trusted here, so X-Forwarded-For names the client.
    const logged = await createTestApp({
      env: { ADMIN_EMAILS: "boss@example.com", TRUSTED_PROXIES: "127.0.0.1", LOG_LEVEL: "info" },
      overrides: { logger },
    });
    try {
      const boss = await logged.signUp({ email: "boss@example.com", name: "Boss" });
      const s = await logged.signUp();
      const headers = { ...boss.headers, "x-request-id": "adjust-1", "x-forwarded-for": "203.0.113.9" };
      const res = await logged.json("POST", "/api/admin/credits", {
        body: { userId: s.userId, amount: 5, reason: "goodwill" },
        headers,
      });
      expect(res.status).toBe(201);
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.filter((l) => l.msg === "admin credit adjustment")).toEqual([
        expect.objectContaining({
          requestId: "adjust-1",
          clientAddress: "203.0.113.9",
          adminId: boss.userId,
          userId: s.userId,
          amount: 5,
        }),
      ]);
      // The request line of the same request, written by the edge, names the same request.
      expect(entries.find((l) => l.msg === "request" && l.requestId === "adjust-1")).toMatchObject({
        clientAddress: "203.0.113.9",
        status: 201,
      });
    } finally {
      await logged.close();
    }
  });
});

describe("GET /api/admin/users", () => {
  test("lists users with balance, role and guest flag, newest first, paginated", async () => {
    const a = await t.signUp({ name: "Zed Listing" });
    const g = await t.signInAnonymous();
    const first = await t.json("GET", "/api/admin/users?limit=2", { headers: admin.headers });
    expect(first.status).toBe(200);
    const page1 = expectSchema(AdminUserListSchema, first.body);
    expect(page1.data.map((u) => u.id)).toEqual([g.userId, a.userId]);
    expect(page1.data[0]).toMatchObject({ isAnonymous: true, balance: 1 });
    expect(page1.data[1]).toMatchObject({ isAnonymous: false, balance: 3, name: "Zed Listing", role: "user" });
    expect(Object.keys(page1.data[0] ?? {}).sort()).toEqual(
      ["balance", "createdAt", "email", "id", "isAnonymous", "name", "role"].sort(),
    );
    // walk everything
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
      const res = await t.json("GET", `/api/admin/users${q}`, { headers: admin.headers });
      const body = expectSchema(AdminUserListSchema, res.body);
      ids.push(...body.data.map((u) => u.id));
      cursor = body.nextCursor;
    } while (cursor);
    const all = await t.db.select({ id: user.id }).from(user);
    expect(new Set(ids).size).toBe(all.length);
    expect(ids).toHaveLength(all.length);
    expect(ids).toContain(admin.userId);
  });

  test("search matches email or name, case-insensitively, with LIKE wildcards taken literally", async () => {
    const a = await t.signUp({ email: "grace.hopper@example.com", name: "Grace" });
    const b = await t.signUp({ name: "Hopper_100%" });
    const byEmail = await t.json("GET", "/api/admin/users?search=GRACE.HOP", { headers: admin.headers });
    expect(expectSchema(AdminUserListSchema, byEmail.body).data.map((u) => u.id)).toEqual([a.userId]);
    const byName = await t.json("GET", `/api/admin/users?search=${encodeURIComponent("_100%")}`, {
      headers: admin.headers,
    });
    expect(byName.body.data.map((u: { id: string }) => u.id)).toEqual([b.userId]);
    expectError(
      await t.json("GET", "/api/admin/users?search=a%00b", { headers: admin.headers }),
      400,
      "validation_error",
    );
    const none = await t.json("GET", "/api/admin/users?search=%25", { headers: admin.headers });
    expect(none.body.data.map((u: { id: string }) => u.id)).toEqual([b.userId]);
  });
});

describe("GET /api/admin/analytics", () => {
  test("users, predictions, credits and revenue for the default range", async () => {
    const buyer = await t.signUp();
    const order = polarOrder({
      productId: "prod-starter",
      externalCustomerId: buyer.userId,
      totalAmount: 500,
      metadata: { userId: buyer.userId, packageId: "starter" },
    });
    const d = signWebhook(polarEvent("order.paid", order), WEBHOOK_SECRET);
    expect((await t.json("POST", "/api/webhooks/polar", { body: d.body, headers: d.headers })).status).toBe(202);
    const refund = signWebhook(
      polarEvent("order.refunded", { ...order, status: "partially_refunded", refunded_amount: 100 }),
      WEBHOOK_SECRET,
    );
    expect((await t.json("POST", "/api/webhooks/polar", { body: refund.body, headers: refund.headers })).status).toBe(
      202,
    );
    await t.db.insert(prediction).values([
      { userId: buyer.userId, model: "nano-banana", status: "succeeded", input: {}, prompt: "p", creditsCharged: 1 },
      { userId: buyer.userId, model: "nano-banana", status: "failed", input: {}, prompt: "p", creditsCharged: 1 },
      { userId: buyer.userId, model: "recraft-v3", status: "processing", input: {}, prompt: "p", creditsCharged: 2 },
    ]);
    // The range is [from, to) with `to` the read's own now in whole milliseconds, and rows are stamped one by one
    // (clock_timestamp): a read in the millisecond of the last writes leaves them out (a fast run once counted 1 of
    // these 3 predictions). The read comes in a later millisecond than every row above.
    const written = Date.now();
    await eventually(() => Date.now() > written);

    const res = await t.json("GET", "/api/admin/analytics", { headers: admin.headers });
    expect(res.status).toBe(200);
    const a = expectSchema(AnalyticsSchema, res.body);
    const to = new Date(a.range.to).getTime();
    expect(to - new Date(a.range.from).getTime()).toBe(30 * 24 * 60 * 60 * 1000);
    expect(Math.abs(to - Date.now())).toBeLessThan(60_000);

    const [counts] = await t.db
      .select({
        total: sql<number>`count(*)::int`,
        anon: sql<number>`count(*) filter (where ${user.isAnonymous})::int`,
      })
      .from(user);
    expect(a.users).toEqual({
      total: counts?.total ?? -1,
      anonymous: counts?.anon ?? -1,
      registered: (counts?.total ?? 0) - (counts?.anon ?? 0),
      newInRange: counts?.total ?? -1,
    });
    expect(a.predictions.total).toBe(3);
    expect(a.predictions.byStatus).toEqual({ queued: 0, processing: 1, succeeded: 1, failed: 1, canceled: 0 });
    expect(a.predictions.byModel).toEqual([
      { model: "nano-banana", count: 2 },
      { model: "recraft-v3", count: 1 },
    ]);
    // 10 credits bought; 100/500 refunded → 2 taken back
    expect(a.credits.purchased).toBe(10);
    expect(a.credits.purchaseRefunded).toBe(2);
    const [sums] = await t.db
      .select({
        outstanding: sql<number>`(select coalesce(sum(balance), 0)::int from credit_account)`,
        adjusted: sql<number>`coalesce(sum(amount) filter (where type = 'admin_adjustment'), 0)::int`,
        bonus: sql<number>`coalesce(sum(amount) filter (where type = 'signup_bonus'), 0)::int`,
      })
      .from(creditTransaction);
    expect(a.credits.outstanding).toBe(sums?.outstanding ?? -1);
    expect(a.credits.adjusted).toBe(sums?.adjusted ?? -1);
    expect(a.credits.bonus).toBe(sums?.bonus ?? -1);
    expect(a.revenue).toEqual([{ currency: "usd", orders: 1, grossCents: 500, refundedCents: 100, netCents: 400 }]);
  });

  test("an explicit range outside the activity is empty; from after to is 400", async () => {
    const res = await t.json("GET", "/api/admin/analytics?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z", {
      headers: admin.headers,
    });
    const a = expectSchema(AnalyticsSchema, res.body);
    expect(a.range).toEqual({ from: "2020-01-01T00:00:00.000Z", to: "2020-02-01T00:00:00.000Z" });
    expect(a.users.newInRange).toBe(0);
    expect(a.predictions.total).toBe(0);
    expect(a.credits.purchased).toBe(0);
    expect(a.revenue).toEqual([]);
    expect(a.credits.outstanding).toBeGreaterThan(0);
    expectError(
      await t.json("GET", "/api/admin/analytics?from=2020-02-01T00:00:00Z&to=2020-01-01T00:00:00Z", {
        headers: admin.headers,
      }),
      400,
      "validation_error",
    );
    expectError(
      await t.json("GET", "/api/admin/analytics?from=yesterday", { headers: admin.headers }),
      400,
      "validation_error",
    );
    // dates PostgreSQL cannot hold are 400, not 500
    for (const q of ["from=0000-01-01T00:00:00Z", "to=+275760-09-13T00:00:00Z", "from=1969-12-31T00:00:00Z"])
      expectError(
        await t.json("GET", `/api/admin/analytics?${q}`, { headers: admin.headers }),
        400,
        "validation_error",
      );
    const badCursor = Buffer.from(JSON.stringify(["0000-01-01T00:00:00.000Z", crypto.randomUUID()])).toString(
      "base64url",
    );
    expectError(
      await t.json("GET", `/api/admin/users?cursor=${badCursor}`, { headers: admin.headers }),
      400,
      "validation_error",
    );
  });
});

describe("deleting users whose credits history is kept", () => {
  const origin = { origin: "http://localhost:3000" };
  test("a guest with credits cannot delete itself (409); its session, balance and ledger stay", async () => {
    const g = await t.signInAnonymous();
    const res = await t.json("POST", "/api/auth/delete-anonymous-user", { headers: { ...g.headers, ...origin } });
    expectError(res, 409, "conflict");
    const after = await t.json("GET", "/api/credits", { headers: g.headers });
    expect(after.status).toBe(200);
    expect(after.body.balance).toBeGreaterThan(0);
    expect(await ledgerSum(g.userId)).toBe(after.body.balance);
  });

  test("an admin cannot remove a user with a ledger (409, the user stays); a user without one is removed", async () => {
    const s = await t.signUp();
    const remove = (userId: string, headers = admin.headers) =>
      t.json("POST", "/api/auth/admin/remove-user", { body: { userId }, headers: { ...headers, ...origin } });
    expectError(await remove(s.userId), 409, "conflict");
    expect(await t.db.select().from(user).where(eq(user.id, s.userId))).toHaveLength(1);
    expect(await balanceOf(s.userId)).toBe(3);
    // Not an admin: Better Auth's own refusal, whatever the target has.
    expect((await remove(s.userId, s.headers)).status).toBe(403);

    const bare = await createTestApp({
      database: t.database,
      env: { ...polarEnv(fake, { ADMIN_EMAILS: "chief@example.com" }), SIGNUP_CREDITS: "0" },
    });
    try {
      const empty = await bare.signUp();
      expect(await ledgerSum(empty.userId)).toBe(0);
      expect((await remove(empty.userId)).status).toBe(200);
      expect(await t.db.select().from(user).where(eq(user.id, empty.userId))).toHaveLength(0);
    } finally {
      await bare.close();
    }
  });
});
