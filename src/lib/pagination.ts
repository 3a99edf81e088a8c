import { desc, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { ApiError } from "./errors";
import { isStorableDate, isUuid } from "./validation";

/** Keyset pagination over (created_at desc, id desc). The cursor is opaque base64url of the last row's keys. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.id])).toString("base64url");
}

export function decodeCursor(s: string | undefined): Cursor | undefined {
  if (!s) return undefined;
  try {
    const [iso, id] = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as [string, string];
    const createdAt = new Date(iso);
    if (typeof iso !== "string" || !isStorableDate(createdAt) || !isUuid(id)) throw new Error();
    return { createdAt, id };
  } catch {
    throw new ApiError("validation_error", "The cursor is not valid.", {
      issues: [{ path: "cursor", message: "Invalid cursor" }],
    });
  }
}

/**
 * Rows after the cursor in (created_at desc, id desc) order, as one row comparison: PostgreSQL uses it as an
 * index condition on (…, created_at desc, id desc) indexes, so a page deep in a long history starts where
 * the cursor is instead of filtering every newer row (the equivalent OR form is only a filter).
 */
export function keysetWhere(createdAt: PgColumn, id: PgColumn, cursor: Cursor | undefined): SQL | undefined {
  if (!cursor) return undefined;
  return sql`(${createdAt}, ${id}) < (${createdAt.mapToDriverValue(cursor.createdAt)}, ${id.mapToDriverValue(cursor.id)})`;
}

/** keysetWhere for a prepared statement: the cursor comes as the placeholders of cursorParams. */
export function keysetAfterPlaceholders(createdAt: PgColumn, id: PgColumn): SQL {
  return sql`(${createdAt}, ${id}) < (${sql.placeholder("cursorCreatedAt")}::timestamptz, ${sql.placeholder("cursorId")}::uuid)`;
}

export const cursorParams = (cursor: Cursor) => ({
  cursorCreatedAt: cursor.createdAt.toISOString(),
  cursorId: cursor.id,
});

export const keysetOrder = (createdAt: PgColumn, id: PgColumn) => [desc(createdAt), desc(id)];

/**
 * A page read by a prepared keyset statement (placeholders `limit` and, after a cursor, those of cursorParams, beside
 * `values`): one row more than the page, which says whether there is a next one.
 */
export async function preparedPage<T extends { createdAt: Date; id: string }>(
  statement: { execute(values: Record<string, unknown>): Promise<T[]> },
  values: Record<string, unknown>,
  limit: number,
  cursor: Cursor | undefined,
) {
  const rows = await statement.execute({ ...values, limit: limit + 1, ...(cursor ? cursorParams(cursor) : {}) });
  return page(rows, limit);
}

/** Given limit+1 fetched rows, the page and the cursor for the next one. */
export function page<T extends { createdAt: Date; id: string }>(rows: T[], limit: number) {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
