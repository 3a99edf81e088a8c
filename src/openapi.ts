import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Auth } from "./auth";
import {
  adminSecurity,
  ERROR_DESCRIPTIONS,
  rateLimitHeaders,
  requestIdHeader,
  userSecurity,
  webhookSecurity,
} from "./lib/openapi";
import type { AppEnv } from "./types";

type Json = Record<string, any>;

export const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"] as const;

export const API_INFO = {
  title: "Logo API",
  version: "1.0.0",
  description:
    "Paid AI logo generation. Sign up (or start as a guest), buy credits through Polar, spend them on Eachlabs image models, poll predictions and browse your history.\n\n" +
    "Authenticate with a Better Auth session cookie, `Authorization: Bearer <session token>` or `x-api-key: <key>`. " +
    "Every error uses the `Error` envelope and carries the request id from `X-Request-Id`.\n\n" +
    "Rate-limited operations declare `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` on their responses and " +
    "`Retry-After` on 429. Better Auth's endpoints (`/api/auth/*`) are limited by Better Auth itself (per client address " +
    "and path, in production): they answer 429 with `Retry-After` but send no `RateLimit-*` headers.\n\n" +
    "The same contract as OpenAPI 3.0.3 is served at `/openapi-3.0.json`; the reference page is `/docs`.",
  contact: { name: "Logo API support", email: "support@logo-api.example", url: "https://logo-api.example/support" },
  license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
};

export const SERVERS = [{ url: "https://api.logo-api.example", description: "Production", "x-internal": false }];

export const SECURITY_SCHEMES = {
  cookieAuth: {
    type: "apiKey",
    in: "cookie",
    name: "better-auth.session_token",
    description: "Better Auth session cookie, set by the sign-in endpoints (`__Secure-` prefixed in production).",
  },
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    description: "A Better Auth session token (returned in the `set-auth-token` header on sign-in).",
  },
  apiKeyAuth: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "An API key created by a signed-in user through `POST /api/auth/api-key/create`.",
  },
  adminCookieAuth: {
    type: "apiKey",
    in: "cookie",
    name: "better-auth.session_token",
    description: "The Better Auth session cookie of a user with the `admin` role (`ADMIN_EMAILS`, or set by an admin).",
  },
  adminBearerAuth: {
    type: "http",
    scheme: "bearer",
    description: "A Better Auth session token of a user with the `admin` role.",
  },
  adminApiKeyAuth: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "An API key of a user with the `admin` role.",
  },
  webhookSignature: {
    type: "apiKey",
    in: "header",
    name: "webhook-signature",
    description:
      "Standard Webhooks signature (`v1,<base64 HMAC-SHA256>`) of `{webhook-id}.{webhook-timestamp}.{raw body}` with the deployment's `POLAR_WEBHOOK_SECRET`; sent by Polar with `webhook-id` and `webhook-timestamp`.",
  },
} as const;

export const TAGS: [string, string][] = [
  ["Health", "Service status and metrics."],
  // Not "Models": Scalar lists the schemas under "Models", and two sections of one name confuse readers.
  ["Catalog", "The catalog of generation models and their prices."],
  ["Predictions", "Create logo generations and follow them to completion."],
  ["Generations", "Your generation history, read from storage."],
  ["Credits", "Balances, packages, purchases and the credit ledger."],
  ["Webhooks", "Signed callbacks from Polar."],
  ["Admin", "Analytics, users and credit adjustments (admin role)."],
  [
    "Sandbox",
    "Images drawn by the sandbox provider, when the server runs without an Eachlabs key (never in production).",
  ],
  [
    "Auth",
    "Better Auth: sign-up, sign-in (email/password, anonymous), sessions, API keys and admin user management. Paths are under /api/auth. Its errors use the `Error` envelope too, with Better Auth's own code in `details.authCode`.",
  ],
];

/** Better Auth operations that delete a user, refused while the user has money-related history (app.ts). */
const KEEPS_HISTORY = new Set(["/delete-anonymous-user", "/admin/remove-user"]);

