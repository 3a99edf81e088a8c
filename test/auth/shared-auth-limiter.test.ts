import { describe, expect, test } from "bun:test";
import { like } from "drizzle-orm";
import { rateLimitBucket } from "../../src/db/schema";
import { appsClosedAfterAll } from "../helpers/app";
import { FakeClock } from "../helpers/clock";
import { requestFrom } from "../helpers/peer";
import { expectError } from "../helpers/schemas";

/**
 * With RATE_LIMIT_STORE=postgres, Better Auth's own limiter (3 sign-in attempts per address in 10 s, on in
 * production) counts in the database: two instances on one database share each address's budget.
 */

const makeApp = appsClosedAfterAll();
const PRODUCTION = {
  NODE_ENV: "production",
  BETTER_AUTH_SECRET: "a-production-secret-of-at-least-32-chars",
  RATE_LIMIT_STORE: "postgres",
};

describe("Better Auth's limiter with RATE_LIMIT_STORE=postgres", () => {
  test("two instances on one database share the sign-in limit: the 4th attempt, on B after 3 on A, is 429", async () => {
    const clock = new FakeClock();
    const a = await makeApp({ env: PRODUCTION, overrides: { clock } });
    const b = await makeApp({ env: PRODUCTION, database: a.database, overrides: { clock } });
    const s = await a.signUp();
    const signIn = (app: typeof a, peer: string) =>
      requestFrom(app, peer, "POST", "/api/auth/sign-in/email", {
        body: { email: s.email, password: "wrong-password-123" },
      });

    const onA = [];
    for (let i = 0; i < 3; i++) onA.push((await signIn(a, "203.0.113.60")).status);
    expect(onA).toEqual([401, 401, 401]);
    const limited = await signIn(b, "203.0.113.60");
    expectError(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(10);
    // Another address has its own budget, on either instance.
    expect((await signIn(b, "203.0.113.61")).status).toBe(401);

    // The count is a row of rate_limit_bucket, on the injected clock: once its 10 s have passed, B lets it in.
    const rows = await a.db.select().from(rateLimitBucket).where(like(rateLimitBucket.key, "auth:%"));
    expect(rows.length).toBeGreaterThanOrEqual(2);
    clock.advance(10_001);
    expect((await signIn(b, "203.0.113.60")).status).toBe(401);
  });
});
