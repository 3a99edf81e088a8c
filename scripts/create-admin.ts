/**
 * `npm run create-admin -- --email admin@example.com --password '…' [--name "Site Admin"]`
 *
 * Creates the account through Better Auth (so the password is hashed and the sign-up bonus is
 * granted like any other sign-up) when it does not exist, then gives it the admin role.
 * Idempotent: an existing account keeps its password and is only promoted. The password may also
 * come from ADMIN_PASSWORD, to keep it out of the shell history. Prints no secrets.
 */

import { parseArgs } from "node:util";
import { eq } from "drizzle-orm";
import { createAuth } from "../src/auth/instance";
import { createSessionCache } from "../src/auth/session-cache";
import { user } from "../src/db/schema";
import { openDatabase } from "../src/deps";
import { loadConfigOrExit } from "../src/env";
import { systemClock } from "../src/lib/clock";
import { createLogger } from "../src/lib/logger";

const usage = "usage: npm run create-admin -- --email <email> --password <password> [--name <name>]";

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

let args: { email?: string; password?: string; name?: string };
try {
  args = parseArgs({
    options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" } },
    strict: true,
  }).values;
} catch (err) {
  fail(`${err instanceof Error ? err.message : String(err)}\n${usage}`);
}
const email = args.email?.trim().toLowerCase();
const password = args.password ?? process.env.ADMIN_PASSWORD;
const name = args.name?.trim() || "Admin";
if (!email || !/^[^\s@]+@[^\s@]+$/.test(email)) fail(`--email is required and must be an email address\n${usage}`);

const config = loadConfigOrExit();

const database = await openDatabase(config);
try {
  if (config.MIGRATE_ON_START) await database.migrate();
  const db = database.db;
  const auth = createAuth({
    config,
    db,
    logger: createLogger({ level: "warn" }),
    sessionCache: createSessionCache(0),
    clock: systemClock,
  });

  const find = async () => (await db.select().from(user).where(eq(user.email, email)).limit(1))[0];
  let existing = await find();
  let created = false;
  if (!existing) {
    if (!password) fail(`no account for ${email}: --password (or ADMIN_PASSWORD) is required to create it`);
    if (password.length < 8 || password.length > 128) fail("the password must be 8 to 128 characters");
    try {
      await auth.api.signUpEmail({ body: { email, password, name } });
    } catch (err) {
      // Better Auth's APIError carries a safe message (e.g. "Password too short"); never the password.
      fail(`could not create ${email}: ${err instanceof Error ? err.message : String(err)}`);
    }
    existing = await find();
    if (!existing) fail(`could not create ${email}: the account was not stored`);
    created = true;
  }

  const roles = (existing.role ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  if (roles.includes("admin")) {
    console.log(
      created ? `created admin ${email} (id ${existing.id})` : `${email} is already an admin (id ${existing.id})`,
    );
  } else {
    await db
      .update(user)
      .set({ role: [...roles.filter((r) => r !== "user"), "admin"].join(",") })
      .where(eq(user.id, existing.id));
    console.log(`${created ? "created" : "promoted"} admin ${email} (id ${existing.id})`);
  }
} finally {
  await database.close();
}
