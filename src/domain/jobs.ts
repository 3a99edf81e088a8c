/** The facts every paid job shares: a prediction and an asset are both charged, run, finished once, refunded once. */

/** The kinds of paid job, as the ledger's subject and the outbox's job_type name them. */
export const JOB_TYPES = ["prediction", "asset"] as const;
export type JobType = (typeof JOB_TYPES)[number];

/** What a ledger row of a job is about. */
export interface JobSubject {
  type: JobType;
  id: string;
}
