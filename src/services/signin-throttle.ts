import { createHash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { type SQL, sql } from "drizzle-orm";
import { type Database, queryRows } from "../db";

/**
 * Password guessing, bounded twice in a 15-minute window that starts at the first failure:
 * - per (account, client address): `maxFailures` wrong passwords lock that address out of that account;
 * - per account, whatever the addresses: `maxPerAccount` (a higher bound) stops a distributed guesser.
 * So one address guessing cannot lock the owner out from their own address, and guessing stays bounded per
 * account. A successful sign-in ends the account's window and that address's, at once.
 *
 * A device that has signed in to the account before shows its device cookie (signed, per account; OWASP's
 * "device cookies"): its attempts are bounded only per address, so a distributed guesser filling the account's
 * bound does not lock the owner out of their own devices. Addresses are counted per IPv6 /64 (one subscriber's
 * or host's prefix), so rotating addresses within it gains an attacker nothing.
 *
 * An attempt is reserved (counted) in both before Better Auth checks the password, each in one atomic upsert,
 * so concurrent guesses cannot all slip past the last free slot; once the outcome is known a success clears the
 * counts and anything but a wrong password gives the slots back.
 */
export const SIGNIN_WINDOW_MS = 15 * 60 * 1000;

/** The key of an account: emails are compared trimmed and lowercased. */
export function signinKey(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The address as counted: an IPv4 address (an IPv4-mapped IPv6 address as its IPv4 form) as it is, an IPv6
 * address as its /64 prefix (`2001:db8:1:2::/64`), anything else (e.g. "server") as it is.
 */
export function signinAddressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] && isIPv4(mapped[1])) return mapped[1];
  const bare = address.replace(/%.*$/, "");
  if (!isIPv6(bare)) return address;
  const [head = "", tail] = bare.toLowerCase().split("::");
  const groups = (part: string | undefined) => (part ? part.split(":") : []);
  const left = groups(head);
  // An embedded IPv4 tail (::1.2.3.4) lies in the last 32 bits, never in the first 64.
  const right = groups(tail);
  const all =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/** The name of the device cookie for an account: one per account a browser has signed in to. */
export function deviceCookieName(email: string): string {
  return `logo_device_${deviceTag(email).slice(0, 16)}`;
}

/** What a device cookie for this account carries (before its nonce and signature): a hash, never the email. */
export function deviceTag(email: string): string {
  return createHash("sha256")
    .update(`logo-device:${signinKey(email)}`)
    .digest("base64url");
}

export type SigninReservation = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface SigninLimits {
  /** Per (account, address). */
  maxFailures: number;
  /** Per account, over every address; null for a device that has signed in to this account before. */
  maxPerAccount: number | null;
}

/** One counter row: `table` is signin_failure (by email) or signin_address_failure (by email and address). */
interface Counter {
  insert: SQL;
  conflict: SQL;
  where: SQL;
  table: SQL;
}

const accountCounter = (key: string): Counter => ({
  table: sql`signin_failure`,
  insert: sql`(email, failures, window_started_at) values (${key}, 1, `,
  conflict: sql`(email)`,
  where: sql`email = ${key}`,
});
const addressCounter = (key: string, address: string): Counter => ({
  table: sql`signin_address_failure`,
  insert: sql`(email, address, failures, window_started_at) values (${key}, ${address}, 1, `,
  conflict: sql`(email, address)`,
  where: sql`email = ${key} and address = ${address}`,
});

/** Counts one attempt unless the counter's window is full; the seconds until it ends when it is. */
async function take(db: Database, c: Counter, max: number, now: Date): Promise<number | null> {
  const windowStart = new Date(now.getTime() - SIGNIN_WINDOW_MS).toISOString();
  // A row whose window has passed starts over; a full window is left as it is (the where clause), and then
  // nothing is returned.
  const rows = await queryRows<{ failures: number }>(
    db,
    sql`insert into ${c.table} ${c.insert}${now.toISOString()})
        on conflict ${c.conflict} do update set
          failures = case when ${c.table}.window_started_at <= ${windowStart} then 1 else ${c.table}.failures + 1 end,
          window_started_at = case when ${c.table}.window_started_at <= ${windowStart} then excluded.window_started_at else ${c.table}.window_started_at end
        where ${c.table}.window_started_at <= ${windowStart} or ${c.table}.failures < ${max}
        returning failures`,
  );
  if (rows.length) return null;
  const [row] = await queryRows<{ window_started_at: string | Date }>(
    db,
    sql`select window_started_at from ${c.table} where ${c.where}`,
  );
  const endsAt = row ? new Date(row.window_started_at).getTime() + SIGNIN_WINDOW_MS : now.getTime();
  return Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000));
}

async function giveBack(db: Database, c: Counter): Promise<void> {
  await db.execute(sql`update ${c.table} set failures = greatest(failures - 1, 0) where ${c.where}`);
}

export async function reserveSigninAttempt(
  db: Database,
  email: string,
  address: string,
  limits: SigninLimits,
  now: Date,
): Promise<SigninReservation> {
  const key = signinKey(email);
  const byAddress = await take(db, addressCounter(key, signinAddressKey(address)), limits.maxFailures, now);
  if (byAddress !== null) return { allowed: false, retryAfterSeconds: byAddress };
  // A known device: only its address's bound (its failures do not count toward the account's either).
  if (limits.maxPerAccount === null) return { allowed: true };
  const byAccount = await take(db, accountCounter(key), limits.maxPerAccount, now);
  if (byAccount === null) return { allowed: true };
  await giveBack(db, addressCounter(key, signinAddressKey(address)));
  return { allowed: false, retryAfterSeconds: byAccount };
}

/** The attempt signed in: the account's count and this address's start over (other addresses keep theirs). */
export async function clearSigninFailures(db: Database, email: string, address: string): Promise<void> {
  const key = signinKey(email);
  await db.execute(sql`delete from signin_failure where email = ${key}`);
  await db.execute(
    sql`delete from signin_address_failure where email = ${key} and address = ${signinAddressKey(address)}`,
  );
}

/** The attempt ended otherwise than with a wrong password (a malformed request, an error): its slots are given back. */
export async function releaseSigninAttempt(
  db: Database,
  email: string,
  address: string,
  knownDevice = false,
): Promise<void> {
  const key = signinKey(email);
  await giveBack(db, addressCounter(key, signinAddressKey(address)));
  if (!knownDevice) await giveBack(db, accountCounter(key));
}
