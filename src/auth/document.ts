import { NO_NUL as NO_NUL_RE } from "../domain/patterns";
import { codeOfStatus } from "../lib/errors";
import { HTTP_METHODS, type Json } from "../openapi/json";
import { errorDescription, rateLimitHeaders, requestIdHeader } from "../openapi/responses";
import {
  API_KEY_AUTH_PATHS,
  type AuthAccess,
  type AuthOperation,
  authOperation,
  FIELD_KINDS,
  UNSUPPORTED_FIELDS,
} from "./operations";

/** Better Auth operations that delete a user, refused while the user has money-related history (hooks.ts). */
const KEEPS_HISTORY = new Set(["/delete-anonymous-user", "/admin/remove-user"]);

const ERROR_REF = { $ref: "#/components/schemas/Error" };
const NO_NUL = NO_NUL_RE.source; // PostgreSQL text cannot hold NUL: true of every stored string
const PRINTABLE = "^[\\x21-\\x7E]+$"; // tokens, keys, codes: printable ASCII without spaces
const NUMERIC = "^-?[0-9]+(\\.[0-9]+)?$";

/** How a Better Auth string is bounded, decided by its property or parameter name. */
function boundString(s: Json, name: string) {
  if (s.enum || s.const !== undefined) return;
  const n = name.toLowerCase();
  const set = (maxLength: number, extra: Json) => {
    s.maxLength ??= maxLength;
    if (!s.format && !s.pattern) Object.assign(s, extra);
  };
  if (s.format === "date-time") return set(64, {});
  if (s.format === "email" || n.endsWith("email")) return set(320, { format: "email" });
  if (s.format === "uri") return set(2048, {});
  // Our Better Auth instance generates UUIDs for users, sessions, accounts and API keys.
  if (["id", "userid", "referenceid", "impersonatedby", "keyid"].includes(n)) return set(36, { format: "uuid" });
  if (/(callbackurl|redirectto)$/.test(n)) return set(2048, { format: "uri-reference" });
  if (n === "url" || n === "iss") return set(2048, { format: "uri" });
  if (n === "image") return set(2048, { pattern: NO_NUL });
  if (/(token|^key$|^code$|^state$|^nonce$|^start$|^prefix$)/.test(n)) return set(2048, { pattern: PRINTABLE });
  if (n.endsWith("password")) return set(128, { pattern: NO_NUL });
  if (n === "ipaddress") return set(45, { pattern: "^[0-9A-Fa-f:.]*$" });
  if (n === "useragent" || n === "metadata") return set(2048, { pattern: NO_NUL });
  if (/(message|reason|description|^error$)/.test(n)) return set(1000, { pattern: NO_NUL });
  return set(255, { pattern: NO_NUL });
}

interface WalkContext {
  /** Response schemas bound their arrays more loosely than request schemas. */
  response: boolean;
}

/** Bounds every string and array of a Better Auth schema, in place. */
function normalizeSchema(s: unknown, name: string, ctx: WalkContext): void {
  if (!s || typeof s !== "object" || Array.isArray(s)) return;
  const schema = s as Json;
  // Better Auth writes 3.0's `nullable` into its 3.1 document: say it the 3.1 way.
  if (schema.nullable === true) {
    delete schema.nullable;
    if (typeof schema.type === "string") schema.type = [schema.type, "null"];
    else if (Array.isArray(schema.type) && !schema.type.includes("null")) schema.type = [...schema.type, "null"];
  } else if (schema.nullable === false) delete schema.nullable;
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.includes("string")) boundString(schema, name);
  if (types.includes("array")) schema.maxItems ??= ctx.response ? 1000 : 100;
  if (schema.properties) for (const [k, v] of Object.entries(schema.properties)) normalizeSchema(v, k, ctx);
  if (schema.items) normalizeSchema(schema.items, name, ctx);
  if (schema.additionalProperties && typeof schema.additionalProperties === "object")
    normalizeSchema(schema.additionalProperties, name, ctx);
  if (schema.additionalProperties || schema.propertyNames) schema.maxProperties ??= 100;
  if (schema.propertyNames) normalizeSchema(schema.propertyNames, "key", ctx);
  for (const k of ["anyOf", "oneOf", "allOf"] as const) {
    if (!Array.isArray(schema[k])) continue;
    // A query value given as "string or number" is a number written as a string.
    const numeric = schema[k].some((x: Json) => x?.type === "number" || x?.type === "integer");
    for (const sub of schema[k]) {
      if (numeric && sub?.type === "string" && !sub.pattern && !sub.format) {
        sub.pattern = NUMERIC;
        sub.maxLength ??= 20;
      }
      normalizeSchema(sub, name, ctx);
    }
  }
}