/** The live OpenAPI 3.1 document: our routes plus Better Auth's, merged under /api/auth (tag Auth). */
export async function buildOpenApiDocument(app: OpenAPIHono<AppEnv>, auth: Auth): Promise<Json> {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES))
    app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: API_INFO,
    servers: SERVERS,
    security: [{ cookieAuth: [] }, { bearerAuth: [] }, { apiKeyAuth: [] }],
    tags: [],
  }) as Json;
  const authDoc = (await auth.api.generateOpenAPISchema()) as Json;
  return finalizeDocument(mergeAuthDocument(doc, authDoc));
}

// ---------------------------------------------------------------------------------------------
// Better Auth's document, normalised to our conventions while merging

const ERROR_REF = { $ref: "#/components/schemas/Error" };
const NO_NUL = "^[^\\x00]*$"; // PostgreSQL text cannot hold NUL: true of every stored string
const PRINTABLE = "^[\\x21-\\x7E]+$"; // tokens, keys, codes: printable ASCII without spaces
const NUMERIC = "^-?[0-9]+(\\.[0-9]+)?$";

/** How a Better Auth string is bounded, decided by its property or parameter name. */
function boundString(s: Json, name: string, path: string) {
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
  if (["id", "userid", "referenceid", "impersonatedby", "keyid"].includes(n) && !path.includes("/callback/"))
    return set(36, { format: "uuid" });
  if (n === "id") return set(64, { pattern: "^[a-z0-9_-]+$" }); // an OAuth provider id
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

/**
 * The most characters the document allows for a top-level string field `name` of Better Auth's request
 * bodies at `path` (relative to /api/auth); the /api/auth handler enforces it, so the contract holds.
 */
export function authStringMaxLength(name: string, path: string): number {
  const s: Json = { type: "string" };
  boundString(s, name, path);
  return s.maxLength;
}

interface WalkContext {
  path: string;
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
  if (types.includes("string")) boundString(schema, name, ctx.path);
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

/** Better Auth's errors as the /api/auth handler rewrites them (app.ts authErrorAsEnvelope). */
const AUTH_ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request (`validation_error`); Better Auth's own code is in `details.authCode`.",
  401: "Not signed in, or wrong credentials (`unauthorized`).",
  403: "Not allowed (`forbidden`), e.g. not an admin, or the origin is not trusted.",
  404: "Not found (`not_found`).",
  409: "Conflict with existing data (`conflict`), e.g. the email is already registered.",
  429: "Too many requests (`rate_limited`) for this client address and path; retry after `Retry-After` seconds.",
  500: ERROR_DESCRIPTIONS[500] ?? "Unexpected server error (`internal_error`).",
};

/** Admin-plugin endpoints that any signed-in session may call (they check permissions themselves). */
const AUTH_ADMIN_ANY_SESSION = new Set(["/admin/has-permission", "/admin/stop-impersonating"]);

const CREDENTIAL_NAME = /(client_?secret|token|access_?token|refresh_?token|id_?token|password|secret|api-?key)/i;

function sentence(text: string) {
  const t = text.trim().replace(/\s+/g, " ");
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/**
 * Prefixes Better Auth's paths with /api/auth, tags them Auth, gives each a camelCase unique operationId,
 * a summary and a description, keeps its security (cookie or bearer; admin paths need the admin role),
 * bounds its strings and arrays, and makes every 4xx/5xx reference our Error envelope — which the
 * /api/auth handler in app.ts really answers. Unused Better Auth components are dropped.
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
    normalizeSchema(schema, name, { path: "", response: true });
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
      if (!source) continue;
      const op = fixRefs(source) as Json;
      const ctx = { path: relPath, response: false };

      // Parameters: bounded; a credential in the query string is dropped when the body carries it too.
      const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
      op.parameters = (op.parameters ?? []).filter(
        (p: Json) => !(p.in === "query" && CREDENTIAL_NAME.test(p.name) && bodySchema?.properties?.[p.name]),
      );
      for (const p of op.parameters) normalizeSchema(p.schema, p.name, ctx);
      if (!op.parameters.length) delete op.parameters;
      for (const media of Object.values<Json>(op.requestBody?.content ?? {}))
        normalizeSchema(media.schema, "body", ctx);

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

      // Security: Better Auth reads its session from the cookie or (bearer plugin) the Authorization header.
      // Admin endpoints need a session of a user with the admin role (except the two any session may call).
      const admin = relPath.startsWith("/admin/") && !AUTH_ADMIN_ANY_SESSION.has(relPath);
      op.security = (source.security ?? authDoc.security ?? [{ bearerAuth: [] }]).length
        ? admin
          ? [{ adminCookieAuth: [] }, { adminBearerAuth: [] }]
          : [{ cookieAuth: [] }, { bearerAuth: [] }]
        : [];

      // Responses: success as documented (a redirect when Better Auth documents none), errors in our envelope.
      const responses: Json = {};
      for (const [status, response] of Object.entries<Json>(op.responses ?? {})) {
        if (/^[45]/.test(status)) continue;
        for (const media of Object.values<Json>(response.content ?? {}))
          normalizeSchema(media.schema, "body", { path: relPath, response: true });
        responses[status] = response;
      }
      if (!Object.keys(responses).some((s) => /^[23]/.test(s)))
        responses[relPath.includes("callback") ? "302" : "200"] = relPath.includes("callback")
          ? {
              description: "Redirects to the callback URL.",
              headers: {
                Location: {
                  description: "Where the browser goes next.",
                  schema: { type: "string", format: "uri-reference", maxLength: 2048 },
                },
              },
            }
          : { description: "Success." };
      const errorStatuses = new Set([
        // Better Auth's 422 ("already exists") is answered as 409 conflict (app.ts authErrorAsEnvelope).
        ...Object.keys(op.responses ?? {})
          .filter((s) => /^[45]\d\d$/.test(s))
          .map((s) => (s === "422" ? "409" : s)),
        "400",
        "401",
        "429",
        "500",
        ...(KEEPS_HISTORY.has(relPath) ? ["409"] : []),
      ]);
      if (KEEPS_HISTORY.has(relPath))
        op.description +=
          " Refused with 409 `conflict` while the user has credits, a ledger, generations or orders: those are kept (a guest keeps them by signing up; ban a user instead of removing it).";
      for (const status of [...errorStatuses].sort()) {
        const code = Number(status);
        responses[status] = {
          description: AUTH_ERROR_DESCRIPTIONS[code] ?? op.responses?.[status]?.description ?? "Error.",
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
    doc.paths[path] = fixed;
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

// ---------------------------------------------------------------------------------------------
// Facts true of every operation, filled in for all sources

const CORS_HEADER = {
  "Access-Control-Allow-Origin": {
    description:
      "Present when the request's `Origin` is one of the deployment's `ALLOWED_ORIGINS` (echoed, with `Access-Control-Allow-Credentials: true`); absent otherwise.",
    schema: { type: "string", format: "uri", maxLength: 2048 },
  },
};

/** Longest text of a value in these formats (date-time: "2026-11-25T12:00:00.123456789+05:30" is 35). */
const FORMAT_MAX_LENGTH: Record<string, number> = { uuid: 36, "date-time": 64, date: 10, ipv4: 15, ipv6: 45 };

/** Smallest integer format whose range holds the schema's bounds. */
function integerFormat(s: Json): "int32" | "int64" {
  const lo =
    typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum : -Infinity;
  const hi =
    typeof s.maximum === "number" ? s.maximum : typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum : Infinity;
  return lo >= -2_147_483_648 && hi <= 2_147_483_647 ? "int32" : "int64";
}

function walkSchemas(v: unknown, fn: (s: Json) => void): void {
  if (Array.isArray(v)) for (const x of v) walkSchemas(x, fn);
  else if (v && typeof v === "object") {
    fn(v as Json);
    for (const x of Object.values(v)) walkSchemas(x, fn);
  }
}

/**
 * Things every operation must say, filled where a source left them out: X-Request-Id and the CORS
 * header on every response (the app sets both on every route), an int32/int64 format on every
 * integer (from its bounds), and the top-level tags that operations use.
 */
export function finalizeDocument(doc: Json): Json {
  const used = new Set<string>();
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {}))
    for (const m of HTTP_METHODS) {
      const op = item[m];
      if (!op) continue;
      for (const t of op.tags ?? []) used.add(t);
      // requireAdmin guards all of /api/admin, and Polar's webhooks are verified by signature: say so even
      // where a route declared the plain user (or no) requirement.
      if (path.startsWith("/api/admin/") && JSON.stringify(op.security) === JSON.stringify(userSecurity))
        op.security = structuredClone(adminSecurity);
      if (path.startsWith("/api/webhooks/") && Array.isArray(op.security) && !op.security.length)
        op.security = structuredClone(webhookSecurity);
      for (const response of Object.values<Json>(op.responses ?? {})) {
        if (response.$ref) continue;
        response.headers = {
          ...structuredClone(requestIdHeader),
          ...structuredClone(CORS_HEADER),
          ...response.headers,
        };
      }
    }
  const bound = (s: Json) => {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (types.includes("integer") && !s.format) s.format = integerFormat(s);
    // A format that fixes the length also bounds it: say so, as OWASP asks for maxLength.
    if (types.includes("string") && s.maxLength === undefined && FORMAT_MAX_LENGTH[s.format])
      s.maxLength = FORMAT_MAX_LENGTH[s.format];
  };
  walkSchemas(doc.paths, bound);
  walkSchemas(doc.components?.schemas, bound);
  // Only tags described in TAGS are declared: an operation with a new tag fails the lint and the contract
  // test until its description is added there.
  doc.tags = TAGS.filter(([n]) => used.has(n)).map(([name, description]) => ({ name, description }));
  if (doc.webhooks && !Object.keys(doc.webhooks).length) delete doc.webhooks;
  return doc;
}

