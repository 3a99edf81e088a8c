/**
 * `npm run bench`: the app on a real loopback port against a bare Bun.serve baseline that returns a
 * constant JSON body, measured with autocannon. Prints requests/s, p50/p99 latency and the ratio to
 * the baseline. Uses DATABASE_URL when set (tables are migrated; a bench user and prediction are
 * added), otherwise a throwaway PGlite directory. Bounded: ~5 s per target, exits by itself.
 *
 * BENCH_DURATION_S (default 5) and BENCH_CONNECTIONS (default 2) tune the runs.
 * The load generator runs in the same process as both servers, so absolute numbers are modest;
 * the ratio to the baseline is the figure to watch.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error autocannon ships no types
import autocannon from "autocannon";
import { loadConfig } from "../src/env";
import { createLogger } from "../src/lib/logger";
import { startServer } from "../src/server";

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 2);
const HARD_LIMIT_MS = 90_000;

const watchdog = setTimeout(() => {
  console.error(`bench: gave up after ${HARD_LIMIT_MS / 1000} s`);
  process.exit(1);
}, HARD_LIMIT_MS);
watchdog.unref?.();

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

async function measure(name: string, url: string, headers: Record<string, string> = {}): Promise<Result> {
  const r = (await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION_S })) as AutocannonResult;
  return {
    name,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

const pgliteDir = process.env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), "logo-bench-"));
const config = loadConfig({
  ...process.env,
  NODE_ENV: "test",
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_LEVEL: "silent",
  MIGRATE_ON_START: "true",
  // The bench measures the handlers, not the limiter's 429s.
  RATE_LIMIT_STORE: "memory",
  RATE_LIMIT_STRICT_PER_MIN: "1000000000",
  RATE_LIMIT_MODERATE_PER_MIN: "1000000000",
  RATE_LIMIT_POLL_PER_MIN: "1000000000",
  RECONCILER_INTERVAL_MS: "0",
  SANDBOX_DELAY_MS: "0",
  EACHLABS_API_KEY: "",
  ...(pgliteDir ? { PGLITE_DIR: pgliteDir } : {}),
});

const constant = JSON.stringify({ status: "ok", version: "1.0.0" });
const baseline = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => new Response(constant, { headers: { "content-type": "application/json" } }),
});
const server = await startServer(config, createLogger({ level: "silent" }));

const results: Result[] = [];
try {
  const origin = { origin: "http://localhost:3000" };
  const signUp = await fetch(`${server.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { ...origin, "content-type": "application/json" },
    body: JSON.stringify({
      email: `bench-${Date.now()}@example.com`,
      password: "bench-password-1",
      name: "Bench",
    }),
  });
  const token = signUp.headers.get("set-auth-token");
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

  let predictionId: string | undefined;
  if (token) {
    const created = await fetch(`${server.url}/api/predictions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ brandName: "Bench" }),
    });
    if (created.status === 201) {
      predictionId = ((await created.json()) as { id: string }).id;
      // Wait for it to be final, so the bench reads storage and never the provider.
      const done = await fetch(`${server.url}/api/predictions/${predictionId}`, {
        headers: { ...auth, prefer: "wait=10" },
      });
      const status = ((await done.json()) as { status: string }).status;
      if (!["succeeded", "failed", "canceled"].includes(status)) predictionId = undefined;
    }
  }

  results.push(await measure("baseline (Bun.serve, constant JSON)", `http://127.0.0.1:${baseline.port}/`));
  results.push(await measure("GET /health", `${server.url}/health`));
  results.push(await measure("GET /api/models", `${server.url}/api/models`));
  if (token) results.push(await measure("GET /api/credits (bearer)", `${server.url}/api/credits`, auth));
  else console.error("bench: sign-up failed; skipping GET /api/credits");
  if (predictionId)
    results.push(
      await measure("GET /api/predictions/{id} (final)", `${server.url}/api/predictions/${predictionId}`, auth),
    );
  else console.error("bench: no final prediction; skipping GET /api/predictions/{id}");
} finally {
  await server.stop();
  baseline.stop(true);
  if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true });
}

const base = results[0]?.rps || 1;
const rows = results.map((r) => [
  r.name,
  r.rps.toFixed(0),
  String(r.p50),
  String(r.p99),
  `${((r.rps / base) * 100).toFixed(1)}%`,
  r.errors || r.non2xx ? `${r.errors} err, ${r.non2xx} non-2xx` : "",
]);
const header = ["target", "req/s", "p50 ms", "p99 ms", "vs baseline", "problems"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
console.log(
  `\nLogo API bench: ${DURATION_S} s per target, ${CONNECTIONS} connections, database ${server.deps.database.kind}, ${process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.versions.node}`}\n`,
);
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows) console.log(line(r));
const failed = results.some((r) => r.errors > 0 || r.non2xx > 0);
process.exit(failed ? 1 : 0);
