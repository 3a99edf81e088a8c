import type { Clock } from "../../lib/clock";
import type { GenerationProvider } from "./provider";

const WINDOW_MS = 5 * 60 * 1000;

export interface ProviderStats {
  /** Share of provider calls that failed in the last 5 minutes; null when there were none. */
  recentErrorRate(): number | null;
  record(ok: boolean): void;
}

/** Outcomes of provider calls in a rolling 5-minute window, for /health. In-process: one instance's view. */
export function createProviderStats(clock: Clock): ProviderStats {
  let events: { at: number; ok: boolean }[] = [];
  const prune = (now: number) => {
    if (events.length && (events[0]?.at ?? now) <= now - WINDOW_MS)
      events = events.filter((e) => e.at > now - WINDOW_MS);
    if (events.length > 10_000) events = events.slice(-10_000);
  };
  return {
    record(ok) {
      const now = clock.now().getTime();
      events.push({ at: now, ok });
      prune(now);
    },
    recentErrorRate() {
      prune(clock.now().getTime());
      if (events.length === 0) return null;
      return events.filter((e) => !e.ok).length / events.length;
    },
  };
}

/**
 * Wraps a provider so every create/get call feeds the stats (cancel is best effort and not counted).
 * Only transport and HTTP failures count as errors; a generation the provider reports as failed does not.
 */
export function withProviderStats(provider: GenerationProvider, stats: ProviderStats): GenerationProvider {
  const track = async <T>(p: Promise<T>): Promise<T> => {
    try {
      const v = await p;
      stats.record(true);
      return v;
    } catch (err) {
      stats.record(false);
      throw err;
    }
  };
  return {
    mode: provider.mode,
    create: (req) => track(provider.create(req)),
    get: (id) => track(provider.get(id)),
    cancel: (id) => provider.cancel(id),
  };
}
