import { Agent, request } from "node:http";
import { percentile } from "./assets";
import { type Child, rssMb } from "./processes";
import { type BenchUser, bearer, openSql, type Sql, signUp } from "./seed";

/**
 * The streams phase of `npm run bench` (BENCH_ONLY=streams, PostgreSQL only: the change is committed by another
 * connection, as another instance would, and reaches the service through LISTEN/NOTIFY). The service as its own
 * process; BENCH_STREAM_USERS (100) users with one processing sandbox prediction each (the sandbox's delay is
 * long) and BENCH_STREAMS_PER_PREDICTION (10) streams on each: 1,000 streams on one instance, read by this
 * process with fetch.
 *
 * 1. Memory: the service's RSS (from /proc) before the streams and once every stream has had its first event,
 *    after a settle; the difference divided by the number of streams.
 * 2. Latency: BENCH_STREAM_CHANGES (100) rounds, one prediction each: a direct connection commits a change
 *    (`version = version + 1`, which its streams send as a new `status`) and the time from COMMIT returning to
 *    the arrival of that event on each of the prediction's streams is recorded (10 samples per round).
 */

const env = process.env;
export const streamConfig = {
  users: Number(env.BENCH_STREAM_USERS ?? 100),
  perPrediction: Number(env.BENCH_STREAMS_PER_PREDICTION ?? 10),
  changes: Number(env.BENCH_STREAM_CHANGES ?? 100),
};

export interface StreamBenchContext {
  base: string;
  sqlTarget: { url: string } | { pgliteDir: string };
  stamp: string;
  startService(extraEnv?: Record<string, string>): Promise<Child>;
  log(msg: string): void;
}

interface OpenStream {
  predictionId: string;
  /** Versions seen, with the time each arrived (performance.now()). */
  seen: Map<number, number>;
  first: Promise<void>;
  cancel(): Promise<void>;
}

const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

function openStream(base: string, user: BenchUser, predictionId: string): OpenStream {
  const seen = new Map<number, number>();
  const controller = new AbortController();
  let firstSeen: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    firstSeen = resolve;
  });
  // node:http with an agent of unlimited sockets: fetch holds at most 256 connections per process at once.
  const req = request(`${base}/api/predictions/${predictionId}/events`, {
    headers: bearer(user),
    agent,
    signal: controller.signal,
  });
  req.on("response", (res) => {
    if (res.statusCode !== 200) console.error(`bench: stream answered ${res.statusCode}`);
    let buffer = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      const at = performance.now();
      buffer += chunk;
      let cut = buffer.indexOf("\n\n");
      while (cut >= 0) {
        const id = /^id: (\d+)$/m.exec(buffer.slice(0, cut))?.[1];
        if (id) {
          seen.set(Number(id), at);
          firstSeen();
        }
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf("\n\n");
      }
    });
    res.on("error", () => undefined);
  });
  req.on("error", (err) => {
    if (!controller.signal.aborted) console.error("bench: stream failed", err);
  });
  req.end();
  return {
    predictionId,
    seen,
    first,
    async cancel() {
      controller.abort();
    },
  };
}

