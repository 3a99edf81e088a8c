import type { Clock } from "./clock";

/**
 * A wait that something else can cut short: `wake()` ends the current `wait` at once, or — when nobody waits —
 * makes the next one return at once, so a wake that lands between two waits is never lost.
 */
export class Waker {
  private pending = false;
  private waiting: AbortController | undefined;

  wake(): void {
    this.pending = true;
    this.waiting?.abort();
  }

  /** Waits up to `ms` on `clock`; true when woken (since the last wait), false on time-out or when `signal` aborts. */
  async wait(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return true;
    }
    if (signal?.aborted) return false;
    const waiting = new AbortController();
    this.waiting = waiting;
    const stop = () => waiting.abort();
    signal?.addEventListener("abort", stop, { once: true });
    try {
      await clock.sleep(ms, waiting.signal);
    } finally {
      signal?.removeEventListener("abort", stop);
      this.waiting = undefined;
    }
    const woken = this.pending;
    this.pending = false;
    return woken;
  }
}
