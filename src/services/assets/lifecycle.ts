import { and, eq, inArray, sql } from "drizzle-orm";
import { asset } from "../../db/schema";
import type { AssetFileRecord, AssetRow } from "../../db/schemas/assets";
import { ACTIVE_ASSET_STATUSES, ASSET_ERRORS, type AssetErrorCode } from "../../domain/assets";
import { toAsset } from "../../schemas/assets";
import { finishJob } from "../jobs";
import type { Needs } from "../ports";

/** The ports this module uses. */
type FinishAssetDeps = Needs<"db" | "clock" | "storage">;

export type AssetFinish =
  | { status: "succeeded"; files: AssetFileRecord[] }
  | { status: "failed"; error: AssetErrorCode };

/**
 * Moves an active asset to its final status through the job lifecycle: once (guarded by the status), with its
 * `asset.completed` webhook and, when it failed, its refund in the same transaction. Null when it was already final.
 * A worker passes its `holder`: then only while the job is still its own (a holder whose lease was taken over
 * finishes nothing). The deadline passes none: it fails the job whoever holds it.
 */
export function finishAsset(
  deps: FinishAssetDeps,
  id: string,
  f: AssetFinish,
  holder?: string,
): Promise<AssetRow | null> {
  const now = deps.clock.now();
  const failed = f.status === "failed";
  return finishJob<AssetRow>(deps.db, {
    type: "asset",
    now,
    transition: async (tx) => {
      const [row] = await tx
        .update(asset)
        .set({
          status: f.status,
          files: f.status === "succeeded" ? f.files : null,
          error: f.status === "failed" ? { code: f.error, message: ASSET_ERRORS[f.error] } : null,
          completedAt: now,
          updatedAt: now,
          version: sql`${asset.version} + 1`,
          claimedBy: null,
          leaseUntil: null,
          ...(failed ? { creditsRefunded: sql`${asset.creditsCharged}` } : {}),
        })
        .where(
          and(
            eq(asset.id, id),
            inArray(asset.status, [...ACTIVE_ASSET_STATUSES]),
            holder === undefined ? undefined : eq(asset.claimedBy, holder),
          ),
        )
        .returning();
      return row ?? null;
    },
    refundReason: (row) => (f.status === "failed" ? `${row.kind} failed (${f.error})` : null),
    toResource: (row) => toAsset(row, deps.storage.publicUrl),
  });
}