export async function runStreamBench(ctx: StreamBenchContext) {
  if (!("url" in ctx.sqlTarget))
    throw new Error(
      "BENCH_ONLY=streams needs PostgreSQL (DATABASE_URL or BENCH_DATABASE_URL): the change is committed by another connection",
    );
  const { users: userCount, perPrediction, changes } = streamConfig;
  const service = await ctx.startService({
    SANDBOX_DELAY_MS: "3600000",
    STREAMS_PER_USER: String(perPrediction),
    ASSET_WORKERS: "0",
  });
  const sql: Sql = await openSql(ctx.sqlTarget);
  try {
    ctx.log(`signing up ${userCount} users, one processing prediction each`);
    const users: BenchUser[] = [];
    const predictions: string[] = [];
    for (let i = 0; i < userCount; i++) {
      const u = await signUp(ctx.base, `bench-stream-${i}-${ctx.stamp}@bench.local`);
      const res = await fetch(`${ctx.base}/api/predictions`, {
        method: "POST",
        headers: { ...bearer(u), "content-type": "application/json" },
        body: JSON.stringify({ brandName: `Stream ${i}` }),
      });
      const body = (await res.json()) as { id?: string; status?: string };
      if (res.status !== 201 || !body.id) throw new Error(`bench: create answered ${res.status}`);
      users.push(u);
      predictions.push(body.id);
    }
    await Bun.sleep(1000);
    const rssBefore = rssMb(service.pid);
    ctx.log(`opening ${userCount * perPrediction} streams (RSS before: ${rssBefore} MB)`);
    const openedAt = performance.now();
    const streams: OpenStream[] = [];
    for (let i = 0; i < userCount; i++)
      for (let k = 0; k < perPrediction; k++)
        streams.push(openStream(ctx.base, users[i] as BenchUser, predictions[i] as string));
    await Promise.all(streams.map((s) => s.first));
    const allOpenMs = Math.round(performance.now() - openedAt);
    await Bun.sleep(2000);
    const rssAfter = rssMb(service.pid);
    const perStreamKb =
      rssBefore !== null && rssAfter !== null ? Math.round(((rssAfter - rssBefore) * 1024) / streams.length) : null;
    ctx.log(
      `all ${streams.length} streams open in ${allOpenMs} ms; RSS after: ${rssAfter} MB, ${perStreamKb} KB per stream`,
    );

    const samples: number[] = [];
    let missed = 0;
    for (let r = 0; r < changes; r++) {
      const id = predictions[r % predictions.length] as string;
      const mine = streams.filter((s) => s.predictionId === id);
      const { rows } = await sql.query<{ version: number }>(
        "update prediction set version = version + 1 where id = $1 returning version",
        [id],
      );
      const committed = performance.now();
      const version = rows[0]?.version as number;
      const deadline = committed + 5000;
      while (mine.some((s) => !s.seen.has(version)) && performance.now() < deadline) await Bun.sleep(1);
      for (const s of mine) {
        const at = s.seen.get(version);
        if (at === undefined) missed++;
        else samples.push(Math.max(0, at - committed));
      }
      await Bun.sleep(20);
    }
    for (const s of streams) await s.cancel();
    const round = (x: number) => Math.round(x * 100) / 100;
    const result = {
      streams: streams.length,
      users: userCount,
      allOpenMs,
      rssBeforeMb: rssBefore,
      rssAfterMb: rssAfter,
      perStreamKb,
      changeToEvent: {
        samples: samples.length,
        missed,
        p50Ms: round(percentile(samples, 50)),
        p99Ms: round(percentile(samples, 99)),
        maxMs: round(Math.max(...samples)),
      },
    };
    ctx.log(
      `change → event over ${samples.length} samples: p50 ${result.changeToEvent.p50Ms} ms, p99 ${result.changeToEvent.p99Ms} ms, missed ${missed}`,
    );
    return result;
  } finally {
    await sql.close();
    await service.stop();
  }
}

export function streamTable(r: Awaited<ReturnType<typeof runStreamBench>>): string {
  return [
    "| streams open | open all (ms) | RSS before → after (MB) | per stream (KB) | change → event p50 | p99 | max | missed |",
    "|---|---|---|---|---|---|---|---|",
    `| ${r.streams} (${r.users} users × ${r.streams / r.users}) | ${r.allOpenMs} | ${r.rssBeforeMb} → ${r.rssAfterMb} | ${r.perStreamKb} | ${r.changeToEvent.p50Ms} ms | ${r.changeToEvent.p99Ms} ms | ${r.changeToEvent.maxMs} ms | ${r.changeToEvent.missed} |`,
  ].join("\n");
}
