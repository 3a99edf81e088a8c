import { and, eq, inArray, isNull, ne, or, sql } from "drizzle-orm";
import type { Database } from "../db";
import { user } from "../db/schemas/auth";
import type { Config } from "../env";

/**
 * In production an ADMIN_EMAILS address counts only once the account's email is verified: otherwise
 * whoever signs up first with a listed address that has no account yet would become an admin. (This
 * server sends no verification mail; operators create admins with `npm run create-admin`.)
 */
export const adminNeedsVerifiedEmail = (config: Config) => config.NODE_ENV === "production";

/**
 * ADMIN_EMAILS makes those accounts admins: new ones at sign-up (the user create hook in instance.ts), existing ones
 * here, run at start (the list is configuration, read at start). Nobody is demoted: admins can also be
 * made through Better Auth's admin API. Returns the emails promoted.
 */
export async function promoteConfiguredAdmins(
  db: Database,
  emails: readonly string[],
  opts: { verifiedOnly: boolean },
): Promise<string[]> {
  if (emails.length === 0) return [];
  const rows = await db
    .update(user)
    .set({ role: "admin" })
    .where(
      and(
        inArray(sql`lower(${user.email})`, [...emails]),
        opts.verifiedOnly ? eq(user.emailVerified, true) : undefined,
        or(isNull(user.role), ne(sql`'admin' = any(string_to_array(replace(${user.role}, ' ', ''), ','))`, true)),
      ),
    )
    .returning({ email: user.email });
  return rows.map((r) => r.email);
}
