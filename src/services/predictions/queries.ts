import { and, eq, sql } from "drizzle-orm";
import type { AuthUser } from "../../auth/user";
import type { Database } from "../../db";
import { prepared } from "../../db/prepared";
import { prediction } from "../../db/schema";
import { type PredictionRow, type PredictionView, predictionView } from "../../db/schemas/predictions";
import type { PredictionStatus } from "../../domain/predictions";
import { forbidden, notFound } from "../../lib/errors";
import { cursorParams, decodeCursor, keysetAfterPlaceholders, keysetOrder, page } from "../../lib/pagination";
import { isUuid } from "../../lib/validation";

/** Reading predictions: by id (the caller's own), as pages, and the sandbox's image input. */

export async function loadRow(db: Database, id: string): Promise<PredictionRow> {
  const statement = prepared(db, "prediction_by_id", (d, name) =>
    d
      .select()
      .from(prediction)
      .where(eq(prediction.id, sql.placeholder("id")))
      .prepare(name),
  );
  const [row] = await statement.execute({ id });
  if (!row) throw notFound("Prediction");
  return row;
}

/** The caller's prediction: 404 for an unknown or malformed id, 403 for someone else's. */
export async function getOwnedPrediction(db: Database, user: AuthUser, id: string): Promise<PredictionRow> {
  if (!isUuid(id)) throw notFound("Prediction");
  return ownedBy(user, await loadRow(db, id));
}

/** The row when it exists and is the caller's: 404 for none, 403 for someone else's. */
export function ownedBy<T extends { userId: string }>(user: AuthUser, row: T | undefined): T {
  if (!row) throw notFound("Prediction");
  if (row.userId !== user.id) throw forbidden("This prediction belongs to another user.");
  return row;
}

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

/** The caller's prediction as clients see it (the view columns, one prepared read): 404 unknown, 403 someone else's. */
export async function readPredictionView(db: Database, user: AuthUser, id: string): Promise<PredictionView> {
  if (!isUuid(id)) throw notFound("Prediction");
  const statement = prepared(db, "prediction_view_by_id", (d, name) =>
    d
      .select({ ...predictionView, userId: prediction.userId })
      .from(prediction)
      .where(eq(prediction.id, sql.placeholder("id")))
      .prepare(name),
  );
  return ownedBy(user, (await statement.execute({ id }))[0]);
}
