import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signinAddressKey, signinKey } from "../../src/services/signin-throttle";
import { createTestApp, type TestApp } from "../helpers/app";
import { FakeClock } from "../helpers/clock";
import { requestFrom } from "../helpers/peer";
import { expectError } from "../helpers/schemas";

/**
 * Password guessing is bounded twice: SIGNIN_MAX_FAILURES wrong passwords for one email from one client address
 * lock that address out of that account for 15 minutes; SIGNIN_MAX_FAILURES_PER_ACCOUNT (5 × by default) from
 * every address together lock the account. One address cannot deny the owner; a distributed guesser is stopped.
 */

const clock = new FakeClock(new Date("2026-06-01T12:00:00Z"));
let t: TestApp;
beforeAll(async () => {
  // The production default (10); Better Auth's per-address limiter is off outside production, so only our
  // throttle is at work here.
  t = await createTestApp({ overrides: { clock } });
});
afterAll(async () => {
  await t.close();
});

const ATTACKER = "203.0.113.66";
const OWNER = "198.51.100.7";
let peer = 0;
/** Each attempt from another address (a distributed guesser). */
const signIn = (email: string, password: string) =>
  requestFrom(t, `192.0.2.${(peer++ % 250) + 1}`, "POST", "/api/auth/sign-in/email", {
    body: { email, password },
  });
/** An attempt from one address. */
const signInFrom = (address: string, email: string, password: string) =>
  requestFrom(t, address, "POST", "/api/auth/sign-in/email", { body: { email, password } });

