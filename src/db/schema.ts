export * from "./schemas/assets";
export * from "./schemas/auth";
export * from "./schemas/credits";
export * from "./schemas/payments";
export * from "./schemas/platform";
export * from "./schemas/predictions";
export * from "./schemas/throttles";
export * from "./schemas/webhooks";

import { asset } from "./schemas/assets";
import { polarOrder } from "./schemas/payments";
import { prediction } from "./schemas/predictions";
import { outgoingWebhook } from "./schemas/webhooks";

/**
 * The tables whose rows belong to one user through `user_id` and move with it (a guest that signs up), besides the
 * ledger's own (credit_account, credit_transaction) and the signing secret (one per user). A table added here is
 * moved by the guest transfer and counts as account history.
 */
export const USER_OWNED_TABLES = [
  { table: prediction, userId: prediction.userId },
  { table: asset, userId: asset.userId },
  { table: polarOrder, userId: polarOrder.userId },
  { table: outgoingWebhook, userId: outgoingWebhook.userId },
] as const;
