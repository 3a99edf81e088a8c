import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/env";
import { createLogger } from "../../src/lib/logger";
import { startServer } from "../../src/server";
import { appsClosedAfterAll } from "../helpers/app";
import { FakeClock } from "../helpers/clock";
import { expectError } from "../helpers/schemas";
import { freshDatabaseEnv } from "./helpers";

/** /metrics in production: private (METRICS_TOKEN) or absent; its business gauges cached, not aggregated per scrape. */

const PRODUCTION = { NODE_ENV: "production", BETTER_AUTH_SECRET: "a-production-secret-of-at-least-32-chars" };

const makeApp = appsClosedAfterAll();
async function app(env: Record<string, string>, clock?: FakeClock) {
  return makeApp({ env, overrides: clock ? { clock } : {} });
}

const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("GET /metrics privacy", () => {
  test("in production without METRICS_TOKEN it does not exist: 404 in our envelope, whatever is sent", async () => {
    const t = await app(PRODUCTION);
    expectError(await t.json("GET", "/metrics"), 404, "not_found");
    expectError(await t.json("GET", "/metrics", { headers: { authorization: "Bearer anything" } }), 404, "not_found");
  });

  test("in production with METRICS_TOKEN: 401 without it, 200 with it", async () => {
    const t = await app({ ...PRODUCTION, METRICS_TOKEN: "prod-metrics-token" });
    expectError(await t.json("GET", "/metrics"), 401, "unauthorized");
    const ok = await t.fetch("/metrics", { headers: { authorization: "Bearer prod-metrics-token" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("logo_users");
  });

  test("outside production without a token it stays open", async () => {
    const t = await app({ NODE_ENV: "development" });
    expect((await t.fetch("/metrics")).status).toBe(200);
  });

  test("the document declares 404 and says when the endpoint exists", async () => {
    const t = await app({});
    const op = (await t.json("GET", "/openapi.json")).body.paths["/metrics"].get;
    expect(op.responses[404].content["application/json"].schema.$ref).toBe("#/components/schemas/Error");
    expect(op.description).toContain("does not exist in production");
  });

  test("the start log says /metrics is off in production without a token", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(l) } });
    const db = await freshDatabaseEnv("pglite");
    const config = loadConfig({ ...db.env, ...PRODUCTION, PORT: "0", HOST: "127.0.0.1", RECONCILER_INTERVAL_MS: "0" });
    const server = await startServer(config, logger);
    try {
      expect(lines.some((l) => l.includes("/metrics is off (404)"))).toBe(true);
    } finally {
      await server.stop();
      await db.cleanup();
    }
  });
});

// On PGlite, or PostgreSQL when TEST_DATABASE_URL is set (createTestApp's database).
describe("business gauges", () => {
  test("are computed at most once per 15 s: a scrape within that reads the cached values", async () => {
    const clock = new FakeClock();
    const t = await app({ METRICS_TOKEN: "t" }, clock);
    const scrape = async () => (await t.fetch("/metrics", { headers: { authorization: "Bearer t" } })).text();
    await t.signUp();
    expect(value(await scrape(), 'logo_users{kind="registered"}')).toBe(1);
    await t.signUp();
    await t.signInAnonymous();
    const cached = await scrape();
    expect(value(cached, 'logo_users{kind="registered"}')).toBe(1);
    expect(value(cached, 'logo_users{kind="anonymous"}')).toBe(0);
    clock.advance(15_000);
    const fresh = await scrape();
    expect(value(fresh, 'logo_users{kind="registered"}')).toBe(2);
    expect(value(fresh, 'logo_users{kind="anonymous"}')).toBe(1);
    expect(value(fresh, "logo_credits_outstanding")).toBe(3 + 3 + 1);
  });
});