// ---------------------------------------------------------------------------------------------
// OpenAPI 3.0.3

/** Schema keywords OpenAPI 3.0 does not have (JSON Schema 2019+/3.1 only); dropped when converting. */
const ONLY_31_KEYWORDS = [
  "$schema",
  "$id",
  "$anchor",
  "$defs",
  "$dynamicRef",
  "$dynamicAnchor",
  "$comment",
  "contentMediaType",
  "contentEncoding",
  "contentSchema",
  "propertyNames",
  "unevaluatedProperties",
  "unevaluatedItems",
  "dependentRequired",
  "dependentSchemas",
  "if",
  "then",
  "else",
  "minContains",
  "maxContains",
  "contains",
  "patternProperties",
] as const;

/** Where a JSON value is a Schema Object (not a map of names, not a media type). */
const SCHEMA_KEYS = new Set(["schema", "items", "additionalProperties", "not"]);
const SCHEMA_LIST_KEYS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);

const isEmptyObject = (v: unknown) =>
  !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0;

function convertSchema(input: unknown): unknown {
  if (!input || typeof input !== "object" || Array.isArray(input)) return input;
  const o: Json = {};
  for (const [k, x] of Object.entries(input as Json)) {
    if ((ONLY_31_KEYWORDS as readonly string[]).includes(k)) continue;
    if (k === "properties" && x && typeof x === "object")
      o[k] = Object.fromEntries(Object.entries(x).map(([name, sub]) => [name, convertSchema(sub)]));
    else if (SCHEMA_KEYS.has(k)) o[k] = typeof x === "boolean" ? x : convertSchema(x);
    else if (SCHEMA_LIST_KEYS.has(k) && Array.isArray(x)) o[k] = x.map(convertSchema);
    else o[k] = structuredClone(x);
  }
  // A $ref stands alone in 3.0 (siblings are ignored): keep only its description via allOf.
  if (typeof o.$ref === "string" && Object.keys(o).length > 1) {
    const { $ref, ...rest } = o;
    return { ...rest, allOf: [{ $ref }] };
  }
  // `additionalProperties: {}` (or true) says what 3.0's default already says.
  if (o.additionalProperties === true || (isEmptyObject(o.additionalProperties) && !o.maxProperties))
    delete o.additionalProperties;
  if (Array.isArray(o.prefixItems)) {
    const items = o.prefixItems as Json[];
    delete o.prefixItems;
    o.items ??= items.length === 1 ? items[0] : { anyOf: items };
    o.minItems ??= items.length;
    o.maxItems ??= items.length;
  }
  if (Array.isArray(o.type)) {
    const types = o.type.filter((t: string) => t !== "null");
    if (types.length !== o.type.length) o.nullable = true;
    if (types.length === 1) o.type = types[0];
    else {
      delete o.type;
      if (types.length) o.anyOf = types.map((t: string) => ({ type: t }));
    }
  } else if (o.type === "null") {
    delete o.type;
    o.nullable = true;
    o.enum = [null];
  }
  if (o.const !== undefined) {
    o.enum = [o.const];
    delete o.const;
  }
  if (Array.isArray(o.examples)) {
    if (o.example === undefined && o.examples.length) o.example = o.examples[0];
    delete o.examples;
  }
  for (const k of ["anyOf", "oneOf"] as const) {
    if (!Array.isArray(o[k])) continue;
    const nonNull = o[k].filter((s: Json) => !(s && (s.type === "null" || (s.nullable && s.enum?.[0] === null))));
    if (nonNull.length === o[k].length) continue;
    o.nullable = true;
    if (nonNull.length === 1) {
      delete o[k];
      const only = nonNull[0] as Json;
      if (only.$ref) o.allOf = [only];
      else Object.assign(o, { ...only, ...o, nullable: true });
    } else o[k] = nonNull;
  }
  if (typeof o.exclusiveMinimum === "number") {
    o.minimum = o.exclusiveMinimum;
    o.exclusiveMinimum = true;
  }
  if (typeof o.exclusiveMaximum === "number") {
    o.maximum = o.exclusiveMaximum;
    o.exclusiveMaximum = true;
  }
  if (o.nullable && o.type === undefined && !o.allOf && !o.anyOf && !o.oneOf && !o.enum) delete o.nullable;
  return o;
}

