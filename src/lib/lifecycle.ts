/** Background work started with the server and stopped before the database closes. */
export interface Lifecycle {
  start(): void;
  stop(): Promise<void>;
}

/**
 * A loop that runs until stopped: `run` gets a signal that aborts when stop() is called (its waits end at once),
 * and stop() resolves when the pass in progress has finished. Starting twice starts one loop.
 */
export function backgroundLoop(run: (signal: AbortSignal) => Promise<void>): Lifecycle {
  let loop: Promise<void> | undefined;
  let stopping: AbortController | undefined;
  return {
    start() {
      if (loop) return;
      stopping = new AbortController();
      loop = run(stopping.signal);
    },
    async stop() {
      stopping?.abort();
      await loop;
      loop = undefined;
    },
  };
}

/** Several pieces of background work started and stopped together. */
export function allOf(parts: Lifecycle[]): Lifecycle {
  return {
    start: () => {
      for (const p of parts) p.start();
    },
    stop: async () => {
      await Promise.all(parts.map((p) => p.stop()));
    },
  };
}
