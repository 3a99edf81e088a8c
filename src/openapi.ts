import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Auth } from "./auth";
import type { AppEnv } from "./types";

type Json = Record<string, any>;

export const API_INFO = {
  title: "Logo API",
  version: "1.0.0",
  description:
    "Paid AI logo generation. Sign up (or start as a guest), buy credits through Polar, spend them on Eachlabs image models, poll predictions and browse your history.\n\n" +
    "Authenticate with a Better Auth session cookie, `Authorization: Bearer <session token>` or `x-api-key: <key>`. " +
    "Every error uses the `Error` envelope and carries the request id from `X-Request-Id`.",
  contact: { name: "Logo API support", email: "support@logo-api.example", url: "https://logo-api.example/support" },
  license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
};

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
} as const;

/** The live OpenAPI 3.1 document: our routes plus Better Auth's, merged under /api/auth (tag Auth). */
export async function buildOpenApiDocument(app: OpenAPIHono<AppEnv>, auth: Auth): Promise<Json> {
  app.openAPIRegistry.registerComponent("securitySchemes", "cookieAuth", SECURITY_SCHEMES.cookieAuth);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", SECURITY_SCHEMES.bearerAuth);
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKeyAuth", SECURITY_SCHEMES.apiKeyAuth);
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: API_INFO,
    servers: [{ url: "https://api.logo-api.example", description: "Production" }],
    security: [{ cookieAuth: [] }, { bearerAuth: [] }, { apiKeyAuth: [] }],
    tags: [],
  }) as Json;
  const authDoc = (await auth.api.generateOpenAPISchema()) as Json;
  return finalizeDocument(mergeAuthDocument(doc, authDoc));
}

/** Prefix Better Auth's paths, rename its clashing schemas, tag everything Auth. */
export function mergeAuthDocument(doc: Json, authDoc: Json): Json {
  const rename = new Map<string, string>();
  const authSchemas: Json = authDoc.components?.schemas ?? {};
  doc.components ??= {};
  doc.components.schemas ??= {};
  for (const name of Object.keys(authSchemas)) rename.set(name, `Auth${name}`);
  const fixRefs = (v: any): any => {
    if (Array.isArray(v)) return v.map(fixRefs);
    if (v && typeof v === "object") {
      const out: Json = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === "$ref" && typeof x === "string" && x.startsWith("#/components/schemas/")) {
          const n = x.slice("#/components/schemas/".length);
          out[k] = `#/components/schemas/${rename.get(n) ?? n}`;
        } else out[k] = fixRefs(x);
      }
      return out;
    }
    return v;
  };
  for (const [name, schema] of Object.entries(authSchemas))
    doc.components.schemas[rename.get(name) ?? name] = fixRefs(schema);
  doc.paths ??= {};
  for (const [path, item] of Object.entries<Json>(authDoc.paths ?? {})) {
    const fixed: Json = {};
    for (const [method, op] of Object.entries<Json>(item)) {
      fixed[method] = { ...fixRefs(op), tags: ["Auth"] };
    }
    doc.paths[`/api/auth${path}`] = fixed;
  }
  return doc;
}

/** Things every operation must have for integrators and linters, filled where a source left them out. */
export function finalizeDocument(doc: Json): Json {
  const tags = new Map<string, string>([
    ["Health", "Service status."],
    ["Models", "The catalog of generation models and their prices."],
    ["Predictions", "Create logo generations and follow them to completion."],
    ["Generations", "Your generation history, read from storage."],
    ["Credits", "Balances, packages, purchases and the credit ledger."],
    ["Webhooks", "Signed callbacks from Polar."],
    ["Admin", "Analytics, users and credit adjustments (admin role)."],
    [
      "Auth",
      "Better Auth: sign-up, sign-in (email/password, anonymous), sessions, API keys and admin user management. Paths are under /api/auth.",
    ],
  ]);
  const used = new Set<string>();
  for (const item of Object.values<Json>(doc.paths ?? {}))
    for (const op of Object.values<Json>(item)) for (const t of op.tags ?? []) used.add(t);
  doc.tags = [...tags].filter(([n]) => used.has(n)).map(([name, description]) => ({ name, description }));
  return doc;
}

/**
 * The same contract as OpenAPI 3.0.3, for generators that read only 3.0:
 * type arrays with "null" become `nullable`, `examples` arrays become `example`, const becomes enum.
 */
export function toOpenApi30(doc31: Json): Json {
  const convert = (v: any, key?: string): any => {
    if (Array.isArray(v)) return v.map((x) => convert(x));
    if (!v || typeof v !== "object") return v;
    const o: Json = {};
    for (const [k, x] of Object.entries(v)) o[k] = key === "properties" ? convert(x) : convert(x, k);
    if (Array.isArray(o.type)) {
      const types = o.type.filter((t: string) => t !== "null");
      if (types.length !== o.type.length) o.nullable = true;
      if (types.length === 1) o.type = types[0];
      else {
        delete o.type;
        o.anyOf = types.map((t: string) => ({ type: t }));
      }
    }
    if (o.const !== undefined) {
      o.enum = [o.const];
      delete o.const;
    }
    if (Array.isArray(o.examples) && key !== "content" && o.example === undefined && !isMediaExamples(o.examples)) {
      o.example = o.examples[0];
      delete o.examples;
    }
    if (Array.isArray(o.anyOf)) {
      const nonNull = o.anyOf.filter((s: Json) => !(s && s.type === "null"));
      if (nonNull.length !== o.anyOf.length) {
        o.nullable = true;
        if (nonNull.length === 1) {
          Object.assign(o, nonNull[0].$ref ? { allOf: [nonNull[0]] } : nonNull[0]);
          delete o.anyOf;
        } else o.anyOf = nonNull;
      }
    }
    if (typeof o.exclusiveMinimum === "number") {
      o.minimum = o.exclusiveMinimum;
      o.exclusiveMinimum = true;
    }
    if (typeof o.exclusiveMaximum === "number") {
      o.maximum = o.exclusiveMaximum;
      o.exclusiveMaximum = true;
    }
    return o;
  };
  const out = convert(structuredClone(doc31));
  out.openapi = "3.0.3";
  if (out.info?.license?.identifier) {
    const { identifier: _i, ...rest } = out.info.license;
    out.info.license = rest;
  }
  delete out.webhooks;
  delete out.jsonSchemaDialect;
  return out;
}

const isMediaExamples = (x: unknown[]) => x.length === 0;
