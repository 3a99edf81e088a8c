import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../db";

/**
 * Password guessing per account: at most `maxFailures` wrong passwords for one email in a 15-minute window,
 * whatever the number of addresses they come from. The window starts at the first failure and ends 15
 * minutes later; a successful sign-in ends it at once.
 *
 * An attempt is reserved (counted) before Better Auth checks the password, in one atomic upsert, so
 * concurrent guesses cannot all slip past the last free slot; once the outcome is known a success clears
 * the count and anything but a wrong password gives the slot back.
 */
export const SIGNIN_WINDOW_MS = 15 * 60 * 1000;

/** The key of an account: emails are compared trimmed and lowercased. */
export function signinKey(email: string): string {
  return email.trim().toLowerCase();
}

export type SigninReservation = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export async function reserveSigninAttempt(
  db: Database,
  email: string,
  maxFailures: number,
  now: Date,
): Promise<SigninReservation> {
  const key = signinKey(email);
  const windowStart = new Date(now.getTime() - SIGNIN_WINDOW_MS).toISOString();
  // A row whose window has passed starts over; a full window is left as it is (the where clause), and then
  // nothing is returned.
  const rows = await queryRows<{ failures: number }>(
    db,
    sql`insert into signin_failure (email, failures, window_started_at) values (${key}, 1, ${now.toISOString()})
        on conflict (email) do update set
          failures = case when signin_failure.window_started_at <= ${windowStart} then 1 else signin_failure.failures + 1 end,
          window_started_at = case when signin_failure.window_started_at <= ${windowStart} then excluded.window_started_at else signin_failure.window_started_at end
        where signin_failure.window_started_at <= ${windowStart} or signin_failure.failures < ${maxFailures}
        returning failures`,
  );
  if (rows.length) return { allowed: true };
  const [row] = await queryRows<{ window_started_at: string | Date }>(
    db,
    sql`select window_started_at from signin_failure where email = ${key}`,
  );
  const endsAt = row ? new Date(row.window_started_at).getTime() + SIGNIN_WINDOW_MS : now.getTime();
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000)) };
}

/** The attempt signed in: the account's count starts over. */
export async function clearSigninFailures(db: Database, email: string): Promise<void> {
  await db.execute(sql`delete from signin_failure where email = ${signinKey(email)}`);
}

/** The attempt ended otherwise than with a wrong password (a malformed request, an error): its slot is given back. */
export async function releaseSigninAttempt(db: Database, email: string): Promise<void> {
  await db.execute(
    sql`update signin_failure set failures = greatest(failures - 1, 0) where email = ${signinKey(email)}`,
  );
}
