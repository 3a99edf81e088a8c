import { Column, is, SQL } from "drizzle-orm";
import type { Executor } from "./index";

/**
 * One prepared statement per database (or transaction) and name, built on first use: its SQL text is
 * rendered once, not on every request, and on PostgreSQL a named statement is parsed once per connection.
 * Names are fixed strings in the code, so each database holds a bounded set; a closed database's entries
 * go with it (WeakMap).
 */
const statements = new WeakMap<Executor, Map<string, unknown>>();

export function prepared<T>(db: Executor, name: string, build: (db: Executor, name: string) => T): T {
  let byName = statements.get(db);
  if (!byName) {
    byName = new Map();
    statements.set(db, byName);
  }
  let statement = byName.get(name) as T | undefined;
  if (statement === undefined) {
    statement = build(db, name);
    flatRowMapper(statement);
    byName.set(name, statement);
  }
  return statement;
}

interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

/** What a Drizzle prepared select keeps of its selection (drizzle-orm 0.45, both drivers). */
interface PreparedSelect {
  fields?: { path: string[]; field: unknown }[];
  customResultMapper?: (rows: unknown[][]) => unknown;
}

/**
 * A flat selection's rows mapped by a loop over decoders found once, instead of Drizzle's mapResultRow, which
 * asks each field of each row what kind of field it is (`is()` walks the prototype chain) through an iterator
 * over its path: on a 20-row ledger page that was ~190 such lookups per request. The values are the same (the
 * same decoder of the same column); a nested selection, a join or anything else keeps Drizzle's mapping.
 */
function flatRowMapper(statement: unknown): void {
  const q = statement as PreparedSelect;
  if (!q || typeof q !== "object" || !Array.isArray(q.fields) || q.customResultMapper) return;
  const keys: string[] = [];
  const decoders: Decoder[] = [];
  for (const { path, field } of q.fields) {
    const key = path.length === 1 ? path[0] : undefined;
    const decoder: Decoder | undefined = is(field, Column)
      ? field
      : is(field, SQL)
        ? (field as unknown as { decoder: Decoder }).decoder
        : is(field, SQL.Aliased)
          ? (field.sql as unknown as { decoder: Decoder }).decoder
          : undefined;
    if (key === undefined || !decoder) return;
    keys.push(key);
    decoders.push(decoder);
  }
  const width = keys.length;
  q.customResultMapper = (rows) => {
    const out = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as unknown[];
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < width; i++) {
        const value = row[i];
        obj[keys[i] as string] = value === null ? null : (decoders[i] as Decoder).mapFromDriverValue(value);
      }
      out[r] = obj;
    }
    return out;
  };
}
