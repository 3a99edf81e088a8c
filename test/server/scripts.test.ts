import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { eq } from "drizzle-orm";
import { creditAccount, user } from "../../src/db/schema";
import { openDatabase } from "../../src/deps";
import { loadConfig } from "../../src/env";
import { createLogger } from "../../src/lib/logger";
import { startServer } from "../../src/server";
import { childEnv, databaseKinds, emptyPgliteTemplate, freshDatabaseEnv, ROOT } from "./helpers";

// The initialised PGlite directory the fresh databases are copied from, made before the first test needs it.
beforeAll(async () => {
  await emptyPgliteTemplate();
});

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const PASSWORD = "admin-password-never-printed";

function createAdmin(env: Record<string, string>, args: string[], extraEnv: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, ["scripts/create-admin.ts", ...args], {
    cwd: ROOT,
    env: childEnv({ ...env, ...extraEnv }),
    encoding: "utf8",
    timeout: 25_000,
  });
  return { status: res.status, out: `${res.stdout}${res.stderr}`, stdout: res.stdout };
}

describe.each(databaseKinds())("npm run create-admin on %s", (kind) => {
  test("creates the user through Better Auth, makes it admin, is idempotent and prints no secrets", async () => {
    const db = await freshDatabaseEnv(kind);
    cleanups.push(db.cleanup);

    const first = createAdmin(db.env, ["--email", "Root@Example.com", "--password", PASSWORD, "--name", "Root"]);
    expect(first.out).not.toContain(PASSWORD);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("created admin root@example.com");

    const again = createAdmin(db.env, ["--email", "root@example.com", "--password", "a-different-password"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("root@example.com is already an admin");

    // Missing arguments fail with usage, without touching anything.
    const noEmail = createAdmin(db.env, ["--password", PASSWORD]);
    expect(noEmail.status).toBe(1);
    expect(noEmail.out).toContain("--email");
    const noPassword = createAdmin(db.env, ["--email", "new@example.com"]);
    expect(noPassword.status).toBe(1);
    expect(noPassword.out).toContain("--password");

    // The account is a real Better Auth account: it signs in with the first password and is an admin.
    const config = loadConfig({ NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "silent", ...db.env });
    const server = await startServer(config, createLogger({ level: "silent" }));
    try {
      const signIn = await fetch(`${server.url}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { origin: "http://localhost:3000", "content-type": "application/json" },
        body: JSON.stringify({ email: "root@example.com", password: PASSWORD }),
      });
      expect(signIn.status).toBe(200);
      const token = signIn.headers.get("set-auth-token");
      const users = await fetch(`${server.url}/api/admin/users`, { headers: { authorization: `Bearer ${token}` } });
      expect(users.status).toBe(200);
      const [row] = await server.deps.db.select().from(user).where(eq(user.email, "root@example.com"));
      expect(row?.role).toBe("admin");
      expect(row?.name).toBe("Root");
      const [acct] = await server.deps.db
        .select()
        .from(creditAccount)
        .where(eq(creditAccount.userId, row?.id ?? ""));
      expect(acct?.balance).toBe(config.SIGNUP_CREDITS);
    } finally {
      await server.stop();
    }
  });

  test("promotes an existing user, keeping its password; ADMIN_PASSWORD may replace --password", async () => {
    const db = await freshDatabaseEnv(kind);
    cleanups.push(db.cleanup);
    const created = createAdmin(db.env, ["--email", "ops@example.com"], { ADMIN_PASSWORD: PASSWORD });
    expect(created.status).toBe(0);
    expect(created.out).not.toContain(PASSWORD);

    // Demote, then run again: promoted, not re-created.
    const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", ...db.env });
    const database = await openDatabase(config);
    try {
      await database.db.update(user).set({ role: "user" }).where(eq(user.email, "ops@example.com"));
    } finally {
      await database.close();
    }
    const promoted = createAdmin(db.env, ["--email", "ops@example.com"]);
    expect(promoted.status).toBe(0);
    expect(promoted.stdout).toContain("promoted admin ops@example.com");
    const check = await openDatabase(config);
    try {
      const rows = await check.db.select().from(user).where(eq(user.email, "ops@example.com"));
      expect(rows.map((r) => r.role)).toEqual(["admin"]);
    } finally {
      await check.close();
    }
  });
});
