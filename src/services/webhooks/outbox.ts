import { randomUUID } from "node:crypto";
import { and, count, eq, type SQL } from "drizzle-orm";
import type { Database, Tx } from "../../db";
import { outgoingWebhook, webhookDelivery } from "../../db/schema";
import type { JobSubject, JobType } from "../../domain/jobs";
import { type WebhookEvent, webhookType } from "../../domain/webhooks";
import { decodeCursor, keysetOrder, keysetWhere, page } from "../../lib/pagination";

/** What the outbox needs of a job: which one, whose, and where its events go. */
export interface WebhookSource {
  id: string;
  userId: string;
  webhook: string | null;
  webhookEvents: string[] | null;
}

/** The receiver host as the sender counts it: host and port, lowercase; null for a URL that does not parse. */
export function receiverHost(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase() || null;
  } catch {
    return null;
  }
}

/**
 * The outbox of outgoing webhooks. An event is written in the same transaction as the status change it
 * reports (the caller's `tx`), once per (job, event) — the unique index makes a second write a no-op —
 * with its first attempt due at once. The sender (./sender.ts) takes it from there. `data` is what the job's
 * GET answers for it (built only when the job asked for this event).
 */
export async function enqueueWebhook(
  tx: Tx,
  jobType: JobType,
  row: WebhookSource,
  event: WebhookEvent,
  data: () => unknown,
  now: Date,
): Promise<void> {
  if (!row.webhook || !(row.webhookEvents ?? []).includes(event)) return;
  const body = JSON.stringify({ type: webhookType(jobType, event), timestamp: now.toISOString(), data: data() });
  const [inserted] = await tx
    .insert(outgoingWebhook)
    .values({
      webhookId: `msg_${randomUUID().replace(/-/g, "")}`,
      jobType,
      jobId: row.id,
      userId: row.userId,
      event,
      url: row.webhook,
      host: receiverHost(row.webhook),
      body,
      createdAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: outgoingWebhook.id });
  if (!inserted) return;
  await tx
    .insert(webhookDelivery)
    .values({ webhookRowId: inserted.id, attempt: 1, status: "pending", nextAttemptAt: now, createdAt: now });
}

/** One job's delivery attempts, newest first, keyset-paginated. */
export async function listWebhookDeliveries(db: Database, job: JobSubject, f: { limit: number; cursor?: string }) {
  const conds: (SQL | undefined)[] = [
    eq(outgoingWebhook.jobType, job.type),
    eq(outgoingWebhook.jobId, job.id),
    keysetWhere(webhookDelivery.createdAt, webhookDelivery.id, decodeCursor(f.cursor)),
  ];
  const rows = await db
    .select({
      id: webhookDelivery.id,
      webhookId: outgoingWebhook.webhookId,
      event: outgoingWebhook.event,
      attempt: webhookDelivery.attempt,
      status: webhookDelivery.status,
      responseStatus: webhookDelivery.responseStatus,
      error: webhookDelivery.error,
      createdAt: webhookDelivery.createdAt,
      nextAttemptAt: webhookDelivery.nextAttemptAt,
    })
    .from(webhookDelivery)
    .innerJoin(outgoingWebhook, eq(outgoingWebhook.id, webhookDelivery.webhookRowId))
    .where(and(...conds))
    .orderBy(...keysetOrder(webhookDelivery.createdAt, webhookDelivery.id))
    .limit(f.limit + 1);
  return page(rows, f.limit);
}

/** Attempts waiting to be sent (due or scheduled), over every instance: the queue depth gauge. */
export async function webhookQueueDepth(db: Database): Promise<number> {
  const [row] = await db.select({ n: count() }).from(webhookDelivery).where(eq(webhookDelivery.status, "pending"));
  return row?.n ?? 0;
}
