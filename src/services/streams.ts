import type { SSEStreamingApi } from "hono/streaming";
import type { JobType } from "../domain/jobs";
import { ApiError } from "../lib/errors";
import { Waker } from "../lib/waker";
import type { Needs } from "./ports";

/** The ports this module uses. */
type StreamDeps = Needs<"changes" | "config" | "logger" | "clock">;

/**
 * Server-Sent Event streams of a paid job (GET /api/predictions/{id}/events, /api/assets/{id}/events): at once
 * `status` with the job as its GET answers it, one more on every change (woken by the change feed, re-read from
 * the database), then `done` with the final job, and the stream ends. Every event's id is the job's version.
 */

/** A comment line at least this often, so proxies and clients see a live connection. */
export const STREAM_PING_MS = 15_000;
/** The `retry:` hint sent when the server ends a stream that is not done (STREAM_MAX_MS, shutdown, an outage). */
export const STREAM_RETRY_MS = 2_000;

/** The job as a stream reports it. */
export interface JobSnapshot {
  version: number;
  final: boolean;
  /** The job as its GET answers it. */
  resource: unknown;
}

/** The open streams of this instance: the per-user limit and their end on shutdown. */
export interface StreamRegistry {
  /** A slot for one more stream of `userId`; 429 when the user already has STREAMS_PER_USER open here. */
  open(userId: string): StreamSlot;
  /** Ends every open stream (shutdown): each sends its `retry:` hint and closes. */
  closeAll(): void;
  /** Open streams on this instance. */
  count(): number;
}

export interface StreamSlot {
  /** Aborts when the instance shuts down. */
  signal: AbortSignal;
  release(): void;
}

export function createStreamRegistry(limitPerUser: number): StreamRegistry {
  const perUser = new Map<string, number>();
  const open = new Set<AbortController>();
  let closing = false;
  return {
    open(userId) {
      const n = perUser.get(userId) ?? 0;
      if (n >= limitPerUser)
        throw new ApiError(
          "rate_limited",
          `At most ${limitPerUser} streams per user may be open at once; close one first.`,
          { limit: limitPerUser },
          { "Retry-After": "1" },
        );
      perUser.set(userId, n + 1);
      const controller = new AbortController();
      if (closing) controller.abort();
      open.add(controller);
      let released = false;
      return {
        signal: controller.signal,
        release() {
          if (released) return;
          released = true;
          open.delete(controller);
          const left = (perUser.get(userId) ?? 1) - 1;
          if (left > 0) perUser.set(userId, left);
          else perUser.delete(userId);
        },
      };
    },
    closeAll() {
      closing = true;
      for (const c of open) c.abort();
    },
    count: () => open.size,
  };
}

/** `Last-Event-ID` as a version, or null when absent or not a decimal integer. */
export function parseLastEventId(header: string | undefined): number | null {
  if (!header || !/^\d{1,15}$/.test(header.trim())) return null;
  return Number(header.trim());
}

export interface JobStream {
  type: JobType;
  id: string;
  slot: StreamSlot;
  lastEventId: number | null;
  /** The job now (refreshed from its provider if that is how it moves); throws when it cannot be read. */
  read: () => Promise<JobSnapshot>;
  /** Re-read at least this often even without a signal (a provider that must be polled); default STREAM_PING_MS. */
  rereadEveryMs?: number;
}

/** Writes the job's events to `stream` until it is done, the client goes, STREAM_MAX_MS passes or shutdown. */
export async function runJobStream(deps: StreamDeps, stream: SSEStreamingApi, job: JobStream): Promise<void> {
  const { clock } = deps;
  const waker = new Waker();
  const stop = new AbortController();
  const end = () => stop.abort();
  stream.onAbort(end);
  job.slot.signal.addEventListener("abort", end, { once: true });
  // Subscribed before the first read: a change committed after it is heard (and the feed's first LISTEN, if it
  // is only being made now, tells every subscriber to re-read once it is in effect).
  const unsubscribe = deps.changes.subscribe(job.type, job.id, () => waker.wake());
  const startedAt = clock.now().getTime();
  const maxMs = deps.config.STREAM_MAX_MS;
  const rereadEveryMs = Math.min(job.rereadEveryMs ?? STREAM_PING_MS, STREAM_PING_MS);
  let lastWrite = startedAt;
  let sent = job.lastEventId;
  const hintRetry = () => stream.write(`retry: ${STREAM_RETRY_MS}\n\n`);
  try {
    for (;;) {
      let snap: JobSnapshot;
      try {
        snap = await job.read();
      } catch (err) {
        // The database is away (or the job vanished): end with a retry hint; the client resumes with
        // Last-Event-ID and misses nothing, since a final state is always sent as `done`.
        deps.logger.warn({ err, type: job.type, id: job.id }, "stream: cannot read the job; ending the stream");
        if (!stop.signal.aborted) await hintRetry();
        return;
      }
      if (stream.aborted) return;
      const data = JSON.stringify(snap.resource);
      if (snap.final) {
        await stream.writeSSE({ event: "done", id: String(snap.version), data });
        return;
      }
      if (sent === null || snap.version > sent) {
        await stream.writeSSE({ event: "status", id: String(snap.version), data });
        sent = snap.version;
        lastWrite = clock.now().getTime();
      }
      for (;;) {
        const now = clock.now().getTime();
        const left = startedAt + maxMs - now;
        if (left <= 0 || stop.signal.aborted) {
          if (!stream.aborted) await hintRetry();
          return;
        }
        const untilPing = lastWrite + STREAM_PING_MS - now;
        const woken = await waker.wait(clock, Math.max(0, Math.min(left, untilPing, rereadEveryMs)), stop.signal);
        if (woken) break;
        if (stop.signal.aborted) continue;
        const after = clock.now().getTime();
        if (after - lastWrite >= STREAM_PING_MS) {
          await stream.write(": ping\n\n");
          lastWrite = after;
          // A re-read with each ping: the fallback should a signal ever be missed.
          break;
        }
        if (after - startedAt >= maxMs) continue;
        break;
      }
    }
  } finally {
    unsubscribe();
    job.slot.signal.removeEventListener("abort", end);
    job.slot.release();
  }
}
