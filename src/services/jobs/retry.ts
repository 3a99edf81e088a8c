/**
 * When a job that failed for a passing reason (storage or the database away, an instance gone) is tried again:
 * a policy from configuration, not a constant. Attempt n (1-based) that failed waits `backoffMs[n-1]` (the last
 * entry repeats) with ± `jitter` drawn at random, so jobs that failed together do not come back together; after
 * `maxAttempts` attempts the job is final. A failure caused by the job's own input is never retried: the caller
 * finishes it at once.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The wait after attempt 1, 2, …; the last one repeats. */
  backoffMs: readonly number[];
  /** The share (0–1) by which a wait may be shorter or longer. */
  jitter: number;
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/** The wait after `attempt` (1-based) failed, jittered. */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const list = policy.backoffMs;
  const base = list[Math.min(Math.max(1, attempt), list.length) - 1] ?? 0;
  return Math.round(base * (1 - policy.jitter + 2 * policy.jitter * random()));
}

/** Whether `attempt` (1-based), which just failed for a passing reason, gets another, and after how long. */
export function nextRetry(policy: RetryPolicy, attempt: number, random: () => number = Math.random): RetryDecision {
  if (attempt >= policy.maxAttempts) return { retry: false };
  return { retry: true, delayMs: retryDelay(policy, attempt, random) };
}
