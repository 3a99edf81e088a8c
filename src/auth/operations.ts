/**
 * The Better Auth endpoints this server enables, each with who may call it and the strings its JSON body takes.
 * The document lists exactly these (with this security), the /api/auth handler routes only these, and the
 * before-hook holds request bodies to these bounds. Without social providers, a mailer or user deletion
 * configured, Better Auth's social sign-in, OAuth callbacks, account linking and unlinking, provider tokens,
 * password reset, email verification, email change and delete-user can only fail, so they are not here; nor
 * are POST /get-session (needs deferSessionRefresh) and /update-session (no updatable session fields).
 */
import { NO_NUL } from "../domain/patterns";
import { isUuid } from "../lib/validation";

/**
 * public: no credentials; optional: works signed out and, with a (guest) session, acts on it (sign-up and
 * sign-in link a guest); session: a signed-in user; admin: a user with the admin role.
 */
export type AuthAccess = "public" | "optional" | "session" | "admin";

/** What a string field of a request body holds, and so how long it may be and which characters it may have. */
export const FIELD_KINDS = {
  email: { maxLength: 320, format: "email" },
  password: { maxLength: 128, pattern: NO_NUL.source },
  text: { maxLength: 255, pattern: NO_NUL.source },
  message: { maxLength: 1000, pattern: NO_NUL.source },
  url: { maxLength: 2048, format: "uri-reference" },
  image: { maxLength: 2048, pattern: NO_NUL.source },
  token: { maxLength: 2048, pattern: "^[\\x21-\\x7E]+$" },
  uuid: { maxLength: 36, format: "uuid" },
} as const satisfies Record<string, { maxLength: number; format?: string; pattern?: string }>;
export type FieldKind = keyof typeof FIELD_KINDS;

export interface AuthOperation {
  access: AuthAccess;
  /** The string fields of the JSON body; Better Auth validates the other fields' types itself. */
  body?: Record<string, FieldKind>;
  /**
   * Query parameters Better Auth passes to the database as they are: the values a column-naming one may take,
   * or the kind of an id.
   */
  query?: Record<string, readonly string[] | FieldKind>;
}

const USER_SORT_FIELDS = ["createdAt", "updatedAt", "name", "email", "role", "banned"] as const;

/** Keyed by "METHOD /path", the path relative to /api/auth as Better Auth's document writes it. */
export const AUTH_OPERATIONS: Record<string, AuthOperation> = {
  "POST /sign-up/email": {
    access: "optional",
    body: { name: "text", email: "email", password: "password", image: "image", callbackURL: "url" },
  },
  "POST /sign-in/email": { access: "optional", body: { email: "email", password: "password", callbackURL: "url" } },
  "POST /sign-in/anonymous": { access: "public" },
  "GET /get-session": { access: "optional" },
  // Answers 200 without a session too (there is nothing to end).
  "POST /sign-out": { access: "optional", body: { callbackURL: "url", state: "token" } },
  "POST /verify-password": { access: "session", body: { password: "password" } },
  "POST /change-password": { access: "session", body: { newPassword: "password", currentPassword: "password" } },
  "POST /update-user": { access: "session", body: { name: "text", image: "image" } },
  "GET /list-sessions": { access: "session" },
  "POST /revoke-session": { access: "session", body: { token: "token" } },
  "POST /revoke-sessions": { access: "session" },
  "POST /revoke-other-sessions": { access: "session" },
  "GET /list-accounts": { access: "session" },
  "GET /ok": { access: "public" },
  "GET /error": { access: "public" },
  "POST /delete-anonymous-user": { access: "session" },
  "POST /admin/set-role": { access: "admin", body: { userId: "uuid" } },
  "GET /admin/get-user": { access: "admin", query: { id: "uuid" } },
  "POST /admin/create-user": { access: "admin", body: { email: "email", password: "password", name: "text" } },
  "POST /admin/update-user": { access: "admin", body: { userId: "uuid" } },
  "GET /admin/list-users": {
    access: "admin",
    query: {
      sortBy: USER_SORT_FIELDS,
      filterField: [...USER_SORT_FIELDS, "emailVerified", "isAnonymous", "id"],
    },
  },
  "POST /admin/list-user-sessions": { access: "admin", body: { userId: "uuid" } },
  "POST /admin/unban-user": { access: "admin", body: { userId: "uuid" } },
  "POST /admin/ban-user": { access: "admin", body: { userId: "uuid", banReason: "message" } },
  "POST /admin/impersonate-user": { access: "admin", body: { userId: "uuid" } },
  "POST /admin/stop-impersonating": { access: "session" },
  "POST /admin/revoke-user-session": { access: "admin", body: { sessionToken: "token" } },
  "POST /admin/revoke-user-sessions": { access: "admin", body: { userId: "uuid" } },
  "POST /admin/remove-user": { access: "admin", body: { userId: "uuid" } },
  "POST /admin/set-user-password": { access: "admin", body: { newPassword: "password", userId: "uuid" } },
  "POST /admin/has-permission": { access: "session" },
  "POST /api-key/create": {
    access: "session",
    body: { configId: "text", name: "text", prefix: "token", userId: "uuid" },
  },
  "GET /api-key/get": { access: "session", query: { id: "uuid" } },
  "POST /api-key/update": {
    access: "session",
    body: { configId: "text", keyId: "uuid", userId: "uuid", name: "text" },
  },
  "POST /api-key/delete": { access: "session", body: { keyId: "uuid" } },
  "GET /api-key/list": {
    access: "session",
    query: { sortBy: ["createdAt", "updatedAt", "name", "expiresAt", "lastRequest", "enabled"] },
  },
};

