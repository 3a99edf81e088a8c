import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { ASSET_KINDS, type AssetKind } from "../../src/services/deliverables";
import { resvgFont } from "../../src/services/imaging/fonts";
import type { LoadResult, LoadSpec } from "./load";
import { type Child, cpuSeconds, rssMb } from "./processes";
import { type BenchUser, bearer, finalPrediction, grantCredits, openSql, type Sql, signUp } from "./seed";

/**
 * The deliverables phase of `npm run bench` (BENCH_ONLY=assets): the service as its own process on the bench's
 * database, the source a 1024² flat logo PNG put in the service's STORAGE_DIR as the output of a succeeded sandbox
 * prediction (the sandbox draws 512² logos; the goals are stated for 1024²). Three parts, each on a fresh service:
 *
 * 1. Time to `succeeded`, per kind: BENCH_ASSET_JOBS (20) jobs per kind, one at a time, kinds interleaved, after
 *    two unrecorded warm-up jobs per kind; the client's time from sending the POST to the answer saying
 *    `succeeded` (GET /api/assets/{id} with `Prefer: wait=30`). Goals: vector p50 ≤ 400 ms, brand kit ≤ 3 s.
 * 2. Under a queue, ASSET_WORKERS=1: brand kits kept at ≥ BENCH_ASSET_QUEUED (4) queued behind the one
 *    running (topped up every 50 ms). In BENCH_ROUNDS interleaved rounds: the event loop's lag read from the
 *    service's own /metrics (monitorEventLoopDelay, reset at each scrape) over a quiet window and a window of
 *    `GET /api/credits` load, first with no job, then with the queue; credits throughput loaded / idle per round.
 *    Goals: lag p99 ≤ 50 ms with the queue; credits ≥ 50% of idle throughput.
 * 3. RSS over BENCH_ASSET_MEMORY_JOBS (1,000) jobs, vector and transparent alternating, BENCH_ASSET_CONCURRENCY (4)
 *    in flight, ASSET_WORKERS at its default: the service's RSS from /proc every 50 jobs. Goal (the bench's):
 *    the last sample within 20% of the sample after the first 50 jobs.
 */

export const KINDS = ASSET_KINDS;
type Kind = AssetKind;

type LoadFn = (
  spec: Omit<LoadSpec, "connections" | "durationS" | "warmupS"> & Partial<LoadSpec>,
) => Promise<LoadResult>;

export interface AssetBenchContext {
  base: string;
  /** The service's PUBLIC_URL (prediction outputs are `{PUBLIC_URL}/files/{key}`). */
  publicUrl: string;
  storageDir: string;
  sqlTarget: { url: string } | { pgliteDir: string };
  adminEmail: string;
  stamp: string;
  startService(extraEnv?: Record<string, string>): Promise<Child>;
  load: LoadFn;
  log(msg: string): void;
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
}

const env = process.env;
export const assetConfig = {
  jobsPerKind: Number(env.BENCH_ASSET_JOBS ?? 20),
  queued: Number(env.BENCH_ASSET_QUEUED ?? 4),
  memoryJobs: Number(env.BENCH_ASSET_MEMORY_JOBS ?? 1000),
  memoryConcurrency: Number(env.BENCH_ASSET_CONCURRENCY ?? 4),
  memorySampleEvery: 50,
  sourceSide: 1024,
};

