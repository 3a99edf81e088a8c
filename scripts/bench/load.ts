/**
 * One load run, in its own process so the load generator never shares a CPU thread with a server:
 * `node --import tsx scripts/bench/load.ts '<LoadSpec as JSON>'` prints one LoadResult as JSON.
 * A warm-up (not recorded) runs first when `warmupS` > 0. Import only its types.
 */

// @ts-expect-error autocannon ships no types
import autocannon from "autocannon";

export interface LoadSpec {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** Headers of each connection in turn (e.g. one user per connection); overrides `headers` per connection. */
  headersPerConnection?: Record<string, string>[];
  body?: string;
  /** Replace every `[<id>]` in the body with a unique id, so that each request body is distinct. */
  idReplacement?: boolean;
  connections: number;
  /** Seconds of measured load; ignored when `amount` is set. */
  durationS: number;
  /** A fixed number of requests instead of a duration. */
  amount?: number;
  warmupS?: number;
}

export interface LoadFigures {
  durationS: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Successful (2xx) responses per second: an error answer is not throughput. */
  rps: number;
  /** Latency percentiles of the 2xx responses, ms. */
  p50: number;
  p99: number;
}

export interface LoadResult {
  warmup: LoadFigures | null;
  measured: LoadFigures;
}

interface AutocannonResult {
  duration: number;
  requests: { total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
  statusCodeStats: Record<string, { count: number }>;
}

let nextClient = 0;

async function run(spec: LoadSpec, durationS: number, amount?: number): Promise<LoadFigures> {
  const r = (await autocannon({
    url: spec.url,
    method: spec.method ?? "GET",
    headers: spec.headers ?? {},
    body: spec.body,
    idReplacement: spec.idReplacement ?? false,
    connections: spec.connections,
    ...(spec.headersPerConnection?.length
      ? {
          setupClient: (client: { setHeaders(h: Record<string, string>): void }) => {
            const list = spec.headersPerConnection ?? [];
            client.setHeaders({ ...spec.headers, ...list[nextClient++ % list.length] });
          },
        }
      : {}),
    ...(amount ? { amount } : { duration: durationS }),
    timeout: 10,
  })) as AutocannonResult;
  const seconds = r.duration || durationS;
  return {
    durationS: seconds,
    requests: r.requests.total,
    ok: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count])),
    rps: seconds > 0 ? r["2xx"] / seconds : 0,
    p50: r.latency.p50,
    p99: r.latency.p99,
  };
}

async function main() {
  const spec = JSON.parse(process.argv[2] ?? "") as LoadSpec;
  const warmup = spec.warmupS && !spec.amount ? await run(spec, spec.warmupS) : null;
  const measured = await run(spec, spec.durationS, spec.amount);
  process.stdout.write(`${JSON.stringify({ warmup, measured } satisfies LoadResult)}\n`);
}

await main();
