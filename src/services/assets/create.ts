import { asset } from "../../db/schema";
import type { AssetRow } from "../../db/schemas/assets";
import type { PredictionRow } from "../../db/schemas/predictions";
import type { Deps } from "../../deps";
import type { AuthUser } from "../../domain/user";
import { ApiError, conflict } from "../../lib/errors";
import { assetOptions, type CreateAssetRequest } from "../../schemas/assets";
import { charge } from "../ledger";
import { checkWebhookUrl } from "../webhooks/address-guard";

/**
 * Ordering a deliverable: from one output of the caller's succeeded prediction (the route's owner check read it), charged (ASSET_CREDITS) in the same
 * transaction as the asset is recorded — 402 with nothing charged when the balance is short — then queued for any
 * instance's workers; this instance is told at once.
 */
export async function createAsset(
  deps: Deps,
  user: AuthUser,
  source: PredictionRow,
  req: CreateAssetRequest,
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
  const row = await deps.db.transaction(async (tx) => {
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
      });
    return inserted;
  });
  deps.assetRunner.kick();
  return row;
}
