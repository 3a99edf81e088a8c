import { and, eq, inArray, lte, or, sql } from "drizzle-orm";
import type { Database, Executor } from "../db";
import { prepared } from "../db/prepared";
import { creditAccount, creditTransaction, prediction } from "../db/schema";
import { type PredictionRow, type PredictionView, predictionView } from "../db/schemas/predictions";
import type { Deps } from "../deps";
import { MAX_OUTPUT_IMAGES } from "../domain/limits";
import { getModel, priceOf } from "../domain/models";
import {
  ACTIVE_STATUSES,
  type FinalStatus,
  isFinal,
  PREDICTION_ERRORS,
  type PredictionErrorCode,
  type PredictionStatus,
} from "../domain/predictions";
import type { AuthUser } from "../domain/user";
import { ApiError, conflict, notFound } from "../lib/errors";
import { cursorParams, decodeCursor, keysetAfterPlaceholders, keysetOrder, page } from "../lib/pagination";
import { type CreatePredictionRequest, type PredictionInput, PredictionInputSchema } from "../schemas/predictions";
import { applyCreditChange, CREDIT_TOTALS } from "./credits";
import { copyOutputs } from "./outputs";
import { eachlabsCallbackUrl } from "./providers/eachlabs-callback";
import { buildPrompt, buildProviderInput } from "./providers/eachlabs-input";
import { type GenerationProvider, isProviderError, type ProviderPrediction } from "./providers/provider";
import { checkWebhookUrl } from "./webhooks/address-guard";
import { enqueueWebhook } from "./webhooks/outbox";

/**
 * The generation flow: charge and create, sync from the provider, finish (and refund) exactly once.
 *
 * Money rules, enforced here and by the database:
 * - the debit is in the same transaction as the prediction insert (applyCreditChange locks the balance row);
 * - every final transition is a conditional UPDATE … WHERE status IN ('queued','processing') in the
 *   same transaction as its refund, so two pollers, two instances or the reconciler can never both
 *   finish a prediction; the ledger's unique (prediction_id) WHERE type='refund' index backs that up.
 */

export type { PredictionRow };