/** A flat logo: a ring, a dot, a bar and a wordmark (bundled font) on white, anti-aliased as rendered. */
export function logoPng(side = assetConfig.sourceSide): Uint8Array {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 1024 1024">
<rect width="1024" height="1024" fill="#FFFFFF"/>
<circle cx="512" cy="390" r="270" fill="#2563EB"/><circle cx="512" cy="390" r="150" fill="#FFFFFF"/>
<circle cx="512" cy="390" r="64" fill="#F97316"/><rect x="212" y="690" width="600" height="24" rx="12" fill="#059669"/>
<text x="512" y="880" font-family="DejaVu Sans" font-weight="bold" font-size="130" text-anchor="middle" fill="#111827">Acme</text>
</svg>`;
  return new Uint8Array(new Resvg(svg, { font: resvgFont, fitTo: { mode: "width", value: side } }).render().asPng());
}

// ── statistics ────────────────────────────────────────────────────────────────────────────────────────
/** Nearest-rank percentile (over 20 samples p99 is the largest). */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
const median = (xs: number[]) => percentile(xs, 50);
const r1 = (x: number) => Math.round(x * 10) / 10;

/** Busy share of the whole machine (all cores, every process) between two readings of /proc/stat. */
function cpuTimes(): { busy: number; total: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}
function machineBusy(from: ReturnType<typeof cpuTimes>, to: ReturnType<typeof cpuTimes>): number | null {
  if (!from || !to || to.total <= from.total) return null;
  return Math.round(((to.busy - from.busy) / (to.total - from.total)) * 100) / 100;
}

// ── HTTP ──────────────────────────────────────────────────────────────────────────────────────────────
interface AssetBody {
  id: string;
  status: string;
  createdAt?: string;
  completedAt?: string | null;
  error?: { code: string } | null;
}
const FINAL = new Set(["succeeded", "failed"]);

async function order(base: string, u: BenchUser, predictionId: string, kind: Kind): Promise<AssetBody> {
  const res = await fetch(`${base}/api/predictions/${predictionId}/assets`, {
    method: "POST",
    headers: { ...bearer(u), "content-type": "application/json" },
    body: JSON.stringify({ kind }),
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 201) throw new Error(`bench: POST assets (${kind}) answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as AssetBody;
}

async function untilFinal(base: string, u: BenchUser, created: AssetBody): Promise<AssetBody> {
  let a = created;
  for (let i = 0; !FINAL.has(a.status); i++) {
    if (i >= 10) throw new Error(`bench: asset ${a.id} not final after ${i} waits (status ${a.status})`);
    const res = await fetch(`${base}/api/assets/${a.id}`, {
      headers: { ...bearer(u), prefer: "wait=30" },
      signal: AbortSignal.timeout(40_000),
    });
    if (res.status !== 200) throw new Error(`bench: GET asset answered ${res.status}: ${await res.text()}`);
    a = (await res.json()) as AssetBody;
  }
  return a;
}

/** One job: POST, then held GETs until final. `ms` is the client's time from sending the POST to the final answer. */
async function job(base: string, u: BenchUser, predictionId: string, kind: Kind) {
  const t0 = performance.now();
  const final = await untilFinal(base, u, await order(base, u, predictionId, kind));
  const ms = performance.now() - t0;
  const serverMs =
    final.createdAt && final.completedAt ? Date.parse(final.completedAt) - Date.parse(final.createdAt) : null;
  return { id: final.id, status: final.status, error: final.error?.code ?? null, ms, serverMs };
}

/** The name of the summary read from /metrics, for the results. */
let lagMetric: string | null = null;

