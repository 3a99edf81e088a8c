/** Value checks shared by routes, services and the cursor codec. */

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every id this service stores (users, sessions, predictions, ledger rows, orders) is a UUID. */
export const isUuid = (v: unknown): v is string => typeof v === "string" && UUID_RE.test(v);

/** A date PostgreSQL's timestamptz holds and this service can have written: years 1970 to 9999. */
export function isStorableDate(d: Date): boolean {
  const year = d.getUTCFullYear();
  return !Number.isNaN(d.getTime()) && year >= 1970 && year <= 9999;
}

/** A plain JSON object (not null, not an array). */
export const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
