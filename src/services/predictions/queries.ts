import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../db";
import { prepared } from "../../db/prepared";
import { prediction } from "../../db/schema";
import { type PredictionRow, type PredictionView, predictionView } from "../../db/schemas/predictions";
import type { PredictionStatus } from "../../domain/predictions";
import { notFound } from "../../lib/errors";
import { decodeCursor, keysetAfterPlaceholders, keysetOrder, preparedPage } from "../../lib/pagination";

/** Reading predictions: by id (the routes' owner check decides whose), as pages, and the sandbox's image input. */

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

/**
 * The polling read's query, placeholder `id`: the columns clients see and whose it is, by primary key
 * (scripts/bench/floor.ts runs its SQL text too).
 */
export function predictionViewQuery(db: Pick<Database, "select">) {
  return db
    .select({ ...predictionView, userId: prediction.userId })
    .from(prediction)
    .where(eq(prediction.id, sql.placeholder("id")));
}

/** The columns clients see and whose it is, or undefined: what the routes' owner check reads on the polling path. */
export async function findPredictionView(
  db: Database,
  id: string,
): Promise<(PredictionView & { userId: string }) | undefined> {
  const statement = prepared(db, "prediction_view_by_id", (d, name) => predictionViewQuery(d).prepare(name));
  const [view] = await statement.execute({ id });
  return view;
}

export interface ListFilters {
  limit: number;
  cursor?: string;
  status?: PredictionStatus;
  model?: string;
}

/** The caller's predictions of its mode (test or live), newest first, keyset-paginated (rows; the route maps them). */
export async function listPredictions(db: Database, caller: { id: string; livemode: boolean }, f: ListFilters) {
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
          eq(prediction.livemode, sql.placeholder("livemode")),
          cursor ? keysetAfterPlaceholders(prediction.createdAt, prediction.id) : undefined,
          f.status ? eq(prediction.status, sql.placeholder("status")) : undefined,
          f.model ? eq(prediction.model, sql.placeholder("model")) : undefined,
        ),
      )
      .orderBy(...keysetOrder(prediction.createdAt, prediction.id))
      .limit(sql.placeholder("limit"))
      .prepare(name),
  );
  return preparedPage(
    statement,
    { userId: caller.id, livemode: caller.livemode, status: f.status, model: f.model },
    f.limit,
    cursor,
  );
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
