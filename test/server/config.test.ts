import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, DEFAULT_CREDIT_PACKAGES, loadConfig } from "../../src/env";

const ROOT = join(import.meta.dir, "..", "..");

/** The ConfigError thrown by loadConfig for this environment (fails the test when it does not throw). */
function problemsOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig", () => {
  test("defaults: port 3000, embedded PGlite, memory rate limits, the three development packages, sandbox provider", () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe("0.0.0.0");
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.PGLITE_DIR).toBe(".data/pglite");
    expect(c.MIGRATE_ON_START).toBe(true);
    expect(c.RATE_LIMIT_STORE).toBe("memory");
    expect(c.ALLOWED_ORIGINS).toEqual(["http://localhost:3000", "http://localhost:5173"]);
    expect(c.CREDIT_PACKAGES).toEqual(DEFAULT_CREDIT_PACKAGES);
    expect(c.providerMode).toBe("sandbox");
    expect(c.BETTER_AUTH_SECRET.length).toBeGreaterThanOrEqual(32);
  });

  test("empty strings count as unset; booleans accept false/0/off", () => {
    const c = loadConfig({ PORT: "", MIGRATE_ON_START: "false", DATABASE_SSL: "1", ADMIN_EMAILS: "A@x.io, b@y.io" });
    expect(c.PORT).toBe(3000);
    expect(c.MIGRATE_ON_START).toBe(false);
    expect(c.DATABASE_SSL).toBe(true);
    expect(c.ADMIN_EMAILS).toEqual(["a@x.io", "b@y.io"]);
  });

  test("one line per bad variable, each naming it, never echoing the value", () => {
    const secretish = "s3cr3t-value-that-must-not-leak";
    const err = problemsOf({
      PORT: "abc",
      ALLOWED_ORIGINS: `not-a-url,${secretish}`,
      CREDIT_PACKAGES: `{not json ${secretish}`,
      RATE_LIMIT_STORE: secretish,
      DATABASE_URL: `mysql://${secretish}@db/x`,
    });
    const lines = err.message.split("\n");
    expect(lines[0]).toBe("Invalid configuration:");
    const body = lines.slice(1).map((l) => l.trim());
    expect(body).toHaveLength(5);
    for (const name of ["PORT", "ALLOWED_ORIGINS", "CREDIT_PACKAGES", "RATE_LIMIT_STORE", "DATABASE_URL"])
      expect(body.filter((l) => l.startsWith(`${name}: `))).toHaveLength(1);
    expect(err.problems).toEqual(body);
    expect(err.message).not.toContain(secretish);
    expect(err.message).not.toContain("mysql");
  });

  test("a package that is valid JSON but not a valid package names the field", () => {
    const err = problemsOf({
      CREDIT_PACKAGES: JSON.stringify([{ id: "Bad Id", name: "x", credits: -1, priceCents: 100 }]),
    });
    expect(err.problems).toHaveLength(1);
    const line = err.problems[0] ?? "";
    expect(line.startsWith("CREDIT_PACKAGES: ")).toBe(true);
    expect(line).toContain("0.id");
    expect(line).toContain("0.credits");
  });

  test("duplicate package ids and an empty array are rejected", () => {
    const pkg = { id: "a", name: "A", credits: 1, priceCents: 100 };
    expect(problemsOf({ CREDIT_PACKAGES: JSON.stringify([pkg, pkg]) }).problems).toEqual([
      "CREDIT_PACKAGES: package ids must be unique",
    ]);
    expect(problemsOf({ CREDIT_PACKAGES: "[]" }).problems[0]).toStartWith("CREDIT_PACKAGES: ");
  });

  test("production requires BETTER_AUTH_SECRET, and a short secret is rejected without echoing it", () => {
    expect(problemsOf({ NODE_ENV: "production" }).problems).toEqual(["BETTER_AUTH_SECRET: is required in production"]);
    const err = problemsOf({ NODE_ENV: "production", BETTER_AUTH_SECRET: "too-short-secret" });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toStartWith("BETTER_AUTH_SECRET: ");
    expect(err.message).not.toContain("too-short-secret");
  });

  test("responses are parsed against their schemas outside production unless VALIDATE_RESPONSES says otherwise", () => {
    const secret = { BETTER_AUTH_SECRET: "x".repeat(32) };
    expect(loadConfig({}).validateResponses).toBe(true);
    expect(loadConfig({ NODE_ENV: "test" }).validateResponses).toBe(true);
    expect(loadConfig({ NODE_ENV: "production", ...secret }).validateResponses).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", VALIDATE_RESPONSES: "true", ...secret }).validateResponses).toBe(true);
    expect(loadConfig({ VALIDATE_RESPONSES: "off" }).validateResponses).toBe(false);
  });

  test("production without an Eachlabs key has no provider (never the sandbox)", () => {
    const c = loadConfig({ NODE_ENV: "production", BETTER_AUTH_SECRET: "x".repeat(40) });
    expect(c.providerMode).toBe("unconfigured");
    expect(loadConfig({ EACHLABS_API_KEY: "k" }).providerMode).toBe("eachlabs");
  });
});

describe("the server process", () => {
  test("bad configuration stops the start: exit 1, one stderr line per bad variable, values not echoed", () => {
    const dir = mkdtempSync(join(tmpdir(), "logo-cfg-"));
    try {
      const res = spawnSync(process.execPath, ["src/index.ts"], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? dir,
          PORT: "abc",
          ALLOWED_ORIGINS: "not-a-url",
          PGLITE_DIR: join(dir, "db"),
        },
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(res.status).toBe(1);
      const lines = res.stderr.trim().split("\n");
      expect(lines[0]).toBe("Invalid configuration:");
      expect(
        lines
          .slice(1)
          .map((l) => l.trim().split(":")[0])
          .sort(),
      ).toEqual(["ALLOWED_ORIGINS", "PORT"]);
      expect(res.stderr).not.toContain("abc");
      expect(res.stderr).not.toContain("not-a-url");
      expect(res.stdout).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