/** Converts every Schema Object inside a part of the document that is not itself a schema. */
function convertNonSchema(v: unknown, key?: string): unknown {
  if (Array.isArray(v)) return v.map((x) => convertNonSchema(x));
  if (!v || typeof v !== "object") return v;
  if (key === "schema") return convertSchema(v);
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) out[k] = convertNonSchema(x, k);
  return out;
}

/**
 * The same contract as OpenAPI 3.0.3, for generators that read only 3.0: type arrays with "null" become
 * `nullable`, `const` becomes a one-value `enum`, schema `examples` become `example`, numeric exclusive
 * bounds become booleans, 3.1-only keywords and `webhooks` are dropped, and role lists in security
 * requirements are emptied (3.0 allows them only for OAuth; the roles stay in the descriptions).
 */
export function toOpenApi30(doc31: Json): Json {
  const src = structuredClone(doc31);
  const out: Json = { openapi: "3.0.3" };
  for (const [k, v] of Object.entries(src)) {
    if (k === "openapi" || k === "webhooks" || k === "jsonSchemaDialect") continue;
    if (k === "components") {
      const components: Json = {};
      for (const [ck, cv] of Object.entries<Json>(v)) {
        if (ck === "pathItems") continue;
        components[ck] =
          ck === "schemas"
            ? Object.fromEntries(Object.entries(cv).map(([n, s]) => [n, convertSchema(s)]))
            : convertNonSchema(cv);
      }
      out.components = components;
    } else if (k === "paths") out.paths = convertNonSchema(v);
    else out[k] = v;
  }
  if (out.info) {
    const { summary: _s, ...info } = out.info;
    if (info.license) {
      const { identifier: _i, ...license } = info.license;
      info.license = license;
    }
    out.info = info;
  }
  const emptyRoles = (sec: unknown) =>
    Array.isArray(sec) ? sec.map((req: Json) => Object.fromEntries(Object.keys(req).map((name) => [name, []]))) : sec;
  if (out.security) out.security = emptyRoles(out.security);
  for (const item of Object.values<Json>(out.paths ?? {}))
    for (const m of HTTP_METHODS) if (item[m]?.security) item[m].security = emptyRoles(item[m].security);
  return out;
}