/** The one Better Auth call an API key may make: reading the session it stands for (hooks.ts refuses the rest). */
export const API_KEY_AUTH_PATHS: ReadonlySet<string> = new Set(["/get-session"]);

export const authOperation = (method: string, path: string): AuthOperation | undefined =>
  AUTH_OPERATIONS[`${method.toUpperCase()} ${path}`];

/**
 * Better Auth fields for plugins this server does not run (organizations): its endpoints fail with a 500 when
 * one is sent, so the document does not list them and the hook refuses them as invalid input.
 */
export const UNSUPPORTED_FIELDS = ["organizationId"] as const;

/** Problems of a JSON body's string fields against the operation's declared kinds (and NUL, anywhere on top). */
export function authBodyIssues(
  op: AuthOperation | undefined,
  body: unknown,
  query?: Record<string, unknown>,
): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  for (const field of UNSUPPORTED_FIELDS)
    if (query?.[field] !== undefined || (body as Record<string, unknown> | undefined)?.[field] !== undefined)
      issues.push({ path: field, message: `${field}: organizations are not enabled on this server` });
  for (const [field, rule] of Object.entries(op?.query ?? {})) {
    const value = query?.[field];
    if (value === undefined) continue;
    if (typeof rule === "string") {
      const problem = fieldProblem(rule, value);
      if (problem) issues.push({ path: field, message: `${field}: ${problem}` });
    } else if (!(typeof value === "string" && rule.includes(value)))
      issues.push({ path: field, message: `${field}: one of ${rule.join(", ")}` });
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return issues;
  for (const [key, value] of Object.entries(body)) {
    // Own properties only: a body key such as "constructor" names no declared field.
    const kind = op?.body && Object.hasOwn(op.body, key) ? op.body[key] : undefined;
    if (typeof value !== "string") {
      if (kind && value !== null && value !== undefined)
        issues.push({ path: key, message: `${key}: must be a string` });
      continue;
    }
    const problem = fieldProblem(kind ?? "text", value);
    if (problem) issues.push({ path: key, message: `${key}: ${problem}` });
  }
  return issues;
}

/** What is wrong with a string value of this kind, or undefined. */
function fieldProblem(kind: FieldKind, value: unknown): string | undefined {
  if (typeof value !== "string") return "must be a string";
  const max = FIELD_KINDS[kind].maxLength;
  if (value.length > max) return `at most ${max} characters`;
  if (value.includes("\u0000")) return "must not contain NUL characters";
  if (kind === "uuid" && !isUuid(value)) return "must be a UUID";
  return undefined;
}
