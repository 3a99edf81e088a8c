/**
 * The job kit every background job uses (deliverables, webhook deliveries, the reconciler's predictions): a claim
 * names a holder and a lease (./lease.ts), renewals and every later write are guarded by that holder, a job that
 * failed for a passing reason is tried again by a configured policy (./retry.ts), and a paid job is finished once,
 * with its webhook and refund in the same transaction (./finish.ts).
 */
export { type FinishedJob, finishJob, type JobFinish } from "./finish";
export { type HeldLease, holdLease, leaseFree, newHolder } from "./lease";
export { nextRetry, type RetryDecision, type RetryPolicy, retryDelay } from "./retry";