/** At most one provider call per prediction per this many ms, however many clients poll. */
export const MIN_SYNC_INTERVAL_MS = 1000;

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
  deps: Deps,
  user: AuthUser,
  req: CreatePredictionRequest,
): Promise<PredictionRow> {
  const { db, logger } = deps;
  const provider = deps.provider;
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
  };
  const reason = `${model.id} × ${input.numOutputs}`;
  const charged = await chargeAndRecord(db, values, reason);
  const row =
    charged ??
    (await db.transaction(async (tx) => {
      const [inserted] = await tx.insert(prediction).values(values).returning({ id: prediction.id });
      if (!inserted) throw new Error("prediction insert returned nothing");
      await applyCreditChange(tx, {
        userId: user.id,
        type: "generation",
        amount: -price,
        predictionId: inserted.id,
        reason,
      });
      return inserted;
    }));

  // 2. Call the provider outside any transaction (it may take up to EACHLABS_TIMEOUT_MS).
  let created: { id: string; raw: unknown };
  try {
    created = await provider.create({ ...providerRequest, webhookUrl: completionCallbackUrl(deps, provider, row.id) });
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
 * The charge of a new prediction as one statement, so one round trip and one commit: the guarded debit of the
 * account (its row lock queues concurrent debits, and `balance >= price` is checked again after the wait, so
 * nothing overspends), the prediction, and its ledger row with the balance after. A statement is atomic: all
 * three happen or none. Returns the new prediction's id, or null when nothing was charged.
 */
async function chargeAndRecord(
  db: Database,
  v: typeof prediction.$inferInsert & { creditsCharged: number; createdAt: Date },
  reason: string,
): Promise<{ id: string } | null> {
  // Built once per database and then only bound: Drizzle renders raw SQL on every call otherwise, and that
  // rendering was a visible share of a create's CPU.
  const statement = prepared(db, "prediction_charge", (d, name) => {
    const col = (c: { name: string }) => sql.identifier(c.name);
    const p = (key: string) => sql.placeholder(key);
    const spent = creditAccount[CREDIT_TOTALS.generation?.key ?? "totalSpent"];
    const debit = d.$with("debit", { balance: creditAccount.balance }).as(sql`
      update ${creditAccount}
         set ${col(creditAccount.balance)} = ${col(creditAccount.balance)} - ${p("price")}::int,
             ${col(spent)} = ${col(spent)} + ${p("price")}::int,
             ${col(creditAccount.updatedAt)} = now()
       where ${col(creditAccount.userId)} = ${p("userId")}::uuid and ${col(creditAccount.balance)} >= ${p("price")}::int
      returning ${col(creditAccount.balance)}`);
    const inserted = d.$with("inserted", { id: prediction.id }).as(sql`
      insert into ${prediction} (${col(prediction.userId)}, ${col(prediction.model)}, ${col(prediction.status)},
                  ${col(prediction.input)}, ${col(prediction.prompt)}, ${col(prediction.creditsCharged)},
                  ${col(prediction.createdAt)}, ${col(prediction.webhook)}, ${col(prediction.webhookEvents)})
      select ${p("userId")}::uuid, ${p("model")}::text, 'queued', ${p("input")}::jsonb, ${p("prompt")}::text,
             ${p("price")}::int, ${p("createdAt")}::timestamptz, ${p("webhook")}::text, ${p("webhookEvents")}::text[]
        from debit
      returning ${col(prediction.id)}`);
    const ledger = d.$with("ledger", { id: creditTransaction.id }).as(sql`
      insert into ${creditTransaction} (${col(creditTransaction.userId)}, ${col(creditTransaction.type)},
                  ${col(creditTransaction.amount)}, ${col(creditTransaction.balanceAfter)},
                  ${col(creditTransaction.predictionId)}, ${col(creditTransaction.reason)})
      select ${p("userId")}::uuid, 'generation', -${p("price")}::int, debit.${col(creditAccount.balance)}, inserted.${col(prediction.id)},
             ${p("reason")}::text
        from debit, inserted
      returning ${col(creditTransaction.id)}`);
    // Data-modifying CTEs run whether or not they are read; the join only makes the answer say so.
    return d
      .with(debit, inserted, ledger)
      .select({ id: inserted.id })
      .from(inserted)
      .innerJoin(ledger, sql`true`)
      .prepare(name);
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
  deps: Deps,
  id: string,
  created: { id: string; raw: unknown },
  now: Date,
): Promise<PredictionRow | null> {
  return deps.db.transaction(async (tx) => {
    const updated = await start(tx, id, created, now);
    if (updated) await enqueueWebhook(tx, updated, "start", now);
    return updated;
  });
}

/**
 * Where Eachlabs announces this prediction's completion (EACHLABS_CALLBACKS): our id exists before the provider
 * call, so the URL names it. The sandbox finishes on its own schedule and gets none.
 */
function completionCallbackUrl(deps: Deps, provider: GenerationProvider, id: string): string | undefined {
  if (provider.mode !== "eachlabs" || !deps.config.EACHLABS_CALLBACKS) return undefined;
  return eachlabsCallbackUrl(deps.config.PUBLIC_URL, deps.config.BETTER_AUTH_SECRET, id);
}

// ---------------------------------------------------------------- finish (the one final transition)

export interface Finish {
  status: FinalStatus;
  output?: string[] | null;
  error?: PredictionErrorCode;
  raw?: unknown;
  /** The provider's own image URLs, kept for support whatever the outcome. */
  providerOutput?: string[];
}

/**
 * Moves an active prediction to a final status, queues its `completed` webhook and, unless it succeeded,
 * refunds it — in one transaction, guarded by the status so that only the first caller wins. Returns the updated row,
 * or null when the prediction was already final (nothing changed, nothing refunded).
 */
export async function finishPrediction(deps: Deps, id: string, f: Finish): Promise<PredictionRow | null> {
  const now = deps.clock.now();
  const refund = f.status !== "succeeded";
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(prediction)
      .set({
        status: f.status,
        output: f.status === "succeeded" ? (f.output?.slice(0, MAX_OUTPUT_IMAGES) ?? null) : null,
        error: f.error ? { code: f.error, message: PREDICTION_ERRORS[f.error] } : null,
        completedAt: now,
        lastSyncedAt: now,
        updatedAt: now,
        ...(f.raw !== undefined && f.raw !== null ? { providerResponse: f.raw as object } : {}),
        ...(f.providerOutput ? { providerOutput: f.providerOutput } : {}),
        ...(refund ? { creditsRefunded: sql`${prediction.creditsCharged}` } : {}),
      })
      .where(and(eq(prediction.id, id), inArray(prediction.status, [...ACTIVE_STATUSES])))
      .returning();
    if (!row) return null;
    // Only the winner of the guarded UPDATE gets here: exactly one `completed` webhook per prediction.
    await enqueueWebhook(tx, row, "completed", now);
    if (refund && row.creditsCharged > 0)
      await applyCreditChange(tx, {
        userId: row.userId,
        type: "refund",
        amount: row.creditsCharged,
        predictionId: row.id,
        reason: f.status === "canceled" ? "Prediction canceled" : `Prediction failed (${f.error ?? "failed"})`,
      });
    return row;
  });
}

// ---------------------------------------------------------------- sync from the provider

/**
 * A fresh view of an active prediction: asks the provider at most once per MIN_SYNC_INTERVAL_MS per
 * prediction across every poller and instance (an in-process single-flight map, plus a conditional
 * claim of last_synced_at in the database). Final rows, rows not yet at the provider, and rows synced
 * within the interval are returned as stored.
 */
export async function refreshPrediction(deps: Deps, row: PredictionRow): Promise<PredictionRow> {
  if (isFinal(row.status) || !row.providerPredictionId || !deps.provider) return row;
  const inflight = deps.predictionSyncs;
  const running = inflight.get(row.id);
  if (running) return running;
  if (row.lastSyncedAt && deps.clock.now().getTime() - row.lastSyncedAt.getTime() < MIN_SYNC_INTERVAL_MS) {
    // Synced within the interval — possibly by a call that finished after this row was read (the
    // caller read it while that sync was in flight). Read it again so a poller overlapping a sync
    // never answers the state from before it.
    return loadRow(deps.db, row.id);
  }
  const p = (async () => {
    const claimed = await claimSync(deps, row.id);
    if (!claimed) return loadRow(deps.db, row.id);
    return syncFromProvider(deps, claimed);
  })().finally(() => inflight.delete(row.id));
  inflight.set(row.id, p);
  return p;
}

/** Takes the sync slot: sets last_synced_at only if the last sync is older than the interval. */
async function claimSync(deps: Deps, id: string): Promise<PredictionRow | null> {
  const now = deps.clock.now();
  const [row] = await deps.db
    .update(prediction)
    .set({ lastSyncedAt: now })
    .where(
      and(
        eq(prediction.id, id),
        inArray(prediction.status, [...ACTIVE_STATUSES]),
        or(
          sql`${prediction.lastSyncedAt} is null`,
          lte(prediction.lastSyncedAt, new Date(now.getTime() - MIN_SYNC_INTERVAL_MS)),
        ),
      ),
    )
    .returning();
  return row ?? null;
}

/** One provider read and what follows from it. The caller has claimed the sync slot. */
export async function syncFromProvider(deps: Deps, row: PredictionRow): Promise<PredictionRow> {
  const provider = deps.provider;
  if (!provider || !row.providerPredictionId || isFinal(row.status)) return row;
  let remote: ProviderPrediction;
  try {
    remote = await provider.get(row.providerPredictionId);
  } catch (err) {
    // Transport trouble is not a verdict: keep the prediction active; the deadline fails it eventually.
    deps.logger.warn(
      {
        predictionId: row.id,
        err,
        kind: isProviderError(err) ? err.kind : "unexpected",
        providerMessage: isProviderError(err) ? err.providerMessage : undefined,
      },
      "provider get failed",
    );
    return row;
  }
  return applyRemote(deps, row, remote);
}

async function applyRemote(deps: Deps, row: PredictionRow, remote: ProviderPrediction): Promise<PredictionRow> {
  let finished: PredictionRow | null = null;
  switch (remote.status) {
    case "processing":
      return keepProcessing(deps, row, remote.raw);
    case "succeeded":
      if (remote.output && remote.output.length > 0) {
        // Provider URLs expire: the row says succeeded only once every image is in our storage, and
        // `output` lists our URLs. A copy that may work later leaves it processing (the next poll or
        // the reconciler tries again) until the deadline; one that cannot work fails and refunds it.
        const providerOutput = remote.output.slice(0, MAX_OUTPUT_IMAGES);
        const copied = await copyOutputs(deps, providerOutput);
        if (copied.ok) {
          finished = await finishPrediction(deps, row.id, {
            status: "succeeded",
            output: copied.urls,
            providerOutput,
            raw: remote.raw,
          });
          break;
        }
        const pastDeadline = deps.clock.now().getTime() - row.createdAt.getTime() >= deps.config.PREDICTION_DEADLINE_MS;
        const failures = copied.failures.map((f) => ({ reason: f.reason, kind: f.kind, url: f.url }));
        if (copied.kind === "transient" && !pastDeadline) {
          deps.logger.warn({ predictionId: row.id, failures }, "output copy failed; will retry");
          return keepProcessing(deps, row, remote.raw, providerOutput);
        }
        deps.logger.warn({ predictionId: row.id, failures }, "output copy failed for good; refunding");
        finished = await finishPrediction(deps, row.id, {
          status: "failed",
          error: copied.kind === "transient" ? "timeout" : "generation_failed",
          providerOutput,
          raw: remote.raw,
        });
        break;
      }
      deps.logger.warn({ predictionId: row.id }, "provider reported success without images; failing");
      finished = await finishPrediction(deps, row.id, {
        status: "failed",
        error: "generation_failed",
        raw: remote.raw,
      });
      break;
    case "failed":
      deps.logger.warn(
        { predictionId: row.id, providerError: remote.error },
        "provider reported the generation failed; refunding",
      );
      finished = await finishPrediction(deps, row.id, {
        status: "failed",
        error: "generation_failed",
        raw: remote.raw,
      });
      break;
    case "canceled":
      finished = await finishPrediction(deps, row.id, { status: "canceled", raw: remote.raw });
      break;
  }
  return finished ?? loadRow(deps.db, row.id);
}

/** Records the provider's answer on a prediction that stays active. */
async function keepProcessing(
  deps: Deps,
  row: PredictionRow,
  raw: unknown,
  providerOutput?: string[],
): Promise<PredictionRow> {
  const [updated] = await deps.db
    .update(prediction)
    .set({
      providerResponse: raw as object,
      ...(providerOutput ? { providerOutput } : {}),
      updatedAt: deps.clock.now(),
    })
    .where(and(eq(prediction.id, row.id), inArray(prediction.status, [...ACTIVE_STATUSES])))
    .returning();
  return updated ?? loadRow(deps.db, row.id);
}

// ---------------------------------------------------------------- reads, waits, cancel, lists

export async function loadRow(db: Database, id: string): Promise<PredictionRow> {
  const row = await findPrediction(db, id);
  if (!row) throw notFound("Prediction");
  return row;
}

/** The whole row, or undefined when there is none (the owner check of the routes reads it). */
export async function findPrediction(db: Database, id: string): Promise<PredictionRow | undefined> {
  const statement = prepared(db, "prediction_by_id", (d, name) =>
    d
      .select()
      .from(prediction)
      .where(eq(prediction.id, sql.placeholder("id")))
      .prepare(name),
  );
  const [row] = await statement.execute({ id });
  return row;
}

/** The columns clients see and whose it is, or undefined: what the routes' owner check reads on the polling path. */
export async function findPredictionView(
  db: Database,
  id: string,
): Promise<(PredictionView & { userId: string }) | undefined> {
  const statement = prepared(db, "prediction_view_by_id", (d, name) =>
    d
      .select({ ...predictionView, userId: prediction.userId })
      .from(prediction)
      .where(eq(prediction.id, sql.placeholder("id")))
      .prepare(name),
  );
  const [view] = await statement.execute({ id });
  return view;
}

/**
 * The caller's prediction as clients see it (GET /api/predictions/{id}), from the view its owner check read. A
 * final prediction never changes, so it is answered as read; an active one is loaded whole, refreshed and, for
 * `Prefer: wait=N`, waited for.
 */
export async function readOwnedPrediction(
  deps: Deps,
  view: PredictionView,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<PredictionView> {
  if (isFinal(view.status)) return view;
  return refreshAndWait(deps, await loadRow(deps.db, view.id), waitSeconds, signal);
}

/**
 * Refreshes, then — for `Prefer: wait=N` — keeps re-refreshing about once a second until the
 * prediction is final, N seconds pass, or the client goes away.
 */
export async function refreshAndWait(
  deps: Deps,
  row: PredictionRow,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<PredictionRow> {
  const { clock } = deps;
  let current = await refreshPrediction(deps, row);
  const deadline = clock.now().getTime() + waitSeconds * 1000;
  while (!isFinal(current.status) && clock.now().getTime() < deadline && !signal?.aborted) {
    // Wake when the next provider call is allowed (about once a second), never past the deadline.
    const now = clock.now().getTime();
    const nextSync = (current.lastSyncedAt?.getTime() ?? 0) + MIN_SYNC_INTERVAL_MS - now + 10;
    await clock.sleep(Math.min(Math.max(250, nextSync), deadline - now), signal);
    current = await refreshPrediction(deps, await loadRow(deps.db, row.id));
  }
  return current;
}

/** Cancels the caller's prediction (its owner check read the row) and refunds it, once; 409 when it is final. */
export async function cancelPrediction(deps: Deps, row: PredictionRow): Promise<PredictionRow> {
  if (isFinal(row.status)) throw alreadyFinal(row);
  if (row.providerPredictionId && deps.provider) {
    await deps.provider.cancel(row.providerPredictionId).catch((err: unknown) => {
      deps.logger.warn(
        { predictionId: row.id, err, providerMessage: isProviderError(err) ? err.providerMessage : undefined },
        "provider cancel failed (best effort)",
      );
    });
  }
  const finished = await finishPrediction(deps, row.id, { status: "canceled" });
  if (!finished) throw alreadyFinal(await loadRow(deps.db, row.id));
  return finished;
}

const alreadyFinal = (row: PredictionRow) =>
  conflict(`This prediction is already ${row.status} and cannot be canceled.`, { status: row.status });

export interface ListFilters {
  limit: number;
  cursor?: string;
  status?: PredictionStatus;
  model?: string;
}

/** The caller's predictions, newest first, keyset-paginated (rows; the route maps them). */
export async function listPredictions(db: Database, userId: string, f: ListFilters) {
  const cursor = decodeCursor(f.cursor);
  // One prepared statement per combination of filters (eight at most).
  const name = `predictions_page_${cursor ? "c" : ""}${f.status ? "s" : ""}${f.model ? "m" : ""}`;
  const statement = prepared(db, name, (d) =>
    d
      // Only what the page shows: the provider's raw answer and outputs are the larger part of a row.
      .select(predictionView)
      .from(prediction)
      .where(
        and(
          eq(prediction.userId, sql.placeholder("userId")),
          cursor ? keysetAfterPlaceholders(prediction.createdAt, prediction.id) : undefined,
          f.status ? eq(prediction.status, sql.placeholder("status")) : undefined,
          f.model ? eq(prediction.model, sql.placeholder("model")) : undefined,
        ),
      )
      .orderBy(...keysetOrder(prediction.createdAt, prediction.id))
      .limit(sql.placeholder("limit"))
      .prepare(name),
  );
  const rows = await statement.execute({
    userId,
    limit: f.limit + 1,
    status: f.status,
    model: f.model,
    ...(cursor ? cursorParams(cursor) : {}),
  });
  return page(rows, f.limit);
}

/** The stored input of the prediction a sandbox image belongs to (the image is drawn from it), if any. */
export async function sandboxPredictionInput(db: Database, providerPredictionId: string): Promise<unknown> {
  const [row] = await db
    .select({ input: prediction.input })
    .from(prediction)
    .where(eq(prediction.providerPredictionId, providerPredictionId))
    .limit(1);
  return row?.input;
}
