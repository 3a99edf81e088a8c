import type { DatabaseHandle, Listening } from "../db";
import { JOB_TYPES, type JobType } from "../domain/jobs";
import type { Logger } from "../lib/logger";

/**
 * The fleet's change signal, heard by this process. Every committed change to a paid job that its GET shows bumps
 * the job's version, and a trigger announces '<type>:<id>:<version>' on CHANGE_CHANNEL in that transaction
 * (drizzle/0012_job-changed-notify.sql). One LISTEN per process, on a connection of its own (a pooled connection
 * would drop it on release), fans the notices out to in-process subscribers by (type, id): streams and
 * `Prefer: wait` on any instance wake within a round trip of the commit.
 *
 * A notice is a hint to re-read, never the state itself. While the connection is down nothing is heard, so after
 * every (re)connect each subscriber is told to re-read (version null): a final state committed during an outage is
 * seen once the database is back. The reconnect backoff and the liveness check run on real timers, not the
 * injected clock: they are about a network connection, and a test's fake clock must not be moved by them.
 */

export const CHANGE_CHANNEL = "logo_job_changed";

/** A committed change to this job (its new version), or null: re-read, something may have been missed. */
export type ChangeListener = (version: number | null) => void;

export interface ChangeFeed {
  /** Calls `listener` on every change to (type, id) until the returned function is called. Starts the feed. */
  subscribe(type: JobType, id: string, listener: ChangeListener): () => void;
  /** Whether the LISTEN is in effect right now. */
  listening(): boolean;
  /** Starts the feed and resolves once the LISTEN is in effect (tests: a change made after this is heard). */
  ready(): Promise<void>;
  /** How many subscriptions are open (metrics, tests). */
  subscriptions(): number;
  /** Connects (if not yet) and keeps the LISTEN up until stopped. Idempotent. */
  start(): void;
  /** Closes the listening connection for good (shutdown); subscribers get nothing more. */
  stop(): Promise<void>;
}

export interface ChangeFeedOptions {
  /** A round trip on the listening connection this often, to notice a silent partition. */
  checkEveryMs?: number;
  /** Reconnect backoff: first wait and cap. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** Parses '<type>:<uuid>:<version>'; null for anything else. */
export function parseChange(payload: string): { type: JobType; id: string; version: number } | null {
  const [type, id, version, extra] = payload.split(":");
  if (extra !== undefined || !type || !id || !version) return null;
  if (!(JOB_TYPES as readonly string[]).includes(type)) return null;
  const n = Number(version);
  return Number.isSafeInteger(n) ? { type: type as JobType, id, version: n } : null;
}

export function createChangeFeed(
  database: Pick<DatabaseHandle, "listen">,
  logger: Logger,
  opts: ChangeFeedOptions = {},
): ChangeFeed {
  const checkEveryMs = opts.checkEveryMs ?? 10_000;
  const backoffMs = opts.backoffMs ?? 250;
  const maxBackoffMs = opts.maxBackoffMs ?? 5_000;
  const subscribers = new Map<string, Set<ChangeListener>>();
  let count = 0;
  let connected = false;
  let running: Promise<void> | undefined;
  let stopping: AbortController | undefined;
  let stopped = false;
  let onReady: Array<() => void> = [];

  const dispatch = (payload: string) => {
    const change = parseChange(payload);
    if (!change) return;
    const set = subscribers.get(`${change.type}:${change.id}`);
    if (set) for (const listener of [...set]) listener(change.version);
  };

  const resyncAll = () => {
    for (const set of subscribers.values()) for (const listener of [...set]) listener(null);
  };

  const pause = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  async function run(signal: AbortSignal) {
    let failures = 0;
    while (!signal.aborted) {
      let listening: Listening;
      try {
        listening = await database.listen(CHANGE_CHANNEL, dispatch);
      } catch (err) {
        failures++;
        if (failures === 1) logger.warn({ err }, "change feed: cannot listen; retrying with backoff");
        await pause(Math.min(maxBackoffMs, backoffMs * 2 ** (failures - 1)), signal);
        continue;
      }
      if (signal.aborted) {
        await listening.close();
        break;
      }
      if (failures > 0) logger.info({ failures }, "change feed: listening again");
      failures = 0;
      connected = true;
      for (const resolve of onReady) resolve();
      onReady = [];
      // Whatever was committed while nobody listened (or before this first LISTEN) is read now.
      resyncAll();
      let lostBy: unknown;
      const lost = listening.lost.then((err) => {
        lostBy = err;
      });
      while (!signal.aborted && lostBy === undefined) {
        const tick = pause(checkEveryMs, signal);
        await Promise.race([lost, tick]);
        if (signal.aborted || lostBy !== undefined) break;
        await listening.check().catch((err: unknown) => {
          lostBy = err;
        });
      }
      connected = false;
      await listening.close();
      if (!signal.aborted) {
        logger.warn({ err: lostBy }, "change feed: listening connection lost; reconnecting");
        // Back off before the first reconnect too: a database that just dropped us is likely still away.
        failures = 1;
        await pause(backoffMs, signal);
      }
    }
  }

  const feed: ChangeFeed = {
    subscribe(type, id, listener) {
      feed.start();
      const key = `${type}:${id}`;
      let set = subscribers.get(key);
      if (!set) {
        set = new Set();
        subscribers.set(key, set);
      }
      const entry: ChangeListener = (v) => listener(v);
      set.add(entry);
      count++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        count--;
        set.delete(entry);
        if (set.size === 0 && subscribers.get(key) === set) subscribers.delete(key);
      };
    },
    listening: () => connected,
    ready() {
      feed.start();
      return connected ? Promise.resolve() : new Promise<void>((resolve) => onReady.push(resolve));
    },
    subscriptions: () => count,
    start() {
      // Stopping is for good (shutdown): a request still running then must not reopen a connection.
      if (running || stopped) return;
      stopping = new AbortController();
      running = run(stopping.signal).catch((err: unknown) => logger.error({ err }, "change feed stopped"));
    },
    async stop() {
      stopped = true;
      stopping?.abort();
      await running;
      running = undefined;
      connected = false;
    },
  };
  return feed;
}
