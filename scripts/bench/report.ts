import type { LoadFigures } from "./load";

/**
 * A goal is a ratio to another target of the same run (≥ `min`), and optionally a p99 bound. The ratio judged
 * is of CPU time per request (the base's over the target's: the target's efficiency against it), the steadiest
 * figure on a shared machine; the throughput ratio is reported beside it.
 */
export interface Goal {
  of: string;
  min: number;
  p99MaxMs?: number;
  /** How the goal names its base, when not by the base's short name. */
  label?: string;
  /** A second base whose CPU ratio is shown beside (not judged): the bare server that logs like the service. */
  alsoOf?: string;
}

export interface Row {
  id: string;
  name: string;
  figures: LoadFigures | null;
  /** CPU time of the serving process per request served, µs (median round). */
  cpuUsPerRequest?: number | null;
  /** Throughput of every round, req/s. */
  roundsRps?: number[];
  /** CPU time per request of every round, µs (null where /proc could not be read). */
  roundsCpuUs?: (number | null)[];
  goal?: Goal;
  /** A base whose ratios are shown but not judged (the contract's floor against the bare servers). */
  compare?: Pick<Goal, "of" | "alsoOf">;
  /** Set when the row fails for a reason that is not in its figures (e.g. overspend after POST). */
  problem?: string;
  /** Throughput ratio to the goal's base (median of the per-round ratios). */
  ratio?: number;
  /** CPU-per-request ratio, base ÷ target (median of the per-round ratios): what `met` is judged on. */
  cpuRatio?: number;
  /** The same CPU ratio against the goal's `alsoOf` base (shown, not judged). */
  cpuRatioAlso?: number;
  met?: boolean | null;
  notes: string[];
}

/** Fills ratio, met and notes of every row; a run on PGlite is never judged. */
export function judge(rows: Row[], judged: boolean): void {
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const row of rows) {
    const f = row.figures;
    if (!f) {
      row.met = row.goal ? false : null;
      row.notes.push("not measured");
      continue;
    }
    if (f.non2xx > 0 || f.errors > 0 || f.timeouts > 0) {
      const codes = Object.entries(f.statusCodes)
        .filter(([code]) => !code.startsWith("2"))
        .map(([code, n]) => `${n}×${code}`);
      const share = f.requests ? Math.round(((f.requests - f.ok) / f.requests) * 100) : 100;
      row.notes.push(
        `FLAG ${share}% not 2xx: ${[...codes, f.errors ? `${f.errors} errors` : "", f.timeouts ? `${f.timeouts} timeouts` : ""].filter(Boolean).join(", ")}`,
      );
    }
    if (row.problem) row.notes.push(row.problem);
    const against = row.goal ?? row.compare;
    if (!against) {
      row.met = null;
      continue;
    }
    const baseRow = byId.get(against.of);
    const base = baseRow?.figures;
    const paired = pairedRatios(row.roundsRps, baseRow?.roundsRps);
    // Each round measures the target and its base minutes apart at most: the median of the per-round ratios
    // follows the machine's drift better than a ratio of medians taken from different rounds.
    if (paired.length) row.ratio = median(paired);
    else if (base && base.rps > 0) row.ratio = f.rps / base.rps;
    // CPU time per request, base ÷ target: the share of the base's efficiency the target keeps. Judged on.
    const cpuPaired = pairedCpuRatios(row.roundsCpuUs, baseRow?.roundsCpuUs);
    if (cpuPaired.length) row.cpuRatio = median(cpuPaired);
    else if (row.cpuUsPerRequest && baseRow?.cpuUsPerRequest)
      row.cpuRatio = baseRow.cpuUsPerRequest / row.cpuUsPerRequest;
    const alsoRow = against.alsoOf ? byId.get(against.alsoOf) : undefined;
    const alsoPaired = pairedCpuRatios(row.roundsCpuUs, alsoRow?.roundsCpuUs);
    if (alsoPaired.length) row.cpuRatioAlso = median(alsoPaired);
    if (!row.goal) {
      row.met = null;
      continue;
    }
    const ratioOk = row.cpuRatio !== undefined && row.cpuRatio >= row.goal.min;
    const p99Ok = row.goal.p99MaxMs === undefined || (f.ok > 0 && f.p99 <= row.goal.p99MaxMs);
    const clean = f.non2xx === 0 && f.errors === 0 && f.timeouts === 0 && !row.problem;
    row.met = judged ? ratioOk && p99Ok && clean : null;
  }
}

export function goalText(row: Row, names: Map<string, string>): string {
  if (!row.goal) return row.compare ? `(not judged: against ${names.get(row.compare.of) ?? row.compare.of})` : "";
  const p99 = row.goal.p99MaxMs === undefined ? "" : `, p99 ≤ ${row.goal.p99MaxMs} ms`;
  return `CPU ≥ ${Math.round(row.goal.min * 100)}% of ${row.goal.label ?? `${names.get(row.goal.of) ?? row.goal.of}'s`}${p99}`;
}

/** The table as Markdown, so the same text goes to the terminal and to docs/performance.md. */
export function table(rows: Row[], shortNames: Map<string, string>): string {
  const header = [
    "target",
    "req/s",
    "rounds",
    "CPU µs/req",
    "p50 ms",
    "p99 ms",
    "non-2xx",
    "CPU ratio",
    "CPU ratio, logging bare",
    "req/s ratio",
    "goal (CPU per request)",
    "met?",
  ];
  const body = rows.map((r) => [
    r.name,
    r.figures ? Math.round(r.figures.rps).toLocaleString("en-US") : "—",
    r.roundsRps?.map((x) => (x >= 10_000 ? `${Math.round(x / 1000)}k` : String(x))).join(" ") ?? "",
    r.cpuUsPerRequest === null || r.cpuUsPerRequest === undefined ? "—" : String(Math.round(r.cpuUsPerRequest)),
    r.figures?.ok ? String(r.figures.p50) : "—",
    r.figures?.ok ? String(r.figures.p99) : "—",
    r.figures ? String(r.figures.non2xx + r.figures.errors + r.figures.timeouts) : "—",
    r.cpuRatio === undefined ? "" : `${(r.cpuRatio * 100).toFixed(0)}%`,
    r.cpuRatioAlso === undefined ? "" : `${(r.cpuRatioAlso * 100).toFixed(0)}%`,
    r.ratio === undefined ? "" : `${(r.ratio * 100).toFixed(0)}%`,
    goalText(r, shortNames),
    r.met === null || r.met === undefined ? (r.goal ? "not judged" : "") : r.met ? "yes" : "**no**",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const numeric = (i: number) => i >= 1 && i <= 9;
  const rule = `|${widths.map((w, i) => (numeric(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}

function pairedRatios(target: number[] | undefined, base: number[] | undefined): number[] {
  if (!target?.length || !base || base.length !== target.length) return [];
  return target.flatMap((x, i) => ((base[i] ?? 0) > 0 ? [x / (base[i] as number)] : []));
}

function pairedCpuRatios(target: (number | null)[] | undefined, base: (number | null)[] | undefined): number[] {
  if (!target?.length || !base || base.length !== target.length) return [];
  return target.flatMap((t, i) => {
    const b = base[i];
    return t && b ? [b / t] : [];
  });
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
