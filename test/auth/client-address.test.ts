import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { session } from "../../src/db/schema";
import { loadConfig } from "../../src/env";
import { resolveClientAddress, trustedProxies } from "../../src/lib/client-address";
import { createLogger } from "../../src/lib/logger";
import { startServer } from "../../src/server";
import { appsClosedAfterAll, type TestApp } from "../helpers/app";
import { requestFrom } from "../helpers/peer";
import { expectError } from "../helpers/schemas";
import { freshDatabaseEnv } from "../server/helpers";

/**
 * One client address per request: the socket's peer, or behind a trusted proxy the right-most
 * X-Forwarded-For entry that is not a proxy. A client cannot choose its address by sending a header.
 */

const makeApp = appsClosedAfterAll();
async function app(env: Record<string, string> = {}) {
  return makeApp({ env });
}

/** A production start as far as the limits go (Better Auth's limiter is on in production). */
const PRODUCTION = { NODE_ENV: "production", BETTER_AUTH_SECRET: "a-production-secret-of-at-least-32-chars" };

describe("resolveClientAddress", () => {
  const trusted = trustedProxies(["10.0.0.0/8", "192.0.2.10", "fd00::/8"]);

  test("an untrusted peer is the client, whatever X-Forwarded-For says", () => {
    expect(resolveClientAddress("203.0.113.5", "198.51.100.1", trusted)).toBe("203.0.113.5");
    expect(resolveClientAddress("203.0.113.5", "10.0.0.1, 198.51.100.1", trusted)).toBe("203.0.113.5");
    expect(resolveClientAddress("203.0.113.5", null, trustedProxies([]))).toBe("203.0.113.5");
  });

  test("behind trusted proxies: the right-most entry that is not a proxy", () => {
    expect(resolveClientAddress("10.0.0.2", "198.51.100.1", trusted)).toBe("198.51.100.1");
    // The left-most entries were written by the client: spoofed, ignored.
    expect(resolveClientAddress("10.0.0.2", "1.2.3.4, 198.51.100.1, 192.0.2.10, 10.9.9.9", trusted)).toBe(
      "198.51.100.1",
    );
    expect(resolveClientAddress("fd00::1", "2001:db8::7", trusted)).toBe("2001:db8::7");
    // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6.
    expect(resolveClientAddress("::ffff:10.0.0.2", "198.51.100.1", trusted)).toBe("198.51.100.1");
    expect(resolveClientAddress("::ffff:203.0.113.5", "198.51.100.1", trusted)).toBe("203.0.113.5");
  });

  test("a trusted peer without X-Forwarded-For, a chain of proxies only, or garbage in the chain", () => {
    expect(resolveClientAddress("10.0.0.2", null, trusted)).toBe("10.0.0.2");
    expect(resolveClientAddress("10.0.0.2", "10.0.0.3, 10.0.0.4", trusted)).toBe("10.0.0.3");
    expect(resolveClientAddress("10.0.0.2", "198.51.100.1, not-an-ip", trusted)).toBe("10.0.0.2");
  });

  test("no socket (an in-process request) is the loopback address", () => {
    expect(resolveClientAddress(undefined, "198.51.100.1", trusted)).toBe("127.0.0.1");
  });

  test("TRUSTED_PROXIES accepts IPv4 and IPv6 addresses and ranges; a bad entry is named by position", () => {
    expect(loadConfig({ TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8, ::1, fd00::/8" }).TRUSTED_PROXIES).toEqual([
      "127.0.0.1",
      "10.0.0.0/8",
      "::1",
      "fd00::/8",
    ]);
    expect(() => loadConfig({ TRUSTED_PROXIES: "10.0.0.0/8, 10.0.0.0/33" })).toThrow(
      "TRUSTED_PROXIES: entry 2 is not an IP address or CIDR range",
    );
    expect(() => loadConfig({ TRUSTED_PROXIES: "proxy.internal" })).toThrow("TRUSTED_PROXIES: entry 1");
  });
});

describe("our rate limits", () => {
  test("an untrusted peer rotating X-Forwarded-For stays one caller", async () => {
    const t = await app({ RATE_LIMIT_MODERATE_PER_MIN: "2" });
    const get = (xff: string) =>
      requestFrom(t, "203.0.113.20", "GET", "/api/credits/packages", { headers: { "x-forwarded-for": xff } });
    expect((await get("198.51.100.1")).status).toBe(200);
    expect((await get("198.51.100.2")).status).toBe(200);
    expectError(await get("198.51.100.3"), 429, "rate_limited");
    // Another peer has its own budget.
    expect((await requestFrom(t, "203.0.113.21", "GET", "/api/credits/packages")).status).toBe(200);
  });

  test("behind a trusted proxy each forwarded client has its own budget", async () => {
    const t = await app({ RATE_LIMIT_MODERATE_PER_MIN: "1", TRUSTED_PROXIES: "10.0.0.0/8" });
    const get = (xff: string) =>
      requestFrom(t, "10.0.0.5", "GET", "/api/credits/packages", { headers: { "x-forwarded-for": xff } });
    expect((await get("198.51.100.1")).status).toBe(200);
    expectError(await get("198.51.100.1"), 429, "rate_limited");
    // A client prepending a fake hop is still itself (the right-most untrusted entry).
    expectError(await get("192.0.2.99, 198.51.100.1"), 429, "rate_limited");
    expect((await get("198.51.100.2")).status).toBe(200);
    expect((await get("198.51.100.3, 10.1.1.1")).status).toBe(200);
  });
});

describe("Better Auth's limiter and session metadata", () => {
  const signIn = (t: TestApp, peer: string, email: string, password: string, headers: Record<string, string> = {}) =>
    requestFrom(t, peer, "POST", "/api/auth/sign-in/email", { body: { email, password }, headers });

  test("rotating X-Forwarded-For from one untrusted peer does not escape the sign-in limiter", async () => {
    const t = await app(PRODUCTION);
    const s = await t.signUp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await signIn(t, "203.0.113.30", s.email, "wrong-password-123", { "x-forwarded-for": `198.51.100.${i}` }))
          .status,
      );
    // Better Auth allows 3 sign-in attempts per address in 10 s.
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
    // Sending our own header does not help either: it is replaced by the resolved address.
    const spoofed = await signIn(t, "203.0.113.30", s.email, "wrong-password-123", { "x-logo-client-ip": "192.0.2.1" });
    expectError(spoofed, 429, "rate_limited");
    expect(Number(spoofed.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("failures from one address do not lock out a client at another address", async () => {
    const t = await app(PRODUCTION);
    const s = await t.signUp();
    for (let i = 0; i < 4; i++) await signIn(t, "203.0.113.40", s.email, "wrong-password-123");
    expectError(await signIn(t, "203.0.113.40", s.email, "wrong-password-123"), 429, "rate_limited");
    // No X-Forwarded-For anywhere: the owner at another address is not in the guesser's bucket.
    const owner = await signIn(t, "203.0.113.41", s.email, "correct-horse-battery");
    expect(owner.status).toBe(200);
  });

  test("a session records the resolved client address, not a client-sent header", async () => {
    const t = await app({ TRUSTED_PROXIES: "10.0.0.0/8" });
    const s = await t.signUp();
    const res = await signIn(t, "10.0.0.7", s.email, "correct-horse-battery", {
      "x-forwarded-for": "192.0.2.200, 198.51.100.77",
      "x-logo-client-ip": "192.0.2.1",
    });
    expect(res.status).toBe(200);
    const rows = await t.db.select().from(session).where(eq(session.token, res.body.token));
    expect(rows[0]?.ipAddress).toBe("198.51.100.77");
  });
});

describe("a real server (socket addresses)", () => {
  async function serve(env: Record<string, string>) {
    const db = await freshDatabaseEnv("pglite");
    const config = loadConfig({
      ...db.env,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      RECONCILER_INTERVAL_MS: "0",
      STORAGE_DIR: `${db.env.PGLITE_DIR}-files`,
      ...env,
    });
    const server = await startServer(config, createLogger({ level: "silent" }));
    return {
      server,
      get: (xff: string) =>
        fetch(`${server.url}/api/credits/packages`, { headers: { "x-forwarded-for": xff } }).then((r) => r.status),
      async close() {
        await server.stop();
        await db.cleanup();
      },
    };
  }

  test("without TRUSTED_PROXIES rotated X-Forwarded-For changes nothing; with the peer trusted it is the client", async () => {
    const direct = await serve({ RATE_LIMIT_MODERATE_PER_MIN: "2" });
    try {
      expect([
        await direct.get("198.51.100.1"),
        await direct.get("198.51.100.2"),
        await direct.get("198.51.100.3"),
      ]).toEqual([200, 200, 429]);
    } finally {
      await direct.close();
    }
    const proxied = await serve({ RATE_LIMIT_MODERATE_PER_MIN: "1", TRUSTED_PROXIES: "127.0.0.1, ::1" });
    try {
      expect([
        await proxied.get("198.51.100.1"),
        await proxied.get("198.51.100.2"),
        await proxied.get("198.51.100.1"),
      ]).toEqual([200, 200, 429]);
    } finally {
      await proxied.close();
    }
  });
});
