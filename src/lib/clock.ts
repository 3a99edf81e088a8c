/**
 * Time as a dependency: every service reads "now" and waits through a Clock, so tests of windows, deadlines,
 * long polls and backoff run on a fake clock in milliseconds instead of sleeping.
 */
export interface Clock {
  now(): Date;
  /** Resolves after `ms` on this clock, or as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    }),
};
