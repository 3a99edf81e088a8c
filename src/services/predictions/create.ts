import { and, eq, sql } from "drizzle-orm";
import type { Database, Executor } from "../../db";
import { prepared } from "../../db/prepared";
import { prediction } from "../../db/schema";
import type { PredictionRow } from "../../db/schemas/predictions";
import { getModel, priceOf } from "../../domain/models";
import { PREDICTION_ERRORS } from "../../domain/predictions";
import type { AuthUser } from "../../domain/user";
import { ApiError } from "../../lib/errors";
import {
  type CreatePredictionRequest,
  type PredictionInput,
  PredictionInputSchema,
  toPrediction,
} from "../../schemas/predictions";
import { charge, isUniqueViolation, preparedChargeWithJob } from "../ledger";
import { eachlabsCallbackUrl } from "../providers/eachlabs-callback";
import { buildPrompt, buildProviderInput } from "../providers/eachlabs-input";
import { type GenerationProvider, isProviderError, providerFor } from "../providers/provider";
import { enqueueWebhook } from "../webhooks/outbox";
import { checkWebhookUrl } from "../webhooks/webhook-url";
import { finishPrediction } from "./lifecycle";
import { loadRow } from "./queries";
import { type SettleDeps, settleCompletion } from "./settle";

/** A create may settle the sandbox's completion at once: the settle's ports. */
type CreateDeps = SettleDeps;

/**
 * Creating a prediction: validate against the model, charge and record in one statement, call the provider outside
 * any transaction, then move it to processing (or, when the provider refused, fail and refund it).
 */

/** The accepted request with defaults filled in, as stored in `input`. */
export function acceptedInput(req: CreatePredictionRequest): PredictionInput {
  return PredictionInputSchema.parse({
    brandName: req.brandName,
    description: req.description || null,
    style: req.style ?? null,
    colors: req.colors ?? [],
    aspectRatio: req.aspectRatio,
    numOutputs: req.numOutputs,
    prompt: req.prompt || null,
  });
}

// ---------------------------------------------------------------- create

export async function createPrediction(
  deps: CreateDeps,
  user: AuthUser,
  req: CreatePredictionRequest,
  idempotencyKey?: string,
): Promise<PredictionRow> {
  const { db, logger } = deps;
  const provider = providerFor(deps, user.livemode);
  if (!provider)
    throw new ApiError(
      "service_unavailable",
      "Image generation is not configured on this server (no provider API key). Nothing was charged.",
    );
  const model = getModel(req.model);
  if (!model)
    throw new ApiError("validation_error", `Unknown model "${req.model}".`, {
      issues: [{ path: "model", message: "Unknown model" }],
    });
  if (req.numOutputs > model.maxOutputs) {
    const message = `${model.id} makes at most ${model.maxOutputs} image${model.maxOutputs === 1 ? "" : "s"} per request; numOutputs was ${req.numOutputs}.`;
    throw new ApiError("validation_error", message, { issues: [{ path: "numOutputs", message }] });
  }
  const input = acceptedInput(req);
  const request = { ...input, model: model.id };
  const price = priceOf(model, input.numOutputs);
  const providerRequest = buildProviderInput(model, request);
  const prompt = buildPrompt(request);
  // Outgoing webhook: the scheme and literal-address checks need the deployment's configuration (400 here).
  const webhook = req.webhook ? checkWebhookUrl(deps.config, req.webhook) : null;
  const webhookEvents = webhook ? [...new Set(req.webhookEvents)] : null;

  // 1. Charge and record, together: one statement (see chargeAndRecord), or — when it charged nothing (a short
  // balance, no account yet) — the transaction below, which finds out why (402, nothing charged) or, if credits
  // arrived in between, charges after all.
  const values = {
    userId: user.id,
    model: model.id,
    status: "queued" as const,
    input,
    prompt,
    creditsCharged: price,
    createdAt: deps.clock.now(),
    webhook,
    webhookEvents,
    idempotencyKey: idempotencyKey ?? null,
    livemode: user.livemode,
  };
  const reason = `${model.id} × ${input.numOutputs}`;
  let row: { id: string };
  try {
    const charged = await chargeAndRecord(db, values, reason);
    row =
      charged ??
      (await db.transaction(async (tx) => {
        const [inserted] = await tx.insert(prediction).values(values).returning({ id: prediction.id });
        if (!inserted) throw new Error("prediction insert returned nothing");
        await charge(tx, {
          userId: user.id,
          subject: { type: "prediction", id: inserted.id },
          amount: price,
          reason,
          livemode: user.livemode,
        });
        return inserted;
      }));
  } catch (err) {
    // A prediction already holds this key: its request's outcome was never recorded (its instance died, or the
    // database went away before the answer was kept). That prediction is the answer; nothing more is charged.
    if (idempotencyKey && isUniqueViolation(err, "prediction_user_idempotency_key_idx")) {
      const [existing] = await db
        .select()
        .from(prediction)
        .where(
          and(
            eq(prediction.userId, user.id),
            eq(prediction.livemode, user.livemode),
            eq(prediction.idempotencyKey, idempotencyKey),
          ),
        );
      if (existing) return existing;
    }
    throw err;
  }

  // 2. Call the provider outside any transaction (it may take up to EACHLABS_TIMEOUT_MS).
  let created: { id: string; raw: unknown };
  try {
    created = await provider.create({
      ...providerRequest,
      webhookUrl: completionCallbackUrl(deps, provider, row.id),
      onCompleted: () => {
        settleCompletion(deps, row.id).catch((err: unknown) =>
          deps.logger.warn({ err, predictionId: row.id }, "completion announced: the refresh failed"),
        );
      },
    });
  } catch (err) {
    logger.warn(
      {
        predictionId: row.id,
        err,
        kind: isProviderError(err) ? err.kind : "unexpected",
        httpStatus: isProviderError(err) ? err.httpStatus : undefined,
        providerMessage: isProviderError(err) ? err.providerMessage : undefined,
      },
      "provider create failed; refunding",
    );
    await finishPrediction(deps, row.id, {
      status: "failed",
      error: "provider_error",
      raw: isProviderError(err) ? (err.raw ?? { error: err.providerMessage ?? err.message }) : null,
    });
    throw new ApiError("provider_error", PREDICTION_ERRORS.provider_error, { predictionId: row.id });
  }

  // 3. Remember the provider's id and answer; only a still-queued row moves on (a cancel may have won). One
  // statement, or — with a webhook — a transaction that also queues the `start` webhook it reports.
  const now = deps.clock.now();
  const started = webhook ? await startWithWebhook(deps, row.id, created, now) : await start(db, row.id, created, now);
  if (started) return started;
  // Canceled (or failed by the reconciler) while the provider was answering: stop the provider's work too.
  await db.update(prediction).set({ providerPredictionId: created.id }).where(eq(prediction.id, row.id));
  provider
    .cancel(created.id)
    .catch((err: unknown) => logger.warn({ err, predictionId: row.id }, "provider cancel failed"));
  return loadRow(db, row.id);
}

