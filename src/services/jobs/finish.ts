import type { Database, Tx } from "../../db";
import type { JobType } from "../../domain/jobs";
import { refundOnce } from "../ledger";
import { enqueueWebhook, type WebhookSource } from "../webhooks/outbox";

/**
 * The lifecycle every paid job shares (a prediction, an asset): it is finished exactly once — the kind's guarded
 * UPDATE (… WHERE status is still active) decides the one winner — and in the same transaction as that change its
 * `completed` webhook is queued and, unless it succeeded, its credits are refunded (once: the ledger's unique index
 * backs the guard up). Each kind supplies only what differs: its transition and its resource as clients see it.
 * The transition bumps the row's `version`, and the database's trigger announces that bump on `logo_job_changed`
 * (streams and `Prefer: wait` on every instance wake on it) in this same transaction, so it is heard only if it
 * commits.
 */

export interface FinishedJob extends WebhookSource {
  creditsCharged: number;
}

export interface JobFinish<R extends FinishedJob> {
  type: JobType;
  /** The guarded final UPDATE; null when the job was already final (then nothing else happens). */
  transition: (tx: Tx) => Promise<R | null>;
  /** Why the credits go back; null when the job succeeded (nothing is refunded). */
  refundReason: (row: R) => string | null;
  /** The job as its GET answers it, for the `completed` webhook. */
  toResource: (row: R) => unknown;
  now: Date;
}

export function finishJob<R extends FinishedJob>(db: Database, f: JobFinish<R>): Promise<R | null> {
  return db.transaction(async (tx) => {
    const row = await f.transition(tx);
    if (!row) return null;
    // Only the winner of the guarded UPDATE gets here: exactly one `completed` event and one refund per job.
    await enqueueWebhook(tx, f.type, row, "completed", () => f.toResource(row), f.now);
    const reason = f.refundReason(row);
    if (reason !== null && row.creditsCharged > 0)
      await refundOnce(tx, {
        userId: row.userId,
        subject: { type: f.type, id: row.id },
        amount: row.creditsCharged,
        reason,
      });
    return row;
  });
}
