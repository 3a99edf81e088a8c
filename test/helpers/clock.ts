import type { Clock } from "../../src/lib/clock";

/**
 * A clock that moves only when a test says so: `advance(ms)` moves "now" and wakes every sleeper whose time has
 * come, so windows, deadlines, long polls and backoff are tested in milliseconds of real time.
 */
export class FakeClock implements Clock {
  private ms: number;
  private sleepers: { until: number; wake: () => void }[] = [];

  constructor(start: Date | number = Date.now()) {
    this.ms = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = {
        until: this.ms + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener("abort", sleeper.wake);
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener("abort", sleeper.wake, { once: true });
      if (ms <= 0) sleeper.wake();
    });
  }

  /** How many sleep() calls are waiting. */
  get waiting(): number {
    return this.sleepers.length;
  }

  /** Milliseconds until the earliest sleeper is due (undefined when nobody sleeps). */
  get nextWakeIn(): number | undefined {
    if (this.sleepers.length === 0) return undefined;
    return Math.max(0, Math.min(...this.sleepers.map((s) => s.until)) - this.ms);
  }

  /** Moves time forward and wakes the sleepers that are due, in order of their wake time. */
  advance(ms: number): void {
    this.ms += ms;
    for (const s of [...this.sleepers].sort((a, b) => a.until - b.until)) if (s.until <= this.ms) s.wake();
  }
}

/**
 * Waits until `check` returns a truthy value, yielding to the event loop between tries (no timers), and fails
 * after `timeoutMs` of real time: for effects that happen asynchronously but without any wait of their own.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`eventually: condition not met within ${timeoutMs} ms`);
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** How long driveClock waits in real time for work that its clock budget did not settle. */
const REAL_GRACE_MS = 20_000;

/**
 * Settles `work` that waits on `clock`: whenever something sleeps on the clock, moves time straight to the
 * earliest wake-up, until `work` settles. Real I/O in between (database, fake provider) runs at its own pace;
 * only the waits are skipped. Fails when more than `maxMs` of clock time would pass (a wait that never ends).
 * So only the driven work should sleep on the clock: background loops on it (a real server's asset runner or webhook
 * sender) move time on while that work is in real I/O, past its deadlines on a slow round trip
 * (test/server/lifecycle.test.ts gives its server stand-in background work for this reason).
 */
export async function driveClock<T>(clock: FakeClock, work: Promise<T>, maxMs = 10 * 60_000): Promise<T> {
  let settled = false;
  const watched = work.finally(() => {
    settled = true;
  });
  const start = clock.now().getTime();
  for (;;) {
    await eventually(() => settled || clock.waiting > 0);
    if (settled) return watched;
    const step = clock.nextWakeIn ?? 0;
    if (clock.now().getTime() + step - start > maxMs) {
      // Past the clock budget: other loops (a sender, a poller) keep sleeping on the clock, so time alone says
      // nothing. What is left is real I/O (slow on a busy machine): give it real time, then call it a hang.
      await eventually(() => settled, REAL_GRACE_MS).catch(() => {
        throw new Error(
          `driveClock: still waiting after ${maxMs} ms of clock time and ${REAL_GRACE_MS} ms of real time`,
        );
      });
      return watched;
    }
    clock.advance(step);
    // let the woken sleepers run before looking again
    await new Promise<void>((r) => setImmediate(r));
  }
}
