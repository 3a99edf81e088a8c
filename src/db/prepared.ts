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
    byName.set(name, statement);
  }
  return statement;
}
