/**
 * `npm run bench`: the service against the bare limit on the same runtime, each server its own
 * process, load from autocannon in another process (scripts/bench/load.ts).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench
 *   npm run bench -- --runtime node        (or BENCH_RUNTIME=node: every server on Node)
 *
 * With DATABASE_URL (or BENCH_DATABASE_URL) a fresh database logo_bench_<time> is created on that
 * server and dropped at the end; without one the service runs on PGlite and the figures are printed
 * but not judged. Prints a table and writes bench/results.json. Exits by itself within 5 minutes and
 * stops its processes and drops its database on error, SIGINT and SIGTERM too.
 *
 * Every server runs at once (the bare limits and the service); the targets are measured in BENCH_ROUNDS (3)
 * interleaved rounds and each reports its median round, with the serving process's CPU time per request. A
 * ratio is the median of the per-round ratios (target and base measured in the same round); goals are judged
 * on the CPU ratio (base µs/request ÷ target's), the throughput ratio is reported beside it.
 *
 * The measured service runs at production defaults: NODE_ENV=production (BENCH_NODE_ENV) and LOG_LEVEL=info
 * (BENCH_LOG_LEVEL), so it writes its request line. Goals are judged against bare servers that log nothing (the
 * physical limit); the same bare servers writing a request line like the service's (scripts/bench/serve.ts) run
 * beside them, and each goal's row also shows its ratio to those ("CPU ratio, logging bare"). A second service at
 * the other level (warn when the first is at info) serves the *-warn targets, so the request line's own cost is
 * the difference of the same run (BENCH_LOG_COMPARE=0: off). POST /api/predictions needs the sandbox provider,
 * which production does not run: it goes to a service at NODE_ENV=development with everything else the same.
 * On Node the services are the compiled build (dist/index.js, built when stale). BENCH_SANDBOX_DELAY_MS: the
 * POST service's SANDBOX_DELAY_MS (unset: 0, so each POST also pays for the sandbox completing its prediction).
 *
 * BENCH_DURATION_S (3) per target and round, BENCH_WARMUP_S (1) in the first round, BENCH_CONNECTIONS (32),
 * BENCH_HISTORY_ROWS (100000), BENCH_MEMORY=1 with BENCH_MEMORY_REQUESTS (200000): the service's RSS
 * after 10,000 and after that many more requests. BENCH_STRICT=1: exit 1 when a goal is missed.
 *
 * For profiling: BENCH_ONLY=credits,post (target ids; the bare limits always run) and BENCH_PROFILE_DIR=dir,
 * which starts the service with the runtime's CPU profiler (Bun: --cpu-prof-md; Node: --cpu-prof) and
 * writes the profile there when it stops. A profiled or partial run writes results only to BENCH_RESULTS=file.
 * The memory goal (a million requests) as its own run, since it does not fit beside the targets in five minutes:
 *   BENCH_ONLY=credits BENCH_ROUNDS=1 BENCH_MEMORY=1 BENCH_MEMORY_REQUESTS=990000 BENCH_RESULTS=bench/results-memory.json
 * The deliverables (scripts/bench/assets.ts) likewise, alone, written to bench/results-assets.json (or BENCH_RESULTS):
 *   BENCH_ONLY=assets   (BENCH_ASSET_JOBS 20 per kind, BENCH_ASSET_QUEUED 4, BENCH_ASSET_MEMORY_JOBS 1000,
 *                        BENCH_ASSET_CONCURRENCY 4; BENCH_ROUNDS and BENCH_DURATION_S as above)
 * The streams (scripts/bench/streams.ts), alone, on PostgreSQL, written to bench/results-streams.json:
 *   BENCH_ONLY=streams  (BENCH_STREAM_USERS 100 × BENCH_STREAMS_PER_PREDICTION 10 streams, BENCH_STREAM_CHANGES 100)
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { assetConfig, assetTables, runAssetBench } from "./bench/assets";
import type { LoadResult, LoadSpec } from "./bench/load";
import {
  type Child,
  cpuSeconds,
  freePort,
  killAllNow,
  type Runtime,
  repoPath,
  rssMb,
  runtimeCommand,
  startProcess,
  stopAll,
  waitReady,
} from "./bench/processes";
import { judge, type Row, table } from "./bench/report";
import {
  bearer,
  checkMoney,
  createApiKey,
  databaseVersion,
  finalPrediction,
  grantCredits,
  historySize,
  type MoneyCheck,
  openSql,
  seedHistory,
  signUp,
  unmaintainedAccountColumns,
} from "./bench/seed";
import { runStreamBench, streamConfig, streamTable } from "./bench/streams";

const HARD_LIMIT_MS = 290_000;
const env = process.env;

/** Builds dist/ (npm run build) when it is missing or older than a file under src/. */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  const built = repoPath("dist", "index.js");
  if (existsSync(built) && statSync(built).mtimeMs >= newest(repoPath("src"))) return;
  console.error("bench: dist/ is missing or older than src/: npm run build");
  const r = spawnSync("npm", ["run", "build"], { cwd: repoPath(), stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error("bench: npm run build failed");
}

function option(name: string): string | undefined {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const arg = process.argv[i] ?? "";
  return arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : process.argv[i + 1];
}

const runtime = (option("runtime") ?? env.BENCH_RUNTIME ?? "bun") as Runtime;
if (runtime !== "bun" && runtime !== "node") {
  console.error(`bench: --runtime must be bun or node, not ${runtime}`);
  process.exit(2);
}
const config = {
  runtime,
  durationS: Number(env.BENCH_DURATION_S ?? 3),
  warmupS: Number(env.BENCH_WARMUP_S ?? 1),
  rounds: Number(env.BENCH_ROUNDS ?? 3),
  connections: Number(env.BENCH_CONNECTIONS ?? 32),
  historyRows: Number(env.BENCH_HISTORY_ROWS ?? 100_000),
  poolMax: 10,
  /** The measured service's NODE_ENV (the seed and the POST target run at development, for the sandbox provider). */
  nodeEnv: env.BENCH_NODE_ENV ?? "production",
  validateResponses: false,
  memory: env.BENCH_MEMORY === "1" || env.BENCH_MEMORY === "true",
  memoryRequests: Number(env.BENCH_MEMORY_REQUESTS ?? 200_000),
  /** The measured service's level (production's default: info); the logging bare servers write their line at info. */
  logLevel: env.BENCH_LOG_LEVEL ?? "info",
  /**
   * A second service at the other level (warn beside info, info beside warn): GET /api/models and /api/credits on
   * both in the same rounds, so the cost of the per-request log line comes from one run (BENCH_LOG_COMPARE=0: off).
   */
  logCompare: env.BENCH_LOG_COMPARE !== "0" && ["info", "warn"].includes(env.BENCH_LOG_LEVEL ?? "info"),
  /** On Node the service is the compiled build (`node --enable-source-maps dist/index.js`, as npm run start:node). */
  nodeService: "node --enable-source-maps dist/index.js",
};
const databaseUrl = env.BENCH_DATABASE_URL || env.DATABASE_URL || undefined;
const strict = env.BENCH_STRICT === "1" || env.BENCH_STRICT === "true";
const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(",").map((s) => s.trim())) : null;
const profileDir = env.BENCH_PROFILE_DIR || undefined;
const profileArgs = (): string[] =>
  profileDir
    ? runtime === "bun"
      ? ["--cpu-prof-md", `--cpu-prof-dir=${profileDir}`]
      : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]
    : [];

