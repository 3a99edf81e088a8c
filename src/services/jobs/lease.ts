import { randomUUID } from "node:crypto";
import { type Column, lte, or, type SQL, sql } from "drizzle-orm";
import type { Clock } from "../../lib/clock";

/**
 * A claimed job belongs to one holder until its lease runs out. Every claim names a fresh holder (a UUID, not the
 * instance: an instance that lost a job and claimed it again is a new holder), and every write that follows —
 * renewal, retry, finish — is guarded by `holder = $mine`, so a holder whose lease was taken over changes
 * nothing. The holder renews its lease while it works; once a renewal finds the job no longer its own, or the
 * lease it holds runs out without a renewal landing, `signal` aborts and the work must stop.
 */

/** A fresh holder id for one claim. */
export const newHolder = (): string => randomUUID();

/** A lease column that lets anyone claim: never set, or run out by `now`. */
export function leaseFree(leaseUntil: Column, now: Date): SQL {
  return or(sql`${leaseUntil} is null`, lte(leaseUntil, now)) as SQL;
}

export interface HeldLease {
  /** Aborted when the lease is lost: the job was taken over, or the lease ran out before a renewal landed. */
  readonly signal: AbortSignal;
  /** Stops renewing (the job is done, or given back). */
  release(): void;
}

export interface HoldLeaseOptions {
  clock: Clock;
  leaseMs: number;
  /** Until when the claim made the lease ours. */
  heldUntil: Date;
  /** Moves the lease to `until` if the job is still this holder's; false when it is not (taken over, finished). */
  renew: (until: Date) => Promise<boolean>;
  /** Told once why the lease was lost (for the log). */
  onLost?: (reason: "taken_over" | "not_renewed", err?: unknown) => void;
}

/** Renews every third of the lease on the clock, so a renewal that fails once still has two more tries. */
export function holdLease(o: HoldLeaseOptions): HeldLease {
  const lost = new AbortController();
  const stop = new AbortController();
  let heldUntil = o.heldUntil.getTime();
  const every = Math.max(10, Math.floor(o.leaseMs / 3));
  const lose = (reason: "taken_over" | "not_renewed", err?: unknown) => {
    if (lost.signal.aborted) return;
    o.onLost?.(reason, err);
    lost.abort(reason);
  };
  void (async () => {
    while (!stop.signal.aborted && !lost.signal.aborted) {
      await o.clock.sleep(every, stop.signal);
      if (stop.signal.aborted) return;
      const until = new Date(o.clock.now().getTime() + o.leaseMs);
      try {
        if (await o.renew(until)) heldUntil = until.getTime();
        else lose("taken_over");
      } catch (err) {
        // The database may be away for a moment: the lease we hold is still ours until it runs out.
        if (o.clock.now().getTime() >= heldUntil) lose("not_renewed", err);
      }
    }
  })();
  return {
    signal: lost.signal,
    release: () => stop.abort(),
  };
}
