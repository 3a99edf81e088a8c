import { and, eq, type SQL } from "drizzle-orm";
import type { AuthUser } from "../../auth/user";
import type { Database } from "../../db";
import { asset } from "../../db/schema";
import type { AssetRow } from "../../db/schemas/assets";
import type { Deps } from "../../deps";
import { type AssetKind, type AssetStatus, isAssetFinal } from "../../domain/assets";
import { forbidden, notFound } from "../../lib/errors";
import { decodeCursor, keysetOrder, keysetWhere, page } from "../../lib/pagination";
import { isUuid } from "../../lib/validation";

/** Reading assets: by id (the caller's own, optionally waiting for it), and as pages. */

export async function loadAsset(db: Database, id: string): Promise<AssetRow> {
  const [row] = await db.select().from(asset).where(eq(asset.id, id));
  if (!row) throw notFound("Asset");
  return row;
}

/** The caller's asset: 404 for an unknown or malformed id, 403 for someone else's. */
export async function getOwnedAsset(db: Database, user: AuthUser, id: string): Promise<AssetRow> {
  if (!isUuid(id)) throw notFound("Asset");
  const row = await loadAsset(db, id);
  if (row.userId !== user.id) throw forbidden("This asset belongs to another user.");
  return row;
}

/** How often a `Prefer: wait` read looks again while the asset is not final. */
const WAIT_POLL_MS = 200;

/** The caller's asset; with `waitSeconds`, held until it is final, the time passes, or the client goes away. */
export async function readOwnedAsset(
  deps: Deps,
  user: AuthUser,
  id: string,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<AssetRow> {
  let row = await getOwnedAsset(deps.db, user, id);
  const deadline = deps.clock.now().getTime() + waitSeconds * 1000;
  while (!isAssetFinal(row.status) && deps.clock.now().getTime() < deadline && !signal?.aborted) {
    await deps.clock.sleep(Math.min(WAIT_POLL_MS, deadline - deps.clock.now().getTime()), signal);
    row = await loadAsset(deps.db, id);
  }
  return row;
}

export interface AssetListFilters {
  limit: number;
  cursor?: string;
  kind?: AssetKind;
  status?: AssetStatus;
}

/** Assets newest first, keyset-paginated: the caller's (`userId`) or one prediction's (`predictionId`). */
export async function listAssets(
  db: Database,
  owner: { userId: string } | { predictionId: string },
  f: AssetListFilters,
): Promise<{ data: AssetRow[]; nextCursor: string | null }> {
  const conds: (SQL | undefined)[] = [
    "userId" in owner ? eq(asset.userId, owner.userId) : eq(asset.predictionId, owner.predictionId),
    f.kind ? eq(asset.kind, f.kind) : undefined,
    f.status ? eq(asset.status, f.status) : undefined,
    keysetWhere(asset.createdAt, asset.id, decodeCursor(f.cursor)),
  ];
  const rows = await db
    .select()
    .from(asset)
    .where(and(...conds))
    .orderBy(...keysetOrder(asset.createdAt, asset.id))
    .limit(f.limit + 1);
  return page(rows, f.limit);
}