const camel = (words: string[]) =>
  words
    .flatMap((w) => w.split(/[^A-Za-z0-9]+/))
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1)))
    .join("");

/** Better Auth's errors as the /api/auth handler rewrites them (handler.ts authErrorAsEnvelope), by status. */
const AUTH_ERROR_MEANINGS: Record<number, string> = {
  400: "Invalid request; Better Auth's own code is in `details.authCode`.",
  401: "Not signed in, or wrong credentials.",
  403: "Not allowed, e.g. not an admin, the origin is not trusted, or the request carries an API key (`x-api-key`; `details.authCode` `API_KEY_NOT_ALLOWED`).",
  409: "Conflict with existing data, e.g. the email is already registered.",
  429: "Too many requests for this client address and path; retry after `Retry-After` seconds.",
  503: "The database is unavailable; retry after `Retry-After` seconds.",
};

const API_KEY_REFUSED_DESCRIPTION =
  "Not reachable with an API key: a request carrying `x-api-key` answers 403 `forbidden` (`details.authCode` `API_KEY_NOT_ALLOWED`); API keys reach this API's resources, never account management.";
const API_KEY_SESSION_DESCRIPTION =
  "With an API key (`x-api-key`) it answers the key's user and a session standing for the key (the only auth endpoint a key may call).";
/** Endpoints that list sessions answer them without their tokens (hooks.ts). */
const SESSION_LISTS = new Set(["/list-sessions", "/admin/list-user-sessions"]);
const LISTED_SESSION = "AuthListedSession";

/** Password sign-in is also throttled per account (hooks.ts, services/signin-throttle.ts). */
const PASSWORD_SIGN_IN_PATH = "/sign-in/email";
const SIGNIN_THROTTLE_DESCRIPTION =
  "Throttled per client address (3 attempts in 10 seconds, in production) and against password guessing: after " +
  "`SIGNIN_MAX_FAILURES` (default 10) wrong passwords for one email (trimmed, case-insensitive) from one client " +
  "address within 15 minutes, that address's sign-ins for that email answer 429 `rate_limited` with " +
  "`Retry-After` until its window passes, while other addresses (the owner's) can still sign in; after " +
  "`SIGNIN_MAX_FAILURES_PER_ACCOUNT` (default 5 × `SIGNIN_MAX_FAILURES`) wrong passwords for the email from all " +
  "addresses together, every sign-in for it answers 429 until that window passes, except from a device that has " +
  "signed in to that account before (it shows the `logo_device_…` cookie, signed and HttpOnly, set by a " +
  "successful sign-in for a year), which meets only its own address's bound. IPv6 addresses count per /64. A " +
  "successful sign-in clears the account's count and its address's.";
const SIGNIN_429_MEANING =
  "Too many requests: too many attempts from this client address, or too many wrong " +
  "passwords for this account (from this address, or from all addresses) within 15 minutes (`details.authCode` `TOO_MANY_FAILED_SIGN_INS`); retry " +
  "after `Retry-After` seconds.";

/**
 * Better Auth reads its session from the cookie or (bearer plugin) the Authorization header. `{}` first says
 * a call without credentials works too (a guest's sign-up or sign-in links the guest when it has a session).
 */
const AUTH_SECURITY: Record<AuthAccess, Json[]> = {
  public: [],
  optional: [{}, { cookieAuth: [] }, { bearerAuth: [] }],
  session: [{ cookieAuth: [] }, { bearerAuth: [] }],
  admin: [{ adminCookieAuth: [] }, { adminBearerAuth: [] }],
};

/** The declared kind of each top-level string field of a request body (operations.ts), which the hook enforces. */
function boundBodyFields(schema: Json | undefined, operation: AuthOperation) {
  for (const [name, prop] of Object.entries<Json>(schema?.properties ?? {})) {
    const types = Array.isArray(prop.type) ? prop.type : [prop.type];
    if (!types.includes("string") || prop.enum || prop.const !== undefined) continue;
    const { maxLength, ...rest } = FIELD_KINDS[operation.body?.[name] ?? "text"] as Json;
    prop.maxLength ??= maxLength;
    if (!prop.format && !prop.pattern) Object.assign(prop, rest);
  }
}

/** Replaces every `$ref` equal to `from` inside `v` by `to`, in place. */
function walkRefs(v: unknown, from: string, to: string): void {
  if (Array.isArray(v)) for (const x of v) walkRefs(x, from, to);
  else if (v && typeof v === "object") {
    const o = v as Json;
    if (o.$ref === from) o.$ref = to;
    for (const x of Object.values(o)) walkRefs(x, from, to);
  }
}

