import { and, count, eq, inArray } from "drizzle-orm";
import type { Tx } from "../../db";
import { asset, creditAccount } from "../../db/schema";
import type { AssetRow } from "../../db/schemas/assets";
import type { PredictionRow } from "../../db/schemas/predictions";
import { ACTIVE_ASSET_STATUSES } from "../../domain/assets";
import type { AuthUser } from "../../domain/user";
import { ApiError, conflict } from "../../lib/errors";
import type { CreateAssetRequest } from "../../schemas/assets";
import { assetOptions } from "../deliverables";
import { charge, isUniqueViolation } from "../ledger";
import type { Needs } from "../ports";
import { checkWebhookUrl } from "../webhooks/webhook-url";

/** The ports this module uses. */
type CreateAssetDeps = Needs<"config" | "db" | "clock" | "assetRunner" | "storage">;

/**
 * Ordering a deliverable: from one output of the caller's succeeded prediction (the route's owner check read it), charged (ASSET_CREDITS) in the same
 * transaction as the asset is recorded — 402 with nothing charged when the balance is short — then queued for any
 * instance's workers; this instance is told at once.
 */
export async function createAsset(
  deps: CreateAssetDeps,
  user: AuthUser,
  source: PredictionRow,
  req: CreateAssetRequest,
  idempotencyKey?: string,
): Promise<AssetRow> {
  if (source.status !== "succeeded")
    throw conflict(`Deliverables are made from a succeeded prediction; this one is ${source.status}.`, {
      status: source.status,
    });
  const outputs = source.output ?? [];
  if (req.outputIndex >= outputs.length) {
    const message = `outputIndex must be below ${outputs.length}: this prediction has ${outputs.length} output${outputs.length === 1 ? "" : "s"}.`;
    throw new ApiError("validation_error", message, { issues: [{ path: "outputIndex", message }] });
  }
  const webhook = req.webhook ? checkWebhookUrl(deps.config, req.webhook) : null;
  const price = deps.config.ASSET_CREDITS[req.kind];
  let row: AssetRow;
  try {
    row = await deps.db.transaction(async (tx) => {
      await refuseOverActiveCap(tx, user.id, deps.config.ASSET_MAX_ACTIVE_PER_USER);
      const [inserted] = await tx
        .insert(asset)
        .values({
          userId: user.id,
          predictionId: source.id,
          outputIndex: req.outputIndex,
          kind: req.kind,
          status: "queued",
          options: assetOptions(req.kind, req.options),
          creditsCharged: price,
          webhook,
          webhookEvents: webhook ? [...new Set(req.webhookEvents)] : null,
          idempotencyKey: idempotencyKey ?? null,
          // The owner check found the source in the caller's mode: the asset is of that mode too.
          livemode: source.livemode,
          createdAt: deps.clock.now(),
        })
        .returning();
      if (!inserted) throw new Error("asset insert returned nothing");
      if (price > 0)
        await charge(tx, {
          userId: user.id,
          subject: { type: "asset", id: inserted.id },
          amount: price,
          reason: `${req.kind} of prediction ${source.id}`,
          livemode: source.livemode,
        });
      return inserted;
    });
  } catch (err) {
    // An asset already holds this key (its request's outcome was never recorded): it is the answer, charged once
    // (and it counts among the active ones, so the cap may have refused the retry first).
    const heldKey =
      isUniqueViolation(err, "asset_user_idempotency_key_idx") ||
      (err instanceof ApiError && err.code === "rate_limited");
    if (idempotencyKey && heldKey) {
      const [existing] = await deps.db
        .select()
        .from(asset)
        .where(
          and(eq(asset.userId, user.id), eq(asset.livemode, source.livemode), eq(asset.idempotencyKey, idempotencyKey)),
        );
      if (existing) return existing;
    }
    throw err;
  }
  deps.assetRunner.kick();
  return row;
}

/** How long a caller over the active cap is asked to wait: about one deliverable's time. */
const ACTIVE_CAP_RETRY_AFTER_S = 10;

/**
 * ASSET_MAX_ACTIVE_PER_USER: one user's queued + processing assets are bounded, so no one can fill the queue ahead
 * of everyone else. The user's credit account row is locked first, so concurrent orders of one user count one
 * after the other (the charge takes the same lock anyway); nothing is charged when the cap refuses.
 */
async function refuseOverActiveCap(tx: Tx, userId: string, cap: number) {
  await tx
    .select({ userId: creditAccount.userId })
    .from(creditAccount)
    .where(eq(creditAccount.userId, userId))
    .for("update");
  const [active] = await tx
    .select({ n: count() })
    .from(asset)
    .where(and(eq(asset.userId, userId), inArray(asset.status, [...ACTIVE_ASSET_STATUSES])));
  if ((active?.n ?? 0) < cap) return;
  throw new ApiError(
    "rate_limited",
    `You have ${cap} deliverables queued or in progress, the most at once; order more when one is done.`,
    { limit: cap, retryAfterSeconds: ACTIVE_CAP_RETRY_AFTER_S },
    { "Retry-After": String(ACTIVE_CAP_RETRY_AFTER_S) },
  );
}