describe("sign-in throttling per account and address", () => {
  test("10 wrong passwords from one address lock that address only: the owner signs in from their own", async () => {
    expect(t.config.SIGNIN_MAX_FAILURES).toBe(10);
    const s = await t.signUp();
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await signInFrom(ATTACKER, s.email, `wrong-password-${i}`)).status);
    expect(statuses).toEqual([...Array(10).fill(401), ...Array(5).fill(429)]);
    // The attacker's address stays locked, even with the right password.
    const refused = await signInFrom(ATTACKER, s.email, "correct-horse-battery");
    const err = expectError(refused, 429, "rate_limited");
    expect(err.details).toMatchObject({ authCode: "TOO_MANY_FAILED_SIGN_INS" });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // The owner, from their usual address, is not locked out.
    expect((await signInFrom(OWNER, s.email, "correct-horse-battery")).status).toBe(200);
    // …and the owner's success does not unlock the attacker's address.
    expectError(await signInFrom(ATTACKER, s.email, "correct-horse-battery"), 429, "rate_limited");
    clock.advance(retryAfter * 1000);
    expect((await signInFrom(ATTACKER, s.email, "correct-horse-battery")).status).toBe(200);
  });

  test("a distributed guesser stops at SIGNIN_MAX_FAILURES_PER_ACCOUNT (5 × 10) over all addresses; the owner too until the window passes", async () => {
    expect(t.config.SIGNIN_MAX_FAILURES_PER_ACCOUNT).toBe(50);
    const s = await t.signUp();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await signIn(s.email, `wrong-password-${i}`)).status);
    expect(statuses.slice(0, 50)).toEqual(Array(50).fill(401));
    expect(statuses.slice(50)).toEqual(Array(10).fill(429));

    const refused = await signInFrom(OWNER, s.email, "correct-horse-battery");
    expectError(refused, 429, "rate_limited");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);

    // Other accounts are not affected.
    const other = await t.signUp();
    expect((await signIn(other.email, "correct-horse-battery")).status).toBe(200);

    clock.advance(retryAfter * 1000);
    expect((await signInFrom(OWNER, s.email, "correct-horse-battery")).status).toBe(200);
  });

  test("emails are compared trimmed and case-insensitively", async () => {
    const s = await t.signUp();
    const mixed = s.email.replace(/^./, (ch) => ch.toUpperCase());
    const variants = [s.email, s.email.toUpperCase(), mixed];
    for (let i = 0; i < 10; i++)
      expect((await signInFrom(ATTACKER, variants[i % 3] as string, "wrong-password-x")).status).toBe(401);
    expectError(await signInFrom(ATTACKER, s.email.toUpperCase(), "correct-horse-battery"), 429, "rate_limited");
    // Better Auth refuses a padded email as malformed (400, not counted); the key is trimmed all the same.
    expect(signinKey(`  ${mixed}\t`)).toBe(s.email.toLowerCase());
  });

  test("a successful sign-in clears the count", async () => {
    const s = await t.signUp();
    for (let i = 0; i < 9; i++) expect((await signInFrom(OWNER, s.email, "wrong-password-x")).status).toBe(401);
    expect((await signInFrom(OWNER, s.email, "correct-horse-battery")).status).toBe(200);
    for (let i = 0; i < 9; i++) expect((await signInFrom(OWNER, s.email, "wrong-password-x")).status).toBe(401);
    expect((await signInFrom(OWNER, s.email, "correct-horse-battery")).status).toBe(200);
  });

  test("concurrent guesses cannot pass the limits together (one address; many addresses)", async () => {
    const s = await t.signUp();
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => signInFrom(ATTACKER, s.email, `wrong-${i}-password`)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 401)).toHaveLength(10);
    expect(statuses.filter((x) => x === 429)).toHaveLength(15);
    const spread = await t.signUp();
    const many = await Promise.all(Array.from({ length: 70 }, (_, i) => signIn(spread.email, `wrong-${i}-password`)));
    expect(many.filter((r) => r.status === 401)).toHaveLength(50);
    expect(many.filter((r) => r.status === 429)).toHaveLength(20);
  });

  test("a malformed attempt does not count", async () => {
    const s = await t.signUp();
    for (let i = 0; i < 12; i++)
      expect(
        (
          await requestFrom(t, "198.51.100.9", "POST", "/api/auth/sign-in/email", {
            body: { email: s.email, password: "x".repeat(500) },
          })
        ).status,
      ).toBe(400);
    expect((await signIn(s.email, "correct-horse-battery")).status).toBe(200);
  });

  test("a device that signed in before is not refused by the per-account bound, only by its own address's", async () => {
    const s = await t.signUp();
    const other = await t.signUp();
    // The owner signs in once on their laptop: the answer sets the account's device cookie (signed, HttpOnly).
    const first = await signInFrom(OWNER, s.email, "correct-horse-battery");
    expect(first.status).toBe(200);
    const device = first.headers
      .getSetCookie()
      .find((c) => c.startsWith("logo_device_"))
      ?.split(";")[0];
    expect(device).toBeString();
    expect(first.headers.getSetCookie().find((c) => c.startsWith("logo_device_"))).toMatch(/HttpOnly/i);
    const otherDevice = (await signInFrom(OWNER, other.email, "correct-horse-battery")).headers
      .getSetCookie()
      .find((c) => c.startsWith("logo_device_"))
      ?.split(";")[0];
    // Guessers on many addresses fill the account's bound.
    for (let i = 0; i < 50; i++) expect((await signIn(s.email, `wrong-password-${i}`)).status).toBe(401);
    expectError(await signIn(s.email, "correct-horse-battery"), 429, "rate_limited");
    const withCookie = (address: string, password: string, cookie = device ?? "") =>
      requestFrom(t, address, "POST", "/api/auth/sign-in/email", {
        body: { email: s.email, password },
        headers: { cookie },
      });
    // Without the cookie the owner is refused, even from their usual address; with it, from anywhere, signed in.
    expectError(await signInFrom(OWNER, s.email, "correct-horse-battery"), 429, "rate_limited");
    expect((await withCookie(OWNER, "correct-horse-battery")).status).toBe(200);
    // A success clears the account's count for everyone: fill it again.
    for (let i = 0; i < 50; i++) expect((await signIn(s.email, `wrong-password-${i}`)).status).toBe(401);
    expect((await withCookie("198.51.100.200", "correct-horse-battery")).status).toBe(200);
    for (let i = 0; i < 50; i++) expect((await signIn(s.email, `wrong-password-${i}`)).status).toBe(401);
    // Another account's device cookie, or a forged one, is no exemption.
    expectError(await withCookie(OWNER, "correct-horse-battery", otherDevice), 429, "rate_limited");
    const forged = `${device?.split("=")[0]}=${encodeURIComponent("forged.value.sig")}`;
    expectError(await withCookie(OWNER, "correct-horse-battery", forged), 429, "rate_limited");
    // A stolen cookie still meets its address's bound: 10 wrong passwords lock that address.
    const thief = "203.0.113.99";
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await withCookie(thief, `wrong-password-${i}`)).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
  }, 120_000);

  test("IPv6 addresses count per /64: another address of the same /64 is the same address", async () => {
    const s = await t.signUp();
    for (let i = 0; i < 10; i++)
      expect((await signInFrom(`2001:db8:1:2::${(i + 1).toString(16)}`, s.email, "wrong-password-x")).status).toBe(401);
    expectError(await signInFrom("2001:db8:1:2:ffff:ffff:ffff:ffff", s.email, "wrong-password-x"), 429, "rate_limited");
    expectError(await signInFrom("2001:0db8:0001:0002::abcd", s.email, "correct-horse-battery"), 429, "rate_limited");
    // The next /64 is another address.
    expect((await signInFrom("2001:db8:1:3::1", s.email, "correct-horse-battery")).status).toBe(200);
    expect(signinAddressKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(signinAddressKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(signinAddressKey("::1")).toBe("0:0:0:0::/64");
    expect(signinAddressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(signinAddressKey("192.0.2.1")).toBe("192.0.2.1");
    expect(signinAddressKey("server")).toBe("server");
  });

  test("the document declares the throttle on the sign-in operation", async () => {
    const doc = (await t.json("GET", "/openapi.json")).body;
    const op = doc.paths["/api/auth/sign-in/email"].post;
    expect(op.description).toContain("SIGNIN_MAX_FAILURES");
    expect(op.description).toContain("SIGNIN_MAX_FAILURES_PER_ACCOUNT");
    expect(op.responses["429"].description).toContain("15 minutes");
    expect(op.responses["429"].headers?.["Retry-After"]).toBeDefined();
  });
});
