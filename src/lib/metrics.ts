import { monitorEventLoopDelay } from "node:perf_hooks";
/** Upper bounds (seconds) of the request latency histogram: 5 ms to 30 s (Prefer: wait holds up to 30 s). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** Request counters of one app instance, rendered by GET /metrics in the Prometheus text format. */
/** Series per label set are bounded: routes are patterns and methods a fixed list, but statuses are not. */
const MAX_SERIES = 5000;

interface Series {
  key: string;
  histogram: Histogram;
}

export class HttpMetrics {
  readonly requests = new Map<string, number>();
  readonly latency = new Map<string, Histogram>();
  /** `method route status` → the rendered label strings and the histogram, so a request renders no labels. */
  readonly #series = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number) {
    const id = `${method} ${status} ${route}`;
    let series = this.#series.get(id);
    if (!series) {
      // Past the bound, further label sets are counted under one overflow series rather than growing.
      const full = this.#series.size >= MAX_SERIES;
      const key = labels({ method, route: full ? "overflow" : route, status: full ? "other" : String(status) });
      const hkey = labels({ method, route: full ? "overflow" : route });
      let histogram = this.latency.get(hkey);
      if (!histogram) {
        histogram = { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
        this.latency.set(hkey, histogram);
      }
      series = { key, histogram };
      if (!full) this.#series.set(id, series);
    }
    this.requests.set(series.key, (this.requests.get(series.key) ?? 0) + 1);
    const h = series.histogram;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++)
      if (seconds <= (LATENCY_BUCKETS[i] as number)) h.counts[i] = (h.counts[i] ?? 0) + 1;
    h.sum += seconds;
    h.count++;
  }

  render(): string {
    const out: string[] = [
      "# HELP http_requests_total HTTP requests answered, by method, route pattern and status.",
      "# TYPE http_requests_total counter",
    ];
    for (const [key, n] of this.requests) out.push(`http_requests_total{${key}} ${n}`);
    out.push(
      "# HELP http_request_duration_seconds Time from receiving a request to its response, by method and route pattern.",
      "# TYPE http_request_duration_seconds histogram",
    );
    for (const [key, h] of this.latency) {
      LATENCY_BUCKETS.forEach((le, i) => {
        out.push(`http_request_duration_seconds_bucket{${key},le="${le}"} ${h.counts[i] ?? 0}`);
      });
      out.push(`http_request_duration_seconds_bucket{${key},le="+Inf"} ${h.count}`);
      out.push(`http_request_duration_seconds_sum{${key}} ${round(h.sum)}`);
      out.push(`http_request_duration_seconds_count{${key}} ${h.count}`);
    }
    return `${out.join("\n")}\n`;
  }
}

export function labels(l: Record<string, string>): string {
  return Object.entries(l)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`)
    .join(",");
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

/** Gauges of the process itself. */
/**
 * How late the event loop runs timers (node:perf_hooks monitorEventLoopDelay, 10 ms resolution), summarised per
 * scrape: p50, p99 and max since the previous one. CPU work belongs on worker threads; this shows when it is not.
 */
export class EventLoopLag {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  constructor() {
    this.histogram.enable();
  }
  render(): string[] {
    const h = this.histogram;
    const s = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
    const out = [
      "# HELP process_event_loop_lag_seconds Event-loop delay since the previous scrape (p50, p99, max).",
      "# TYPE process_event_loop_lag_seconds gauge",
      `process_event_loop_lag_seconds{quantile="0.5"} ${s(h.percentile(50))}`,
      `process_event_loop_lag_seconds{quantile="0.99"} ${s(h.percentile(99))}`,
      `process_event_loop_lag_seconds{quantile="1"} ${s(h.max)}`,
    ];
    h.reset();
    return out;
  }
  close(): void {
    this.histogram.disable();
  }
}

export function renderProcessGauges(uptimeSeconds: number, rssBytes: number): string[] {
  return [
    "# HELP process_uptime_seconds Seconds since this instance started.",
    "# TYPE process_uptime_seconds gauge",
    `process_uptime_seconds ${uptimeSeconds}`,
    "# HELP process_resident_memory_bytes Resident memory of this process.",
    "# TYPE process_resident_memory_bytes gauge",
    `process_resident_memory_bytes ${rssBytes}`,
  ];
}

/** Gauges of the business, read from the database at scrape time. */
export function renderBusinessGauges(g: {
  predictionsByStatus: Record<string, number>;
  users: { registered: number; anonymous: number };
  creditsOutstanding: number;
}): string[] {
  const lines = ["# HELP logo_predictions Predictions stored, by status.", "# TYPE logo_predictions gauge"];
  for (const [status, n] of Object.entries(g.predictionsByStatus))
    lines.push(`logo_predictions{${labels({ status })}} ${n}`);
  lines.push("# HELP logo_users Accounts, by kind.", "# TYPE logo_users gauge");
  lines.push(`logo_users{kind="registered"} ${g.users.registered}`);
  lines.push(`logo_users{kind="anonymous"} ${g.users.anonymous}`);
  lines.push(
    "# HELP logo_credits_outstanding Credits held by all users (sum of balances).",
    "# TYPE logo_credits_outstanding gauge",
    `logo_credits_outstanding ${g.creditsOutstanding}`,
  );
  return lines;
}