/** The service's own event-loop lag since its previous scrape (GET /metrics; the summary resets on each scrape), ms. */
async function scrapeLag(base: string): Promise<{ p50: number; p99: number; max: number } | null> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const q = (quantile: string) => {
    const m = new RegExp(
      `^\\w*event_loop_lag_seconds\\{quantile="${quantile.replace(".", "\\.")}"\\} (\\S+)$`,
      "m",
    ).exec(text);
    return m ? Number(m[1]) * 1000 : null;
  };
  const p50 = q("0.5");
  const p99 = q("0.99");
  const max = q("1");
  if (p50 === null || p99 === null) return null;
  lagMetric = /^(\w*event_loop_lag_seconds)\{/m.exec(text)?.[1] ?? null;
  return { p50: r1(p50), p99: r1(p99), max: r1(max ?? p99) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function activeCounts(sql: Sql): Promise<{ queued: number; processing: number }> {
  const { rows } = await sql.query<{ queued: number; processing: number }>(
    `select count(*) filter (where status = 'queued')::int as queued,
            count(*) filter (where status = 'processing')::int as processing
     from asset where status in ('queued', 'processing')`,
  );
  return rows[0] ?? { queued: 0, processing: 0 };
}

// ── the phase ─────────────────────────────────────────────────────────────────────────────────────────
export async function runAssetBench(ctx: AssetBenchContext) {
  const { base, log } = ctx;
  const started = Date.now();
  const loadAverageAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);

  // Seed: a user with credits and one succeeded sandbox prediction, through the service's own paths; then the
  // prediction's output becomes a 1024² PNG written into the service's storage under a key of ours.
  log("assets: seeding (a user, credits, a succeeded sandbox prediction)");
  let service = await ctx.startService();
  const admin = await signUp(base, ctx.adminEmail);
  const user = await signUp(base, `bench-assets-${ctx.stamp}@bench.local`);
  await grantCredits(base, admin, user.id, 1_000_000);
  const prediction = await finalPrediction(base, user, "Acme");
  await service.stop();
  if (prediction.status !== "succeeded") throw new Error(`bench: the sandbox prediction is ${prediction.status}`);
  const png = logoPng();
  const key = `${randomBytes(16).toString("hex")}.png`;
  mkdirSync(ctx.storageDir, { recursive: true });
  writeFileSync(join(ctx.storageDir, key), png);
  const sql = await openSql(ctx.sqlTarget);
  const phaseResult = await (async () => {
    await sql.query("update prediction set output = $1::jsonb where id = $2", [
      JSON.stringify([`${ctx.publicUrl}/files/${key}`]),
      prediction.id,
    ]);
    const source = { width: assetConfig.sourceSide, height: assetConfig.sourceSide, bytes: png.byteLength, key };

    // 1. Time to succeeded, per kind, one job at a time.
    log(`assets 1/3: ${assetConfig.jobsPerKind} jobs per kind, one at a time`);
    service = await ctx.startService();
    let busy0 = cpuTimes();
    for (const kind of KINDS) for (let i = 0; i < 2; i++) await job(base, user, prediction.id, kind);
    const times = new Map<Kind, { ms: number[]; serverMs: number[]; failed: number }>(
      KINDS.map((k) => [k, { ms: [], serverMs: [], failed: 0 }]),
    );
    for (let i = 0; i < assetConfig.jobsPerKind; i++)
      for (const kind of KINDS) {
        const j = await job(base, user, prediction.id, kind);
        const t = times.get(kind);
        if (!t) continue;
        if (j.status !== "succeeded") t.failed++;
        else {
          t.ms.push(j.ms);
          if (j.serverMs !== null) t.serverMs.push(j.serverMs);
        }
      }
    const perKindBusy = machineBusy(busy0, cpuTimes());
    const goalsMs: Partial<Record<Kind, number>> = { vector: 400, "brand-kit": 3000 };
    const perKind = KINDS.map((kind) => {
      const t = times.get(kind) ?? { ms: [], serverMs: [], failed: 0 };
      const p50 = Math.round(percentile(t.ms, 50));
      const goal = goalsMs[kind] ?? null;
      return {
        kind,
        jobs: t.ms.length + t.failed,
        // The client's figure moves in steps of the server's Prefer: wait re-read interval (200 ms today).
        failed: t.failed,
        p50Ms: p50,
        p99Ms: Math.round(percentile(t.ms, 99)),
        minMs: Math.round(Math.min(...t.ms)),
        serverP50Ms: Math.round(percentile(t.serverMs, 50)),
        goalP50Ms: goal,
        met: goal === null ? null : t.failed === 0 && p50 <= goal,
      };
    });
    for (const k of perKind)
      log(`assets: ${k.kind}: p50 ${k.p50Ms} ms, p99 ${k.p99Ms} ms (server ${k.serverP50Ms} ms), ${k.failed} failed`);
    await service.stop();

    // 2. One worker, a queue of brand kits: the event loop's lag and GET /api/credits throughput, idle and loaded.
    log(`assets 2/3: ASSET_WORKERS=1, ≥ ${assetConfig.queued} brand kits queued, ${ctx.rounds} rounds`);
    service = await ctx.startService({ ASSET_WORKERS: "1" });
    busy0 = cpuTimes();
    const credits = { url: `${base}/api/credits`, headers: bearer(user) };
    let filling = false;
    let measuring = false;
    let minQueued = Number.POSITIVE_INFINITY;
    let refills = 0;
    let fillerError: unknown = null;
    const filler = async () => {
      while (filling) {
        const c = await activeCounts(sql);
        if (measuring) minQueued = Math.min(minQueued, c.queued);
        // One more than asked, so the queue stays at the mark while a top-up is on its way.
        for (let n = c.queued; n < assetConfig.queued + 1; n++) {
          await order(base, user, prediction.id, "brand-kit");
          refills++;
        }
        await sleep(50);
      }
    };
    const drain = async () => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const c = await activeCounts(sql);
        if (c.queued + c.processing === 0) return;
        if (Date.now() > deadline) throw new Error("bench: the asset queue did not drain within 60 s");
        await sleep(100);
      }
    };
    const window = async (withLoad: boolean, warm: boolean) => {
      await scrapeLag(base); // resets the service's lag summary
      let result: LoadResult | null = null;
      const cpu0 = cpuSeconds(service.pid);
      if (withLoad) result = await ctx.load({ ...credits, warmupS: warm ? ctx.warmupS : 0 });
      else await sleep(ctx.durationS * 1000);
      const cpu1 = cpuSeconds(service.pid);
      const lag = await scrapeLag(base);
      if (!lag) throw new Error("bench: GET /metrics has no event_loop_lag_seconds summary");
      const served = result ? (result.warmup?.requests ?? 0) + result.measured.requests : 0;
      return {
        lag,
        rps: result ? Math.round(result.measured.rps) : null,
        p99Ms: result ? result.measured.p99 : null,
        non2xx: result ? result.measured.non2xx + result.measured.errors + result.measured.timeouts : null,
        cpuUsPerRequest:
          result && cpu0 !== null && cpu1 !== null && served ? Math.round(((cpu1 - cpu0) / served) * 1e6) : null,
      };
    };
    type Window = Awaited<ReturnType<typeof window>>;
    const rounds: { idleQuiet: Window; idleLoad: Window; queueQuiet: Window; queueLoad: Window; ratio: number }[] = [];
    for (let round = 1; round <= ctx.rounds; round++) {
      await drain();
      const idleQuiet = await window(false, false);
      const idleLoad = await window(true, round === 1);
      filling = true;
      const fill = filler().catch((err: unknown) => {
        fillerError = err;
      });
      const deadline = Date.now() + 30_000;
      while ((await activeCounts(sql)).queued < assetConfig.queued) {
        if (Date.now() > deadline || fillerError) throw new Error(`bench: the queue did not fill: ${fillerError}`);
        await sleep(50);
      }
      measuring = true;
      const queueQuiet = await window(false, false);
      const queueLoad = await window(true, false);
      measuring = false;
      filling = false;
      await fill;
      if (fillerError) throw fillerError;
      const ratio = idleLoad.rps && queueLoad.rps !== null ? queueLoad.rps / idleLoad.rps : 0;
      rounds.push({ idleQuiet, idleLoad, queueQuiet, queueLoad, ratio });
      log(
        `assets round ${round}: lag p99 idle ${idleQuiet.lag.p99} / idle+credits ${idleLoad.lag.p99} / queue ${queueQuiet.lag.p99} / queue+credits ${queueLoad.lag.p99} ms; credits ${idleLoad.rps} → ${queueLoad.rps} req/s (${Math.round(ratio * 100)}%)`,
      );
    }
    await drain();
    const queueBusy = machineBusy(busy0, cpuTimes());
    await service.stop();
    const summary = (pick: (r: (typeof rounds)[number]) => Window) => ({
      lagP50Ms: median(rounds.map((r) => pick(r).lag.p50)),
      lagP99Ms: median(rounds.map((r) => pick(r).lag.p99)),
      lagP99WorstMs: Math.max(...rounds.map((r) => pick(r).lag.p99)),
      lagMaxMs: Math.max(...rounds.map((r) => pick(r).lag.max)),
      creditsRps:
        pick(rounds[0] as (typeof rounds)[number]).rps === null ? null : median(rounds.map((r) => pick(r).rps ?? 0)),
      roundsLagP99Ms: rounds.map((r) => pick(r).lag.p99),
      roundsRps: rounds.map((r) => pick(r).rps),
      roundsCpuUsPerRequest: rounds.map((r) => pick(r).cpuUsPerRequest),
      roundsCreditsP99Ms: rounds.map((r) => pick(r).p99Ms),
      non2xx: rounds.reduce((n, r) => n + (pick(r).non2xx ?? 0), 0),
    });
    const ratio = median(rounds.map((r) => r.ratio));
    const conditions = {
      idle: summary((r) => r.idleQuiet),
      idleCredits: summary((r) => r.idleLoad),
      queue: summary((r) => r.queueQuiet),
      queueCredits: summary((r) => r.queueLoad),
    };
    const lagGoalMs = 50;
    const underQueue = {
      workers: 1,
      lagSource: `GET /metrics ${lagMetric} (monitorEventLoopDelay in the service, reset at each scrape)`,
      queuedAtLeast: assetConfig.queued,
      minQueuedSeen: Number.isFinite(minQueued) ? minQueued : null,
      brandKitsOrdered: refills,
      conditions,
      creditsRatio: Math.round(ratio * 100) / 100,
      roundsCreditsRatio: rounds.map((r) => Math.round(r.ratio * 100) / 100),
      goals: {
        lagP99MaxMs: lagGoalMs,
        lagMet: conditions.queue.lagP99Ms <= lagGoalMs && conditions.queueCredits.lagP99Ms <= lagGoalMs,
        creditsRatioMin: 0.5,
        creditsMet: ratio >= 0.5 && conditions.queueCredits.non2xx === 0,
      },
      machineBusy: queueBusy,
    };

    // 3. RSS over many cheap jobs, default worker count.
    log(`assets 3/3: RSS over ${assetConfig.memoryJobs} jobs (vector and transparent)`);
    service = await ctx.startService();
    busy0 = cpuTimes();
    const samples: { afterJobs: number; rssMb: number | null }[] = [{ afterJobs: 0, rssMb: rssMb(service.pid) }];
    let done = 0;
    let started3 = 0;
    let failed = 0;
    const t3 = Date.now();
    const worker = async () => {
      while (started3 < assetConfig.memoryJobs) {
        const kind: Kind = started3++ % 2 ? "transparent" : "vector";
        const j = await job(base, user, prediction.id, kind);
        if (j.status !== "succeeded") failed++;
        done++;
        if (done % assetConfig.memorySampleEvery === 0) samples.push({ afterJobs: done, rssMb: rssMb(service.pid) });
      }
    };
    await Promise.all(Array.from({ length: assetConfig.memoryConcurrency }, worker));
    const memoryMs = Date.now() - t3;
    const memoryBusy = machineBusy(busy0, cpuTimes());
    await service.stop();
    const first = samples.find((s) => s.afterJobs >= assetConfig.memorySampleEvery)?.rssMb ?? null;
    const last = samples.at(-1)?.rssMb ?? null;
    const peak = Math.max(...samples.map((s) => s.rssMb ?? 0));
    const growth = first && last ? last / first - 1 : null;
    const memory = {
      jobs: done,
      failed,
      concurrency: assetConfig.memoryConcurrency,
      workers: `default (${Math.max(1, os.availableParallelism() - 1)} on ${os.availableParallelism()} cores)`,
      jobsPerSecond: Math.round((done / (memoryMs / 1000)) * 10) / 10,
      rssAtStartMb: samples[0]?.rssMb ?? null,
      firstMb: first,
      peakMb: peak,
      lastMb: last,
      growth: growth === null ? null : Math.round(growth * 1000) / 1000,
      goal: `last within 20% of the sample after the first ${assetConfig.memorySampleEvery} jobs`,
      met: growth === null ? null : growth <= 0.2 && failed === 0,
      samples,
      machineBusy: memoryBusy,
    };
    log(
      `assets: RSS ${memory.rssAtStartMb} MB at start, ${first} MB after ${assetConfig.memorySampleEvery} jobs, peak ${peak}, last ${last} after ${done} (${failed} failed)`,
    );

    // Money: every asset charged once, the failed ones refunded once, the balance the ledger's sum.
    const { rows } = await sql.query<Record<string, number>>(
      `select (select count(*)::int from asset where user_id = $1) as assets,
              (select count(*)::int from asset where user_id = $1 and status = 'failed') as failed,
              (select count(*)::int from asset where user_id = $1 and status in ('queued', 'processing')) as active,
              (select count(*)::int from credit_transaction where user_id = $1 and type = 'asset') as charges,
              (select count(*)::int from credit_transaction where user_id = $1 and type = 'asset_refund') as refunds,
              (select balance from credit_account where user_id = $1) as balance,
              (select coalesce(sum(amount), 0)::int from credit_transaction where user_id = $1) as "ledgerSum"`,
      [user.id],
    );
    const m = rows[0] ?? {};
    const money = {
      ...m,
      ok: m.assets === m.charges && m.failed === m.refunds && m.balance === m.ledgerSum && m.active === 0,
    };
    return { source, perKind, perKindMachineBusy: perKindBusy, underQueue, memory, money };
  })().finally(() => sql.close());

  return {
    ...phaseResult,
    durationMs: Date.now() - started,
    loadAverageAtStart,
    loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export type AssetBenchResult = Awaited<ReturnType<typeof runAssetBench>>;

/** The figures as Markdown tables (terminal and docs/performance.md). */
export function assetTables(r: AssetBenchResult): string {
  const yes = (m: boolean | null) => (m === null ? "" : m ? "yes" : "**no**");
  const kinds = [
    "| kind | jobs | p50 ms | p99 ms | min ms | server p50 ms | goal | met? |",
    "|---|--:|--:|--:|--:|--:|---|---|",
    ...r.perKind.map(
      (k) =>
        `| ${k.kind} | ${k.jobs} | ${k.p50Ms} | ${k.p99Ms} | ${k.minMs} | ${k.serverP50Ms} | ${k.goalP50Ms === null ? "" : `p50 ≤ ${k.goalP50Ms} ms`} | ${yes(k.met)} |`,
    ),
  ];
  const q = r.underQueue;
  const c = q.conditions;
  const row = (name: string, s: (typeof c)["idle"]) =>
    `| ${name} | ${s.lagP50Ms} | ${s.lagP99Ms} (${s.roundsLagP99Ms.join(", ")}) | ${s.lagMaxMs} | ${s.creditsRps === null ? "—" : `${s.creditsRps} (${s.roundsRps.join(", ")})`} | ${s.roundsCpuUsPerRequest.every((x) => x === null) ? "—" : s.roundsCpuUsPerRequest.join(", ")} |`;
  const queue = [
    "| condition (ASSET_WORKERS=1) | lag p50 ms | lag p99 ms (rounds) | lag max ms | credits req/s (rounds) | process CPU µs/req (worker included) |",
    "|---|--:|--:|--:|--:|--:|",
    row("no job, no load", c.idle),
    row("no job, GET /api/credits load", c.idleCredits),
    row(`≥ ${q.queuedAtLeast} brand kits queued`, c.queue),
    row(`≥ ${q.queuedAtLeast} brand kits queued, GET /api/credits load`, c.queueCredits),
  ];
  const mem = r.memory;
  return [
    kinds.join("\n"),
    "",
    queue.join("\n"),
    "",
    `Event-loop lag p99 with the queue ≤ ${q.goals.lagP99MaxMs} ms: ${yes(q.goals.lagMet)}. ` +
      `GET /api/credits under the queue: ${Math.round(q.creditsRatio * 100)}% of idle (rounds ${q.roundsCreditsRatio.map((x) => `${Math.round(x * 100)}%`).join(", ")}; goal ≥ 50%): ${yes(q.goals.creditsMet)}. ` +
      `Fewest queued seen while measuring: ${q.minQueuedSeen}.`,
    `RSS over ${mem.jobs} jobs (vector/transparent, ${mem.concurrency} in flight, workers ${mem.workers}, ${mem.jobsPerSecond} jobs/s): ` +
      `${mem.rssAtStartMb} MB at start, first ${mem.firstMb} MB (after ${assetConfig.memorySampleEvery} jobs), peak ${mem.peakMb} MB, last ${mem.lastMb} MB ` +
      `(${mem.growth === null ? "?" : `${mem.growth >= 0 ? "+" : ""}${Math.round(mem.growth * 100)}%`}; ${mem.goal}): ${yes(mem.met)}; ${mem.failed} failed.`,
    `Money: ${r.money.ok ? "consistent" : "INCONSISTENT"} (${JSON.stringify(r.money)}).`,
  ].join("\n");
}
