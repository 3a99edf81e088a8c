/**
 * Stored Idempotency-Key records: one per (user, scope, key), holding the request's hash while it runs and
 * its outcome for 24 hours after. The idempotent middleware decides what to answer from them.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../db";
import { idempotencyKey } from "../db/schema";

const TTL_MS = 24 * 60 * 60 * 1000;
/** An in-flight record older than this is taken to be from a crashed request and may be taken over. */
export const ABANDONED_AFTER_MS = 2 * 60 * 1000;

export type IdempotencyRecord = typeof idempotencyKey.$inferSelect;
export interface IdempotencyScope {
  userId: string;
  scope: string;
  key: string;
}

const whereKey = (k: IdempotencyScope) =>
  and(eq(idempotencyKey.userId, k.userId), eq(idempotencyKey.scope, k.scope), eq(idempotencyKey.key, k.key));

/**
 * Claims the key for a request (after dropping an expired or abandoned record of it). Returns null when the key
 * was free and is now this request's, else the record that holds it (undefined: it vanished meanwhile).
 */
export async function claimIdempotencyKey(
  db: Database,
  k: IdempotencyScope,
  requestHash: string,
  now: Date,
): Promise<IdempotencyRecord | undefined | null> {
  await db
    .delete(idempotencyKey)
    .where(
      and(
        whereKey(k),
        sql`(${idempotencyKey.expiresAt} <= ${now.toISOString()} or (${idempotencyKey.responseStatus} is null and ${idempotencyKey.createdAt} <= ${new Date(now.getTime() - ABANDONED_AFTER_MS).toISOString()}))`,
      ),
    );
  const claimed = await db
    .insert(idempotencyKey)
    .values({ ...k, requestHash, createdAt: now, expiresAt: new Date(now.getTime() + TTL_MS) })
    .onConflictDoNothing()
    .returning({ key: idempotencyKey.key });
  if (claimed.length > 0) return null;
  const [existing] = await db.select().from(idempotencyKey).where(whereKey(k));
  return existing;
}

/** Keeps the outcome of the work, to be replayed. */
export async function saveIdempotentResponse(
  db: Database,
  k: IdempotencyScope,
  response: { status: number; body: unknown; headers: Record<string, string> },
): Promise<void> {
  await db
    .update(idempotencyKey)
    .set({ responseStatus: response.status, responseBody: response.body, responseHeaders: response.headers })
    .where(whereKey(k));
}

/**
 * Frees the key: the request was refused before doing anything, or failed unexpectedly. Only the in-flight record
 * this request claimed at `claimedAt` (a late release never frees a key a later request holds).
 */
export async function releaseIdempotencyKey(db: Database, k: IdempotencyScope, claimedAt: Date): Promise<void> {
  await db
    .delete(idempotencyKey)
    .where(and(whereKey(k), isNull(idempotencyKey.responseStatus), eq(idempotencyKey.createdAt, claimedAt)));
}