function sentence(text: string) {
  const t = text.trim().replace(/\s+/g, " ");
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/**
 * Keeps the operations this server enables (operations.ts), prefixes their paths with /api/auth, tags them
 * Auth, gives each a camelCase unique operationId, a summary, a description and its security, bounds its
 * strings and arrays, and makes every 4xx/5xx reference our Error envelope — which the /api/auth handler
 * really answers. Unused Better Auth components are dropped.
 */
export function mergeAuthDocument(doc: Json, source: Json): Json {
  const authDoc = structuredClone(source);
  doc.components ??= {};
  doc.components.schemas ??= {};
  doc.paths ??= {};
  const authSchemas: Json = authDoc.components?.schemas ?? {};
  const rename = new Map<string, string>();
  for (const name of Object.keys(authSchemas)) rename.set(name, `Auth${name}`);
  const fixRefs = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(fixRefs);
    if (!v || typeof v !== "object") return v;
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === "$ref" && typeof x === "string" && x.startsWith("#/components/schemas/")) {
        const n = x.slice("#/components/schemas/".length);
        out[k] = `#/components/schemas/${rename.get(n) ?? n}`;
      } else out[k] = fixRefs(x);
    }
    // Better Auth writes {type: "object", $ref}; a $ref stands alone.
    if (typeof out.$ref === "string")
      for (const k of Object.keys(out)) if (k !== "$ref" && k !== "description") delete out[k];
    return out;
  };

  for (const [name, schema] of Object.entries(authSchemas)) {
    normalizeSchema(schema, name, { response: true });
    // Its models' optional fields are nullable columns, answered as null when unset (a user's image).
    const required = new Set<string>(schema.required ?? []);
    for (const [field, property] of Object.entries<Json>(schema.properties ?? {}))
      if (!required.has(field) && typeof property.type === "string") property.type = [property.type, "null"];
    doc.components.schemas[rename.get(name) ?? name] = fixRefs(schema);
  }

  const usedIds = new Set<string>();
  for (const item of Object.values<Json>(doc.paths))
    for (const m of HTTP_METHODS) if (item[m]?.operationId) usedIds.add(item[m].operationId);

  for (const [relPath, item] of Object.entries<Json>(authDoc.paths ?? {})) {
    const path = `/api/auth${relPath}`;
    const fixed: Json = {};
    for (const method of HTTP_METHODS) {
      const source = item[method] as Json | undefined;
      const operation = authOperation(method, relPath);
      if (!source || !operation) continue; // not enabled on this server: not listed
      const op = fixRefs(source) as Json;
      const ctx = { response: false };

      // Parameters: bounded; those of plugins this server does not run are not listed.
      const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
      op.parameters = (op.parameters ?? []).filter(
        (p: Json) => !(UNSUPPORTED_FIELDS as readonly string[]).includes(p.name),
      );
      for (const field of UNSUPPORTED_FIELDS) delete bodySchema?.properties?.[field];
      for (const p of op.parameters) {
        // A parameter naming a column takes only the columns the hook lets through.
        const rule = p.in === "query" ? operation.query?.[p.name] : undefined;
        if (Array.isArray(rule) && p.schema) {
          p.schema.enum = [...rule];
          delete p.schema.pattern;
        } else if (typeof rule === "string" && p.schema) Object.assign(p.schema, FIELD_KINDS[rule]);
        normalizeSchema(p.schema, p.name, ctx);
      }
      if (!op.parameters.length) delete op.parameters;
      for (const media of Object.values<Json>(op.requestBody?.content ?? {})) {
        boundBodyFields(media.schema, operation);
        normalizeSchema(media.schema, "body", ctx);
      }

      // Identity: operationId (camelCase, unique across the whole document), summary, description.
      const segments = relPath.split("/").filter((s) => s && !s.startsWith("{"));
      let id = op.operationId && /^[a-z][A-Za-z0-9]*$/.test(op.operationId) ? op.operationId : camel(segments);
      if (!op.operationId && Object.keys(item).filter((m) => !item[m]?.operationId).length > 1)
        id = camel([...segments, method]);
      if (usedIds.has(id)) id = camel(["auth", id]);
      usedIds.add(id);
      op.operationId = id;
      const words = id.replace(/([A-Z])/g, " $1").toLowerCase();
      const described = typeof op.description === "string" && op.description.trim();
      op.summary ??=
        (described && described.length <= 80 ? described.replace(/\.$/, "") : "") ||
        words.charAt(0).toUpperCase() + words.slice(1);
      op.description = `${sentence(described || `Better Auth: ${words}`)} Better Auth endpoint \`${method.toUpperCase()} ${path}\`.`;
      op.tags = ["Auth"];

      op.security = structuredClone(AUTH_SECURITY[operation.access]);
      const apiKeyAllowed = method === "get" && API_KEY_AUTH_PATHS.has(relPath);
      if (apiKeyAllowed) {
        op.security.push({ apiKeyAuth: [] });
        op.description += ` ${API_KEY_SESSION_DESCRIPTION}`;
      } else op.description += ` ${API_KEY_REFUSED_DESCRIPTION}`;
      if (SESSION_LISTS.has(relPath) && doc.components.schemas.AuthSession) {
        // The same sessions, without their tokens: a list never hands out credentials.
        if (!doc.components.schemas[LISTED_SESSION]) {
          const listed = structuredClone(doc.components.schemas.AuthSession);
          delete listed.properties?.token;
          listed.required = (listed.required ?? []).filter((r: string) => r !== "token");
          listed.description = "A session as lists show it: never with its token.";
          doc.components.schemas[LISTED_SESSION] = listed;
        }
        for (const response of Object.values<Json>(op.responses ?? {}))
          walkRefs(response, "#/components/schemas/AuthSession", `#/components/schemas/${LISTED_SESSION}`);
        op.description += " Session tokens are never listed: each session comes without its `token`.";
      }

      // Responses: success as documented (a redirect when Better Auth documents none), errors in our envelope.
      const responses: Json = {};
      for (const [status, response] of Object.entries<Json>(op.responses ?? {})) {
        if (/^[45]/.test(status)) continue;
        for (const [type, media] of Object.entries<Json>(response.content ?? {})) {
          // A whole page (GET /error), not a field: bounded as a page.
          if (type === "text/html" && media.schema) media.schema.maxLength ??= 100_000;
          normalizeSchema(media.schema, "body", { response: true });
        }
        responses[status] = response;
      }
      if (!Object.keys(responses).some((s) => /^[23]/.test(s))) responses["200"] = { description: "Success." };
      const errorStatuses = new Set([
        // Better Auth's 422 ("already exists") is answered as 409 conflict (authErrorAsEnvelope).
        ...Object.keys(op.responses ?? {})
          .filter((s) => /^[45]\d\d$/.test(s))
          .map((s) => (s === "422" ? "409" : s)),
        "400",
        "401",
        ...(apiKeyAllowed ? [] : ["403"]),
        "429",
        "500",
        // Every operation reads the database.
        "503",
        // The body limit runs before Better Auth.
        ...(method === "post" ? ["413"] : []),
        ...(KEEPS_HISTORY.has(relPath) ? ["409"] : []),
      ]);
      if (KEEPS_HISTORY.has(relPath))
        op.description +=
          " Refused with 409 `conflict` while the user has credits, a ledger, generations or orders: those are kept (a guest keeps them by signing up; ban a user instead of removing it).";
      const passwordSignIn = relPath === PASSWORD_SIGN_IN_PATH;
      if (passwordSignIn) op.description += ` ${SIGNIN_THROTTLE_DESCRIPTION}`;
      for (const status of [...errorStatuses].sort()) {
        const code = Number(status);
        responses[status] = {
          description: errorDescription(
            code,
            (passwordSignIn && code === 429 ? SIGNIN_429_MEANING : undefined) ??
              AUTH_ERROR_MEANINGS[code] ??
              (codeOfStatus(code) ? undefined : op.responses?.[status]?.description),
          ),
          headers: {
            ...structuredClone(requestIdHeader),
            ...(code === 429 ? { "Retry-After": structuredClone(rateLimitHeaders["RateLimit-Reset"]) } : {}),
          },
          content: { "application/json": { schema: { ...ERROR_REF } } },
        };
        if (code === 429) responses[status].headers["Retry-After"].description = "Seconds to wait before retrying.";
      }
      op.responses = responses;
      fixed[method] = op;
    }
    if (Object.keys(fixed).length) doc.paths[path] = fixed;
  }

  // Drop Better Auth components nothing references (its verification and API-key tables).
  for (;;) {
    const outside = JSON.stringify({ ...doc, components: { ...doc.components, schemas: {} } });
    const referenced = (n: string) => {
      const ref = `"#/components/schemas/${n}"`;
      return (
        outside.includes(ref) ||
        Object.entries(doc.components.schemas).some(([k, v]) => k !== n && JSON.stringify(v).includes(ref))
      );
    };
    const drop = [...rename.values()].filter((n) => doc.components.schemas[n] && !referenced(n));
    if (!drop.length) break;
    for (const n of drop) delete doc.components.schemas[n];
  }
  return doc;
}