/**
 * The charge of a new prediction as one statement (see preparedChargeWithJob): the debit, the prediction and its
 * ledger row, or nothing. Returns the new prediction's id, or null when nothing was charged.
 */
async function chargeAndRecord(
  db: Database,
  v: typeof prediction.$inferInsert & { creditsCharged: number; createdAt: Date; livemode: boolean },
  reason: string,
): Promise<{ id: string } | null> {
  // Built once per database and then only bound: Drizzle renders raw SQL on every call otherwise, and that
  // rendering was a visible share of a create's CPU.
  const statement = preparedChargeWithJob(db, "prediction_charge", "prediction", (p) => {
    const col = (c: { name: string }) => sql.identifier(c.name);
    return sql`
      insert into ${prediction} (${col(prediction.userId)}, ${col(prediction.model)}, ${col(prediction.status)},
                  ${col(prediction.input)}, ${col(prediction.prompt)}, ${col(prediction.creditsCharged)},
                  ${col(prediction.createdAt)}, ${col(prediction.webhook)}, ${col(prediction.webhookEvents)},
                  ${col(prediction.idempotencyKey)}, ${col(prediction.livemode)})
      select ${p("userId")}::uuid, ${p("model")}::text, 'queued', ${p("input")}::jsonb, ${p("prompt")}::text,
             ${p("price")}::int, ${p("createdAt")}::timestamptz, ${p("webhook")}::text, ${p("webhookEvents")}::text[],
             ${p("idempotencyKey")}::text, ${p("livemode")}::boolean
        from debit
      returning ${col(prediction.id)}`;
  });
  const [row] = await statement.execute({
    userId: v.userId,
    price: v.creditsCharged,
    model: v.model,
    input: JSON.stringify(v.input),
    prompt: v.prompt,
    createdAt: v.createdAt.toISOString(),
    webhook: v.webhook ?? null,
    webhookEvents: v.webhookEvents ? `{${v.webhookEvents.join(",")}}` : null,
    idempotencyKey: v.idempotencyKey ?? null,
    livemode: v.livemode,
    reason,
  });
  return row ?? null;
}

/** processing, with the provider's id, for a prediction still queued (one statement); null when it was not. */
async function start(
  db: Executor,
  id: string,
  created: { id: string; raw: unknown },
  now: Date,
): Promise<PredictionRow | null> {
  const statement = prepared(db, "prediction_start", (d, name) =>
    d
      .update(prediction)
      .set({
        providerPredictionId: sql`${sql.placeholder("providerId")}`,
        providerResponse: sql`${sql.placeholder("raw")}::jsonb`,
        status: "processing",
        startedAt: sql`${sql.placeholder("now")}::timestamptz`,
        lastSyncedAt: sql`${sql.placeholder("now")}::timestamptz`,
        updatedAt: sql`${sql.placeholder("now")}::timestamptz`,
        version: sql`${prediction.version} + 1`,
      })
      .where(and(eq(prediction.id, sql.placeholder("id")), eq(prediction.status, "queued")))
      .returning()
      .prepare(name),
  );
  const [updated] = await statement.execute({
    id,
    providerId: created.id,
    raw: JSON.stringify(created.raw ?? null),
    now: now.toISOString(),
  });
  return updated ?? null;
}

/** The same, with the `start` webhook queued in the same transaction as the change it reports. */
async function startWithWebhook(
  deps: CreateDeps,
  id: string,
  created: { id: string; raw: unknown },
  now: Date,
): Promise<PredictionRow | null> {
  return deps.db.transaction(async (tx) => {
    const updated = await start(tx, id, created, now);
    if (updated) await enqueueWebhook(tx, "prediction", updated, "start", () => toPrediction(updated), now);
    return updated;
  });
}

/**
 * Where Eachlabs announces this prediction's completion (EACHLABS_CALLBACKS): our id exists before the provider
 * call, so the URL names it. The sandbox announces it in-process (onCompleted) and gets none.
 */
function completionCallbackUrl(deps: CreateDeps, provider: GenerationProvider, id: string): string | undefined {
  if (provider.mode !== "eachlabs" || !deps.config.EACHLABS_CALLBACKS) return undefined;
  return eachlabsCallbackUrl(deps.config.PUBLIC_URL, deps.config.BETTER_AUTH_SECRET, id);
}
