import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { AppEnv, Deps } from "../types";

/** Upper bounds (seconds) of the request latency histogram: 5 ms to 30 s (Prefer: wait holds up to 30 s). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** Request counters of one app instance, rendered by GET /metrics in the Prometheus text format. */
export class HttpMetrics {
  readonly requests = new Map<string, number>();
  readonly latency = new Map<string, Histogram>();

  observe(method: string, route: string, status: number, seconds: number) {
    const key = labels({ method, route, status: String(status) });
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hkey = labels({ method, route });
    let h = this.latency.get(hkey);
    if (!h) {
      h = { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(hkey, h);
    }
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.counts[i] = (h.counts[i] ?? 0) + 1;
    });
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

// One registry per Deps (i.e. per app instance), so two apps in one process never mix their counts.
const registries = new WeakMap<Deps, HttpMetrics>();
export function metricsOf(deps: Deps): HttpMetrics {
  let m = registries.get(deps);
  if (!m) {
    m = new HttpMetrics();
    registries.set(deps, m);
  }
  return m;
}

// Clients choose the method: anything unusual is one label value, so no caller can grow the series set.
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Counts every request by its route pattern (not the raw path, which would explode the label set). */
export const requestMetrics = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  try {
    await next();
  } finally {
    const seconds = (performance.now() - started) / 1000;
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER";
    metricsOf(c.var.deps).observe(method, routeLabel(c), c.res.status, seconds);
  }
});

function routeLabel(c: Context): string {
  // Middleware is registered with method ALL; the last route with a real method is the handler that answered.
  const handler = matchedRoutes(c)
    .filter((r) => r.method !== "ALL")
    .at(-1);
  return handler?.path ?? "unmatched";
}

export function labels(l: Record<string, string>): string {
  return Object.entries(l)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`)
    .join(",");
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;
