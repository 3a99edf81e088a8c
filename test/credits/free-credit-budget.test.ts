import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { creditTransaction } from "../../src/db/schema";
import { CreditBalanceSchema } from "../../src/schemas/credits";
import { appsClosedAfterAll, type TestApp } from "../helpers/app";
import { FakeClock } from "../helpers/clock";
import { requestFrom } from "../helpers/peer";
import { expectSchema } from "../helpers/schemas";

/**
 * Welcome credits are budgeted per client address: FREE_CREDITS_PER_ADDRESS_PER_DAY (default 5) in any 24
 * hours, all or nothing, shared by every instance on the database.
 */

const makeApp = appsClosedAfterAll();
/** The production default budget (createTestApp raises it for the rest of the suite). */
async function app(env: Record<string, string> = {}, clock?: FakeClock, database?: TestApp["database"]) {
  return makeApp({
    env: { FREE_CREDITS_PER_ADDRESS_PER_DAY: "5", ...env },
    overrides: clock ? { clock } : {},
    database,
  });
}

async function guest(t: TestApp, address: string, headers: Record<string, string> = {}) {
  const res = await requestFrom(t, address, "POST", "/api/auth/sign-in/anonymous", { headers });
  expect(res.status).toBe(200);
  return {
    userId: res.body.user.id as string,
    headers: { authorization: `Bearer ${res.headers.get("set-auth-token")}` },
  };
}
async function signUp(t: TestApp, address: string, headers: Record<string, string> = {}) {
  const res = await requestFrom(t, address, "POST", "/api/auth/sign-up/email", {
    headers,
    body: { email: `b-${crypto.randomUUID().slice(0, 8)}@example.com`, password: "correct-horse-battery", name: "B" },
  });
  expect(res.status).toBe(200);
  return {
    userId: res.body.user.id as string,
    headers: { authorization: `Bearer ${res.headers.get("set-auth-token")}` },
  };
}
const balance = async (t: TestApp, headers: Record<string, string>) =>
  (await t.json("GET", "/api/credits", { headers })).body.balance as number;
const welcome = async (t: TestApp, headers: Record<string, string>) => {
  const res = await t.json("GET", "/api/credits", { headers });
  expectSchema(CreditBalanceSchema, res.body);
  return res.body.welcome as { granted: number; withheld: string | null };
};
const bonusRows = (t: TestApp, userId: string) =>
  t.db
    .select()
    .from(creditTransaction)
    .where(and(eq(creditTransaction.userId, userId), eq(creditTransaction.type, "signup_bonus")));

describe("free-credit budget per client address", () => {
  test("guests and sign-ups from one address stop receiving credits at the budget; another address is unaffected", async () => {
    const clock = new FakeClock(new Date("2026-06-01T08:00:00Z"));
    const t = await app({}, clock);
    expect(t.config.ANONYMOUS_CREDITS).toBe(1);
    expect(t.config.SIGNUP_CREDITS).toBe(3);
    const a = "203.0.113.50";
    const got: number[] = [];
    // 1 + 1 + 3 = 5: the budget.
    for (const make of [guest, guest, signUp]) got.push(await balance(t, (await make(t, a)).headers));
    expect(got).toEqual([1, 1, 3]);
    // Nothing fits any more: no credits, no signup_bonus row, though the accounts work.
    const lateGuest = await guest(t, a);
    const lateUser = await signUp(t, a);
    expect(await balance(t, lateGuest.headers)).toBe(0);
    expect(await balance(t, lateUser.headers)).toBe(0);
    expect(await bonusRows(t, lateUser.userId)).toEqual([]);
    // GET /api/credits says why, for the guest and the sign-up alike; an account that got its credits says so too.
    expect(await welcome(t, lateGuest.headers)).toEqual({ granted: 0, withheld: "address_budget" });
    expect(await welcome(t, lateUser.headers)).toEqual({ granted: 0, withheld: "address_budget" });
    // Sending X-Forwarded-For from an untrusted peer changes nothing.
    const rotated = await guest(t, a, { "x-forwarded-for": "198.51.100.200" });
    expect(await balance(t, rotated.headers)).toBe(0);
    // Another address has its own budget.
    const other = await signUp(t, "203.0.113.51");
    expect(await balance(t, other.headers)).toBe(3);
    expect(await welcome(t, other.headers)).toEqual({ granted: 3, withheld: null });
    // Rolling 24 hours: a day later the address has its budget back.
    clock.advance(24 * 60 * 60 * 1000 + 1000);
    expect(await balance(t, (await signUp(t, a)).headers)).toBe(3);
  });

  test("all or nothing: a sign-up that does not fit in what is left gets nothing, a guest that fits still does", async () => {
    const t = await app();
    const a = "203.0.113.60";
    expect(await balance(t, (await signUp(t, a)).headers)).toBe(3);
    // 2 left: a sign-up (3) does not fit, a guest (1) does.
    expect(await balance(t, (await signUp(t, a)).headers)).toBe(0);
    expect(await balance(t, (await guest(t, a)).headers)).toBe(1);
    expect(await balance(t, (await guest(t, a)).headers)).toBe(1);
    expect(await balance(t, (await guest(t, a)).headers)).toBe(0);
  });

  test("a guest's sign-up draws on the budget too", async () => {
    const t = await app({ FREE_CREDITS_PER_ADDRESS_PER_DAY: "2" });
    const a = "203.0.113.70";
    const g = await guest(t, a);
    expect(await balance(t, g.headers)).toBe(1);
    // The guest signs up (linking): its credit moves over; the sign-up's 3 do not fit in the 1 left.
    const linked = await signUp(t, a, g.headers);
    expect(await balance(t, linked.headers)).toBe(1);
    expect(await bonusRows(t, linked.userId)).toEqual([]);
    expect(await welcome(t, linked.headers)).toEqual({ granted: 0, withheld: "address_budget" });
  });

  test("concurrent sign-ups from one address, on two instances, cannot both take the last credits", async () => {
    const first = await app({ SIGNUP_CREDITS: "3", FREE_CREDITS_PER_ADDRESS_PER_DAY: "3" });
    const second = await app({ SIGNUP_CREDITS: "3", FREE_CREDITS_PER_ADDRESS_PER_DAY: "3" }, undefined, first.database);
    const a = "203.0.113.80";
    const users = await Promise.all(Array.from({ length: 8 }, (_, i) => signUp(i % 2 ? second : first, a)));
    const balances = await Promise.all(users.map((u) => balance(first, u.headers)));
    expect(balances.filter((b) => b === 3)).toHaveLength(1);
    expect(balances.filter((b) => b === 0)).toHaveLength(7);
    const reasons = await Promise.all(users.map((u) => welcome(first, u.headers)));
    expect(reasons.filter((w) => w.withheld === "address_budget" && w.granted === 0)).toHaveLength(7);
    expect(reasons.filter((w) => w.withheld === null && w.granted === 3)).toHaveLength(1);
    expect(await first.ledgerViolations()).toEqual([]);
  });
});
