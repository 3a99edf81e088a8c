import { type SQL, sql } from "drizzle-orm";

/** A list of string literals for a CHECK constraint built from one of the domain's lists: `'a', 'b'`. */
export const literalList = (values: readonly string[]): SQL =>
  sql.raw(values.map((v) => `'${v.replaceAll("'", "''")}'`).join(", "));
