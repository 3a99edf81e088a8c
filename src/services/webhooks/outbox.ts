import { randomUUID } from "node:crypto";
import { and, count, eq, sql } from "drizzle-orm";
import type { Database, Tx } from "../../db";
import { prepared } from "../../db/prepared";
import { outgoingWebhook, webhookDelivery } from "../../db/schema";
import type { JobSubject, JobType } from "../../domain/jobs";
import { type WebhookEvent, webhookType } from "../../domain/webhooks";
import { decodeCursor, keysetAfterPlaceholders, keysetOrder, preparedPage } from "../../lib/pagination";

/** What the outbox needs of a job: which one, whose, and where its events go. */
export interface WebhookSource {
  id: string;
  userId: string;
  webhook: string | null;
  webhookEvents: string[] | null;
  /** The job's mode; its deliveries carry it. */
  livemode: boolean;
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
      livemode: row.livemode,
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
  const cursor = decodeCursor(f.cursor);
  // A prepared statement for the first page and one for the next ones: built once, not on every poll.
  const name = cursor ? "webhook_deliveries_after" : "webhook_deliveries_first";
  const statement = prepared(db, name, (d) =>
    d
      .select({
        id: webhookDelivery.id,
        webhookId: outgoingWebhook.webhookId,
        event: outgoingWebhook.event,
        livemode: outgoingWebhook.livemode,
        attempt: webhookDelivery.attempt,
        status: webhookDelivery.status,
        responseStatus: webhookDelivery.responseStatus,
        error: webhookDelivery.error,
        createdAt: webhookDelivery.createdAt,
        nextAttemptAt: webhookDelivery.nextAttemptAt,
      })
      .from(webhookDelivery)
      .innerJoin(outgoingWebhook, eq(outgoingWebhook.id, webhookDelivery.webhookRowId))
      .where(
        and(
          eq(outgoingWebhook.jobType, sql.placeholder("jobType")),
          eq(outgoingWebhook.jobId, sql.placeholder("jobId")),
          cursor ? keysetAfterPlaceholders(webhookDelivery.createdAt, webhookDelivery.id) : undefined,
        ),
      )
      .orderBy(...keysetOrder(webhookDelivery.createdAt, webhookDelivery.id))
      .limit(sql.placeholder("limit"))
      .prepare(name),
  );
  return preparedPage(statement, { jobType: job.type, jobId: job.id }, f.limit, cursor);
}

/** Attempts waiting to be sent (due or scheduled), over every instance: the queue depth gauge. */
export async function webhookQueueDepth(db: Database): Promise<number> {
  const [row] = await db.select({ n: count() }).from(webhookDelivery).where(eq(webhookDelivery.status, "pending"));
  return row?.n ?? 0;
}
