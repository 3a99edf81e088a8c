import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../db";
import { prepared } from "../../db/prepared";
import { asset } from "../../db/schema";
import type { AssetRow } from "../../db/schemas/assets";
import { type AssetStatus, isAssetFinal } from "../../domain/assets";
import { notFound } from "../../lib/errors";
import { decodeCursor, keysetAfterPlaceholders, keysetOrder, preparedPage } from "../../lib/pagination";
import { Waker } from "../../lib/waker";
import type { AssetKind } from "../deliverables";
import type { Needs } from "../ports";

/** The ports this module uses. */
type AssetReadDeps = Needs<"db" | "clock" | "changes" | "storage">;

/** Reading assets: by id (the routes' owner check decides whose), optionally waiting for it, and as pages. */

export async function findAsset(db: Database, id: string): Promise<AssetRow | undefined> {
  // Prepared: every read of an asset (a poll among them) passes its owner check through here.
  const statement = prepared(db, "asset_by_id", (d, name) =>
    d
      .select()
      .from(asset)
      .where(eq(asset.id, sql.placeholder("id")))
      .prepare(name),
  );
  const [row] = await statement.execute({ id });
  return row;
}

async function loadAsset(db: Database, id: string): Promise<AssetRow> {
  const row = await findAsset(db, id);
  if (!row) throw notFound("Asset");
  return row;
}

/**
 * How often a `Prefer: wait` read looks again without a signal: only the fallback should a change notice be missed
 * (the change feed wakes it the moment any instance commits a change to the asset).
 */
const WAIT_FALLBACK_MS = 5_000;

/**
 * The caller's asset (its owner check read it); with `waitSeconds`, held until it is final, the time passes, or the
 * client goes away.
 */
export async function readOwnedAsset(
  deps: AssetReadDeps,
  owned: AssetRow,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<AssetRow> {
  if (waitSeconds <= 0 || isAssetFinal(owned.status)) return owned;
  const id = owned.id;
  const changed = new Waker();
  const unsubscribe = deps.changes.subscribe("asset", id, () => changed.wake());
  try {
    // Read again once subscribed: a change between the owner check's read and the subscription is not missed.
    let row = await loadAsset(deps.db, id);
    const deadline = deps.clock.now().getTime() + waitSeconds * 1000;
    while (!isAssetFinal(row.status) && deps.clock.now().getTime() < deadline && !signal?.aborted) {
      await changed.wait(deps.clock, Math.min(WAIT_FALLBACK_MS, deadline - deps.clock.now().getTime()), signal);
      row = await loadAsset(deps.db, id);
    }
    return row;
  } finally {
    unsubscribe();
  }
}

export interface AssetListFilters {
  limit: number;
  cursor?: string;
  kind?: AssetKind;
  status?: AssetStatus;
}

/** Assets newest first, keyset-paginated: the caller's of a mode (`userId`, `livemode`) or one prediction's (`predictionId`). */
export async function listAssets(
  db: Database,
  owner: { userId: string; livemode: boolean } | { predictionId: string },
  f: AssetListFilters,
): Promise<{ data: AssetRow[]; nextCursor: string | null }> {
  const cursor = decodeCursor(f.cursor);
  const byUser = "userId" in owner;
  // One prepared statement per owner kind and combination of filters (sixteen at most).
  const name = `assets_page_${byUser ? "u" : "p"}${cursor ? "c" : ""}${f.kind ? "k" : ""}${f.status ? "s" : ""}`;
  const statement = prepared(db, name, (d) =>
    d
      .select()
      .from(asset)
      .where(
        and(
          // A prediction's assets are of its mode; the caller's are those of the caller's mode.
          byUser
            ? and(eq(asset.userId, sql.placeholder("userId")), eq(asset.livemode, sql.placeholder("livemode")))
            : eq(asset.predictionId, sql.placeholder("predictionId")),
          f.kind ? eq(asset.kind, sql.placeholder("kind")) : undefined,
          f.status ? eq(asset.status, sql.placeholder("status")) : undefined,
          cursor ? keysetAfterPlaceholders(asset.createdAt, asset.id) : undefined,
        ),
      )
      .orderBy(...keysetOrder(asset.createdAt, asset.id))
      .limit(sql.placeholder("limit"))
      .prepare(name),
  );
  return preparedPage(statement, { ...owner, kind: f.kind, status: f.status }, f.limit, cursor);
}