// ── cleanup: every child process, the bench database or PGlite directory ──────────────────────────
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll();
    for (const fn of cleanups.reverse()) await fn().catch((err) => console.error(`bench: cleanup: ${err}`));
  })();
  return cleaning;
}
async function finish(code: number): Promise<never> {
  await cleanup();
  process.exit(code);
}
process.on("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, cleaning up`);
    void finish(130);
  });
setTimeout(() => {
  console.error(`bench: gave up after ${HARD_LIMIT_MS / 1000} s`);
  void finish(1);
}, HARD_LIMIT_MS).unref();

const log = (msg: string) => console.error(`bench: ${msg}`);

interface Target {
  id: string;
  name: string;
  goal?: Row["goal"];
  compare?: Row["compare"];
  /** The service's target whose answer this one must give (the floor's): checked before the rounds. */
  answersAs?: string;
  /** The process serving it (the service unless given), whose CPU time is read around each load. */
  server?: Child;
  spec: Omit<LoadSpec, "connections" | "durationS" | "warmupS">;
}

interface Round {
  result: LoadResult;
  cpuUs: number | null;
}

/** The round with the median throughput (the lower middle of an even count), so its figures belong together. */
function medianRound(runs: Round[]): Round | undefined {
  const sorted = [...runs].sort((a, b) => a.result.measured.rps - b.result.measured.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

// ── load runs ──────────────────────────────────────────────────────────────────────────────────────
async function load(spec: Omit<LoadSpec, "connections" | "durationS" | "warmupS"> & Partial<LoadSpec>) {
  const full: LoadSpec = {
    connections: config.connections,
    durationS: config.durationS,
    warmupS: config.warmupS,
    ...spec,
  };
  const child = startProcess("autocannon", "node", repoPath("scripts", "bench", "load.ts"), {
    env: { PATH: env.PATH, HOME: env.HOME },
    args: [JSON.stringify(full)],
    captureStdout: true,
  });
  const code = await child.exited;
  if (code !== 0) throw new Error(`bench: load run exited with ${code}\n${child.tail()}`);
  return JSON.parse(child.stdout()) as LoadResult;
}

/** Where two servers' answers to the same request differ (status, body, headers), or undefined. */
async function sameAnswer(a: Target["spec"], b: Target["spec"]): Promise<string | undefined> {
  const varying = new Set(["x-request-id", "ratelimit-remaining", "date", "content-length"]);
  const fetchOne = async (spec: Target["spec"]) => {
    const res = await fetch(spec.url, { headers: spec.headers ?? {} });
    const headers = [...res.headers].filter(([name]) => !varying.has(name)).sort(([x], [y]) => x.localeCompare(y));
    return { status: res.status, body: await res.text(), headers: JSON.stringify(headers) };
  };
  const [x, y] = await Promise.all([fetchOne(a), fetchOne(b)]);
  if (x.status !== y.status) return `status ${x.status}, the service's ${y.status}`;
  if (x.body !== y.body) return `body ${x.body.slice(0, 200)}, the service's ${y.body.slice(0, 200)}`;
  if (x.headers !== y.headers) return `headers ${x.headers}, the service's ${y.headers}`;
  return undefined;
}

// ── servers ───────────────────────────────────────────────────────────────────────────────────────
async function main(): Promise<number> {
  const started = new Date();
  const stamp = started.toISOString().replace(/\D/g, "").slice(0, 14);
  // Other work on the machine (a fleet test, another bench) is part of the conditions: recorded with the figures.
  const loadAverageAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const pgliteDir = mkdtempSync(join(os.tmpdir(), "logo-bench-"));
  cleanups.push(async () => rmSync(pgliteDir, { recursive: true, force: true }));

  let benchUrl: string | undefined;
  if (databaseUrl) {
    const dbName = `logo_bench_${stamp}_${process.pid}`;
    const adminClient = new pg.Client({ connectionString: databaseUrl });
    await adminClient.connect();
    await adminClient.query(`create database ${dbName}`);
    await adminClient.end();
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query(`drop database if exists ${dbName} with (force)`);
      await c.end();
      log(`dropped database ${dbName}`);
    });
    const u = new URL(databaseUrl);
    u.pathname = `/${dbName}`;
    benchUrl = u.toString();
    log(`database ${dbName} on ${u.host}`);
  } else {
    log("no DATABASE_URL: PGlite (figures are printed, not judged)");
  }
  const sqlTarget = benchUrl ? { url: benchUrl } : { pgliteDir };
  const dbEnv: Record<string, string> = benchUrl ? { DATABASE_URL: benchUrl } : { PGLITE_DIR: pgliteDir };

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const adminEmail = `bench-admin-${stamp}@bench.local`;
  const serviceEnv = {
    PATH: env.PATH,
    HOME: env.HOME,
    // Development for the seed and the POST service (the sandbox provider); the measured service gets config.nodeEnv.
    NODE_ENV: "development",
    // Responses unparsed as in production (src/schemas/respond.ts), on the development services too.
    VALIDATE_RESPONSES: String(config.validateResponses),
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: config.logLevel,
    ...dbEnv,
    DATABASE_POOL_MAX: String(config.poolMax),
    MIGRATE_ON_START: "true",
    BETTER_AUTH_SECRET: "bench-only-secret-0123456789abcdefghijklmnop",
    ADMIN_EMAILS: adminEmail,
    SIGNUP_CREDITS: "1000",
    RATE_LIMIT_STORE: "memory",
    RATE_LIMIT_STRICT_PER_MIN: "1000000000",
    RATE_LIMIT_MODERATE_PER_MIN: "1000000000",
    RATE_LIMIT_POLL_PER_MIN: "1000000000",
    // Every bench user signs up from 127.0.0.1: the per-address welcome-credit budget would starve all but the first.
    FREE_CREDITS_PER_ADDRESS_PER_DAY: "1000000000",
    RECONCILER_INTERVAL_MS: "0",
    SANDBOX_DELAY_MS: "0",
    STORAGE_DIR: join(pgliteDir, "files"),
  };
  // Node runs what production runs: the compiled build, not the sources through tsx.
  if (runtime === "node") ensureBuilt();
  const serviceFile = runtime === "node" ? repoPath("dist", "index.js") : repoPath("src", "index.ts");
  const startService = async (
    profiled = false,
    extraEnv: Record<string, string> = {},
    at: { name: string; base: string } = { name: "service", base },
  ): Promise<Child> => {
    const child = startProcess(at.name, runtime, serviceFile, {
      env: { ...serviceEnv, ...extraEnv },
      runtimeArgs: [...(runtime === "node" ? ["--enable-source-maps"] : []), ...(profiled ? profileArgs() : [])],
    });
    await waitReady(child, `${at.base}/health`);
    return child;
  };

  // The streams phase is its own run too (BENCH_ONLY=streams): 1,000 open streams, memory and change → event.
  if (only?.has("streams")) {
    const result = await runStreamBench({
      base,
      sqlTarget,
      stamp,
      startService: (extra = {}) => startService(false, { PUBLIC_URL: base, ...extra }),
      log,
    });
    const sql = await openSql(sqlTarget);
    const dbVersion = await databaseVersion(sql);
    await sql.close();
    const cpus = os.cpus();
    const text = streamTable(result);
    console.log(
      `\nLogo API streams bench, ${started.toISOString()}: ${runtime}, ${dbVersion.split(" on ")[0]}, ${cpus.length} × ${cpus[0]?.model.trim()}\n\n${text}\n`,
    );
    const resultsFile = env.BENCH_RESULTS || repoPath("bench", "results-streams.json");
    const doc = {
      date: started.toISOString(),
      commit: spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoPath() }).stdout?.toString().trim() || null,
      machine: {
        os: `${os.type()} ${os.release()}`,
        cpuModel: cpus[0]?.model.trim() ?? "unknown",
        cores: cpus.length,
        memoryMb: Math.round(os.totalmem() / 2 ** 20),
        loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
      },
      runtime,
      database: dbVersion,
      config: streamConfig,
      ...result,
      table: text,
    };
    mkdirSync(dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(doc, null, 2)}\n`);
    log(`wrote ${resultsFile}`);
    return result.changeToEvent.missed > 0 ? 1 : 0;
  }

  // The deliverables phase is its own run (BENCH_ONLY=assets): it does not fit beside the targets in five minutes.
  if (only?.has("assets")) {
    const result = await runAssetBench({
      base,
      publicUrl: base,
      storageDir: serviceEnv.STORAGE_DIR,
      sqlTarget,
      adminEmail,
      stamp,
      startService: (extra = {}) => startService(false, { PUBLIC_URL: base, ...extra }),
      load,
      log,
      rounds: config.rounds,
      durationS: config.durationS,
      warmupS: config.warmupS,
      connections: config.connections,
    });
    const sql = await openSql(sqlTarget);
    const dbVersion = await databaseVersion(sql);
    await sql.close();
    const cpus = os.cpus();
    const text = assetTables(result);
    const headline = `Logo API deliverables bench, ${started.toISOString()}: ${runtime} ${runtime === "bun" ? spawnSync(runtimeCommand("bun").cmd, ["--version"]).stdout?.toString().trim() : process.version}, ${benchUrl ? dbVersion.split(" on ")[0] : "PGlite (not judged)"}, a ${assetConfig.sourceSide}² PNG logo, ${cpus.length} × ${cpus[0]?.model.trim()}, load average ${result.loadAverageAtStart.join(" ")} at start`;
    console.log(`\n${headline}\n\n${text}\n`);
    const resultsFile = env.BENCH_RESULTS || repoPath("bench", "results-assets.json");
    const doc = {
      date: started.toISOString(),
      commit: spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoPath() }).stdout?.toString().trim() || null,
      judged: Boolean(benchUrl),
      machine: {
        os: `${os.type()} ${os.release()}`,
        cpuModel: cpus[0]?.model.trim() ?? "unknown",
        cores: cpus.length,
        memoryMb: Math.round(os.totalmem() / 2 ** 20),
      },
      runtime,
      database: dbVersion,
      config: { ...assetConfig, rounds: config.rounds, durationS: config.durationS, connections: config.connections },
      ...result,
      table: text,
    };
    mkdirSync(dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(doc, null, 2)}\n`);
    log(`wrote ${resultsFile}`);
    const missed =
      result.perKind.some((k) => k.met === false) ||
      !result.underQueue.goals.lagMet ||
      !result.underQueue.goals.creditsMet ||
      result.memory.met === false;
    return !result.money.ok ? 1 : strict && missed ? 1 : 0;
  }

  // 1. Users, a key, credits and predictions through the service's own paths.
  log(`starting the service on ${runtime} for the seed`);
  let service = await startService();
  const admin = await signUp(base, adminEmail);
  const light = await signUp(base, `bench-light-${stamp}@bench.local`);
  const heavy = await signUp(base, `bench-heavy-${stamp}@bench.local`);
  // POST load comes from as many users as connections, as a real service's does: one user's creates queue on
  // its balance row (the debit locks it), which would measure that one row's lock, not the service.
  const posters: Awaited<ReturnType<typeof signUp>>[] = [];
  if (!only || only.has("post"))
    for (let i = 0; i < config.connections; i++)
      posters.push(await signUp(base, `bench-post-${i}-${stamp}@bench.local`));
  const apiKey = await createApiKey(base, light);
  let final = { id: "", status: "" };
  for (let i = 1; i <= 9; i++) final = await finalPrediction(base, light, `Light ${i}`);
  const template = await finalPrediction(base, heavy, "Heavy");
  for (const poster of posters) await grantCredits(base, admin, poster.id, 1_000_000);
  await service.stop();

  // 2. The long history, with SQL while the service is stopped.
  log(`writing ${config.historyRows.toLocaleString("en-US")} ledger rows and predictions`);
  let sql = await openSql(sqlTarget);
  const t0 = Date.now();
  await seedHistory(sql, heavy.id, template.id, config.historyRows);
  const seedMs = Date.now() - t0;
  const unmaintained = await unmaintainedAccountColumns(sql);
  if (unmaintained.length)
    log(`credit_account has columns the history seed does not maintain: ${unmaintained.join(", ")}`);
  const seed = {
    light: await historySize(sql, light.id),
    heavy: await historySize(sql, heavy.id),
    seedMs,
    unmaintainedAccountColumns: unmaintained,
  };
  const dbVersion = await databaseVersion(sql);
  await sql.close();

  // 3. Every server at once, each its own process on the same runtime: the bare limits and the service.
  const bareConstantPort = await freePort();
  const bareSelectPort = await freePort();
  const bare = async (
    name: string,
    file: string,
    port: number,
    level: string,
    extra: Record<string, string>,
    ready = "/",
  ) => {
    const child = startProcess(name, runtime, repoPath("scripts", "bench", file), {
      env: { PATH: env.PATH, HOME: env.HOME, PORT: String(port), LOG_LEVEL: level, ...extra },
    });
    await waitReady(child, `http://127.0.0.1:${port}${ready}`);
    return child;
  };
  const selectEnv = { ...dbEnv, DATABASE_POOL_MAX: String(config.poolMax), BENCH_SELECT_USER_ID: light.id };
  // The judged limits log nothing; the logging ones write a request line like the service's (at info).
  const bareConstant = await bare("bare constant", "bare-constant.ts", bareConstantPort, "warn", {});
  const bareSelect = await bare("bare select", "bare-select.ts", bareSelectPort, "warn", selectEnv);
  const logging = config.logLevel === "info" || config.logLevel === "debug" || config.logLevel === "trace";
  const bareConstantLogPort = await freePort();
  const bareSelectLogPort = await freePort();
  const bareConstantLog = logging
    ? await bare("bare constant (logging)", "bare-constant.ts", bareConstantLogPort, "info", {})
    : undefined;
  const bareSelectLog = logging
    ? await bare("bare select (logging)", "bare-select.ts", bareSelectLogPort, "info", selectEnv)
    : undefined;
  // The contract's floor (scripts/bench/floor.ts): the judged answers with none of the design's layers, on
  // PostgreSQL only (it is its own pg.Pool), as the light user.
  const floorPort = await freePort();
  const floorTargets = ["floor-models", "floor-credits", "floor-transactions", "floor-prediction"];
  const floor =
    benchUrl && (!only || floorTargets.some((id) => only.has(id)))
      ? await bare(
          "floor",
          "floor.ts",
          floorPort,
          config.logLevel,
          {
            ...selectEnv,
            FLOOR_BEARER: light.token,
            FLOOR_USER_ID: light.id,
            FLOOR_RATE_LIMIT: serviceEnv.RATE_LIMIT_POLL_PER_MIN,
            // As the measured service: responses built, not parsed (src/schemas/respond.ts).
            NODE_ENV: config.nodeEnv,
            VALIDATE_RESPONSES: String(config.validateResponses),
          },
          "/api/models",
        )
      : undefined;
  log(`starting the service on ${runtime} at NODE_ENV=${config.nodeEnv}, LOG_LEVEL=${config.logLevel}`);
  service = await startService(true, { NODE_ENV: config.nodeEnv });
  const otherLevel = config.logLevel === "info" ? "warn" : "info";
  let otherService: Child | undefined;
  const otherPort = await freePort();
  const otherBase = `http://127.0.0.1:${otherPort}`;
  if (config.logCompare && (!only || only.has(`models-${otherLevel}`) || only.has(`credits-${otherLevel}`))) {
    log(`starting a second service on ${runtime} at LOG_LEVEL=${otherLevel}`);
    otherService = await startService(
      false,
      { NODE_ENV: config.nodeEnv, LOG_LEVEL: otherLevel, PORT: String(otherPort), MIGRATE_ON_START: "false" },
      { name: `service (${otherLevel})`, base: otherBase },
    );
  }
  // The sandbox finishes each prediction through the callback path after SANDBOX_DELAY_MS (0 in the seed): with
  // 0 the POST row pays for the create and the completion (read, update, NOTIFY) together.
  // BENCH_SANDBOX_DELAY_MS=600000 leaves the completions out of the measured minutes: the create alone.
  let postService: Child | undefined;
  const postPort = await freePort();
  const postBase = `http://127.0.0.1:${postPort}`;
  if (!only || only.has("post")) {
    log(`starting the POST service on ${runtime} (NODE_ENV=development: the sandbox provider)`);
    postService = await startService(
      false,
      {
        PORT: String(postPort),
        MIGRATE_ON_START: "false",
        ...(env.BENCH_SANDBOX_DELAY_MS ? { SANDBOX_DELAY_MS: env.BENCH_SANDBOX_DELAY_MS } : {}),
      },
      { name: "service (POST)", base: postBase },
    );
  }

  // 4. The targets, interleaved: every round measures each target once, so a drift of the machine (other
  // tenants, CPU frequency) shifts the limits and the service alike. A target's figures are those of its
  // median round; its CPU cost is the server process's CPU time over the requests it served in that load.
  const heavyLabel = `${Math.round(config.historyRows / 1000)}k`;
  const flat = (of: string) => ({ of, min: 0.85 });
  const p99 = 25;
  const at = (path: string, headers: Record<string, string> = {}) => ({ url: `${base}${path}`, headers });
  /** The 100k-row user's read, judged against the light user's same target. */
  const heavyRead = (id: string, path: string, of: string): Target => ({
    id,
    name: `GET ${path}, ${heavyLabel}-row user`,
    goal: flat(of),
    spec: at(path, bearer(heavy)),
  });
  const allTargets: Target[] = [
    {
      id: "bare-constant",
      name: "bare Hono, constant JSON",
      server: bareConstant,
      spec: { url: `http://127.0.0.1:${bareConstantPort}/` },
    },
    {
      id: "bare-select",
      name: "bare Hono + one prepared SELECT by primary key",
      server: bareSelect,
      spec: { url: `http://127.0.0.1:${bareSelectPort}/` },
    },
    ...(bareConstantLog && bareSelectLog
      ? [
          {
            id: "bare-constant-log",
            name: "bare Hono, constant JSON, request line",
            server: bareConstantLog,
            spec: { url: `http://127.0.0.1:${bareConstantLogPort}/` },
          },
          {
            id: "bare-select-log",
            name: "bare Hono + one SELECT, request line",
            server: bareSelectLog,
            spec: { url: `http://127.0.0.1:${bareSelectLogPort}/` },
          },
        ]
      : []),
    {
      id: "models",
      name: "GET /api/models",
      goal: { of: "bare-constant", min: 0.6, p99MaxMs: p99, alsoOf: "bare-constant-log" },
      spec: at("/api/models"),
    },
    { id: "health", name: "GET /health", spec: at("/health") },
    // The floor's answers, shown against the same bare servers as the goals they bound (not judged).
    ...(floor
      ? [
          {
            id: "floor-models",
            answersAs: "models",
            name: "the floor: GET /api/models",
            server: floor,
            compare: { of: "bare-constant", alsoOf: "bare-constant-log" },
            spec: { url: `http://127.0.0.1:${floorPort}/api/models` },
          },
          {
            id: "floor-credits",
            answersAs: "credits",
            name: "the floor: GET /api/credits (bearer)",
            server: floor,
            compare: { of: "bare-select", alsoOf: "bare-select-log" },
            spec: { url: `http://127.0.0.1:${floorPort}/api/credits`, headers: bearer(light) },
          },
          {
            id: "floor-transactions",
            answersAs: "transactions",
            name: "the floor: GET /api/credits/transactions?limit=20",
            server: floor,
            compare: { of: "bare-select", alsoOf: "bare-select-log" },
            spec: { url: `http://127.0.0.1:${floorPort}/api/credits/transactions?limit=20`, headers: bearer(light) },
          },
          {
            id: "floor-prediction",
            answersAs: "prediction",
            name: "the floor: GET /api/predictions/{id} (final)",
            server: floor,
            compare: { of: "bare-select", alsoOf: "bare-select-log" },
            spec: { url: `http://127.0.0.1:${floorPort}/api/predictions/${final.id}`, headers: bearer(light) },
          },
        ]
      : []),
    {
      id: "credits",
      name: "GET /api/credits (bearer)",
      goal: { of: "bare-select", min: 0.7, p99MaxMs: p99, alsoOf: "bare-select-log" },
      spec: at("/api/credits", bearer(light)),
    },
    {
      id: "credits-key",
      name: "GET /api/credits (x-api-key)",
      goal: { of: "bare-select", min: 0.7, p99MaxMs: p99, alsoOf: "bare-select-log" },
      spec: at("/api/credits", { "x-api-key": apiKey }),
    },
    {
      id: "prediction",
      name: "GET /api/predictions/{id} (final)",
      goal: { of: "bare-select", min: 0.6, p99MaxMs: p99, alsoOf: "bare-select-log" },
      spec: at(`/api/predictions/${final.id}`, bearer(light)),
    },
    {
      id: "transactions",
      name: "GET /api/credits/transactions?limit=20",
      goal: { of: "bare-select", min: 0.5, p99MaxMs: p99, alsoOf: "bare-select-log" },
      spec: at("/api/credits/transactions?limit=20", bearer(light)),
    },
    { id: "generations", name: "GET /api/generations?limit=20", spec: at("/api/generations?limit=20", bearer(light)) },
    heavyRead("credits-heavy", "/api/credits", "credits"),
    heavyRead("transactions-heavy", "/api/credits/transactions?limit=20", "transactions"),
    heavyRead("generations-heavy", "/api/generations?limit=20", "generations"),
    // The same comparisons with pages of the same size (the light user has 10 ledger rows and 9 predictions):
    // what grows with the history, apart from the page itself.
    heavyRead("transactions-heavy-same-page", "/api/credits/transactions?limit=10", "transactions"),
    heavyRead("generations-heavy-same-page", "/api/generations?limit=9", "generations"),
    // The per-request log line: the same routes on the service at the other level; its cost is printed below.
    ...(otherService
      ? [
          {
            id: `models-${otherLevel}`,
            name: `GET /api/models, LOG_LEVEL=${otherLevel}`,
            server: otherService,
            spec: { url: `${otherBase}/api/models`, headers: {} },
          },
          {
            id: `credits-${otherLevel}`,
            name: `GET /api/credits (bearer), LOG_LEVEL=${otherLevel}`,
            server: otherService,
            spec: { url: `${otherBase}/api/credits`, headers: bearer(light) },
          },
        ]
      : []),
    {
      id: "post",
      name: "POST /api/predictions (sandbox)",
      goal: { of: "bare-select", min: 0.25 },
      ...(postService ? { server: postService } : {}),
      spec: {
        url: `${postBase}/api/predictions`,
        method: "POST" as const,
        headers: { "content-type": "application/json" },
        // As many users as connections, as a real service's load: one user's creates queue on its balance row
        // (the debit locks it), which would measure that one row's lock, not the service.
        headersPerConnection: posters.map((p) => bearer(p)),
        body: JSON.stringify({ brandName: "B[<id>]", description: "bench [<id>]" }),
        idReplacement: true,
      },
    },
  ];
  const targets = allTargets.filter((t) => !only || t.id.startsWith("bare-") || only.has(t.id));
  // A floor that answered less than the service would flatter it: its status, body and headers are the service's
  // (but the request id, the rate-limit count and the date).
  const differences = new Map<string, string>();
  for (const t of targets) {
    const of = t.answersAs ? allTargets.find((o) => o.id === t.answersAs) : undefined;
    if (!of) continue;
    const difference = await sameAnswer(t.spec, of.spec);
    if (difference) differences.set(t.id, difference);
  }

  const rounds = new Map<string, Round[]>(targets.map((t) => [t.id, []]));
  for (let round = 1; round <= config.rounds; round++) {
    for (const target of targets) {
      const server = target.server ?? service;
      const cpuBefore = cpuSeconds(server.pid);
      // The first round warms every server up (JIT, pools, caches); later rounds measure at once.
      const result = await load({ ...target.spec, warmupS: round === 1 ? config.warmupS : 0 });
      const cpuAfter = cpuSeconds(server.pid);
      const served = (result.warmup?.requests ?? 0) + result.measured.requests;
      const cpuUs =
        cpuBefore !== null && cpuAfter !== null && served > 0 ? ((cpuAfter - cpuBefore) / served) * 1e6 : null;
      rounds.get(target.id)?.push({ result, cpuUs });
      const f = result.measured;
      log(
        `round ${round}, ${target.name}: ${Math.round(f.rps)} req/s, p50 ${f.p50} ms, p99 ${f.p99} ms, ${cpuUs === null ? "?" : Math.round(cpuUs)} µs CPU/request, non-2xx ${f.non2xx}`,
      );
    }
  }
  const rows: Row[] = targets.map((t) => {
    const runs = rounds.get(t.id) ?? [];
    const median = medianRound(runs);
    return {
      id: t.id,
      name: t.name,
      ...(t.goal ? { goal: t.goal } : {}),
      ...(t.compare ? { compare: t.compare } : {}),
      figures: median?.result.measured ?? null,
      cpuUsPerRequest: median?.cpuUs ?? null,
      roundsRps: runs.map((r) => Math.round(r.result.measured.rps)),
      roundsCpuUs: runs.map((r) => r.cpuUs),
      notes: [],
    };
  });
  for (const row of rows) {
    const difference = differences.get(row.id);
    if (difference) row.problem = `ANSWERS UNLIKE THE SERVICE: ${difference}`;
  }
  const post = rounds.get("post") ?? [];
  await bareConstant.stop();
  await bareSelect.stop();
  await bareConstantLog?.stop();
  await bareSelectLog?.stop();
  await floor?.stop();
  await otherService?.stop();
  await postService?.stop();

  // 5. Memory: a fresh service, RSS after 10,000 requests and after BENCH_MEMORY_REQUESTS more.
  let memory: { afterRequests: number; rssMb: number | null }[] | null = null;
  if (config.memory) {
    await service.stop();
    service = await startService(false, { NODE_ENV: config.nodeEnv });
    memory = [];
    let served = 0;
    for (const amount of [10_000, config.memoryRequests]) {
      const r = await load({ url: `${base}/api/credits`, headers: bearer(light), amount, warmupS: 0 });
      served += r.measured.requests;
      memory.push({ afterRequests: served, rssMb: rssMb(service.pid) });
      log(`RSS after ${served.toLocaleString("en-US")} requests: ${memory.at(-1)?.rssMb} MB`);
    }
  }
  await service.stop();

  // 6. No overspend after the POST run.
  sql = await openSql(sqlTarget);
  const money: MoneyCheck = await checkMoney(
    sql,
    posters.map((p) => p.id),
  );
  await sql.close();
  const created = post.reduce((n, r) => n + (r.result.warmup?.ok ?? 0) + r.result.measured.ok, 0);
  const postRow = rows.find((r) => r.id === "post");
  if (postRow && !money.ok)
    postRow.problem = `OVERSPEND CHECK FAILED: balance ${money.balance}, ledger sum ${money.ledgerSum}, ${money.charges} charges for ${money.predictions} predictions, ${money.inconsistentAccounts} inconsistent accounts`;
  if (postRow && money.predictions < created)
    postRow.problem = `${money.predictions} predictions stored for ${created} answers 201`;

  // ── report ─────────────────────────────────────────────────────────────────────────────────────
  const judged = Boolean(benchUrl);
  judge(rows, judged);
  const memoryRow = memory && memory.length === 2 ? memory : null;
  const memoryGrowth =
    memoryRow?.[0]?.rssMb && memoryRow[1]?.rssMb ? memoryRow[1].rssMb / memoryRow[0].rssMb - 1 : undefined;
  const shortNames = new Map([
    ["bare-constant", "bare constant"],
    ["bare-select", "one-SELECT"],
    ["credits", "light user"],
    ["transactions", "light user"],
    ["generations", "light user"],
  ]);
  const text = table(rows, shortNames);
  const versions = {
    bun: spawnSync(runtimeCommand("bun").cmd, ["--version"]).stdout?.toString().trim() || null,
    node:
      spawnSync(process.versions.bun ? "node" : process.execPath, ["--version"])
        .stdout?.toString()
        .trim() || null,
  };
  const cpus = os.cpus();
  const headline = [
    `Logo API bench, ${started.toISOString()}: ${runtime} (bun ${versions.bun}, node ${versions.node}),`,
    `${judged ? dbVersion.split(" on ")[0] : "PGlite (not judged)"}, ${config.connections} connections,`,
    `${config.durationS} s per target after ${config.warmupS} s warm-up, ${cpus.length} × ${cpus[0]?.model.trim()}`,
  ].join(" ");
  console.log(`\n${headline}\n\n${text}\n`);
  console.log(
    `No overspend after POST: ${money.ok ? "yes" : "NO"} (balance ${money.balance} = ledger sum ${money.ledgerSum}; ${money.charges} charges for ${money.predictions} predictions; ${money.inconsistentAccounts} inconsistent accounts)`,
  );
  console.log(
    `History: light user ${seed.light.ledger} ledger rows / ${seed.light.predictions} predictions; heavy user ${seed.heavy.ledger} / ${seed.heavy.predictions}`,
  );
  for (const r of rows) if (r.notes.length) console.log(`${r.name}: ${r.notes.join("; ")}`);
  const logLine = requestLineCost(rows, config.logLevel);
  for (const l of logLine)
    console.log(
      `Request log line, ${l.route}: ${l.lineUs} µs of ${l.infoUs} µs per request at info (${Math.round(l.share * 100)}% of the read; goal ≤ 10%: ${l.share <= 0.1 ? "met" : "**missed**"}), median of the per-round differences against the same at warn`,
    );
  if (memoryRow)
    console.log(
      `Memory (GET /api/credits): RSS ${memoryRow.map((m) => `${m.rssMb} MB after ${m.afterRequests.toLocaleString("en-US")}`).join(", ")} requests (${((memoryGrowth ?? 0) * 100).toFixed(0)}%; goal ≤ 20% after one million)`,
    );

  const results = {
    date: started.toISOString(),
    commit: spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoPath() }).stdout?.toString().trim() || null,
    durationMs: Date.now() - started.getTime(),
    judged,
    machine: {
      os: `${os.type()} ${os.release()}`,
      platform: `${process.platform}-${process.arch}`,
      cpuModel: cpus[0]?.model.trim() ?? "unknown",
      cores: cpus.length,
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
    },
    runtimes: { ...versions, used: runtime },
    database: judged ? { kind: "postgres", version: dbVersion } : { kind: "pglite", version: dbVersion },
    config,
    seed,
    targets: rows.map((r) => ({
      id: r.id,
      name: r.name,
      ...r.figures,
      cpuUsPerRequest:
        r.cpuUsPerRequest === null || r.cpuUsPerRequest === undefined ? null : Math.round(r.cpuUsPerRequest),
      roundsRps: r.roundsRps ?? [],
      roundsCpuUsPerRequest: (r.roundsCpuUs ?? []).map((x) => (x === null ? null : Math.round(x))),
      cpuRatio: r.cpuRatio ?? null,
      ratio: r.ratio ?? null,
      goal: r.goal ?? null,
      met: r.met ?? null,
      notes: r.notes,
    })),
    requestLogLine: logLine,
    post: { answered201: created, ...money },
    memory: memoryRow ? { samples: memoryRow, growth: memoryGrowth ?? null } : null,
    table: text,
  };
  // A partial or profiled run writes only where BENCH_RESULTS says (e.g. the million-request memory run, which
  // does not fit in one full run's five minutes); a full run writes bench/results.json unless told otherwise.
  const resultsFile = env.BENCH_RESULTS || (only || profileDir ? undefined : repoPath("bench", "results.json"));
  if (resultsFile) {
    mkdirSync(dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${resultsFile}`);
  } else {
    log(
      `partial or profiled run: no results file written (set BENCH_RESULTS)${profileDir ? `; profile in ${profileDir}` : ""}`,
    );
  }

  const missed = rows.some((r) => r.met === false);
  return !money.ok ? 1 : strict && missed ? 1 : 0;
}

/**
 * The request line's own cost: the same route on the service at info and at warn in the same rounds, per round
 * (info − warn) ÷ info, the median of the rounds (and the µs of the median round).
 */
function requestLineCost(rows: Row[], level: string) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ["models", "credits"].flatMap((route) => {
    const info = byId.get(level === "info" ? route : `${route}-info`);
    const warn = byId.get(level === "info" ? `${route}-warn` : route);
    const a = info?.roundsCpuUs ?? [];
    const b = warn?.roundsCpuUs ?? [];
    const shares = a.flatMap((x, i) => (x && b[i] ? [(x - (b[i] as number)) / x] : []));
    if (!info?.cpuUsPerRequest || !warn?.cpuUsPerRequest || !shares.length) return [];
    shares.sort((x, y) => x - y);
    const share = shares[Math.floor((shares.length - 1) / 2)] as number;
    return [
      {
        route: info.name.split(",")[0] ?? route,
        infoUs: Math.round(info.cpuUsPerRequest),
        warnUs: Math.round(warn.cpuUsPerRequest),
        lineUs: Math.round(info.cpuUsPerRequest * share),
        share: Math.round(share * 1000) / 1000,
      },
    ];
  });
}

main().then(
  (code) => finish(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    void finish(1);
  },
);
