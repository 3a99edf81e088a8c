import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { AUTH_OPERATIONS, authOperation } from "../../src/auth/operations";
import { HTTP_METHODS } from "../../src/openapi/json";
import { toOpenApi30 } from "../../src/openapi/openapi30";
import { createTestApp, type TestApp } from "../helpers/app";

type Json = Record<string, any>;

let t: TestApp;
let doc31: Json;
let doc30: Json;
beforeAll(async () => {
  // As scripts/export-openapi.ts builds the committed documents: served from production (the live document names
  // the server it is served from first; test/contract/docs.test.ts checks that).
  t = await createTestApp({ env: { PUBLIC_URL: "https://api.logo-api.example" } });
  const a = await t.fetch("/openapi.json");
  expect(a.status).toBe(200);
  doc31 = (await a.json()) as Json;
  const b = await t.fetch("/openapi-3.0.json");
  expect(b.status).toBe(200);
  doc30 = (await b.json()) as Json;
});
afterAll(async () => {
  await t.close();
});

const ERROR_REF = "#/components/schemas/Error";
/**
 * Public operations that take no input and have no rate limit (API.md): no 4xx is possible. The same
 * paths are exempted in .spectral.yaml, with the reason. /health answers 503 with its Health body.
 */
const NO_4XX = new Set(["GET /health", "GET /api/models", "GET /api/assets/kinds"]);

function operations(doc: Json) {
  const out: { key: string; path: string; method: string; op: Json }[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {}))
    for (const method of HTTP_METHODS)
      if (item[method]) out.push({ key: `${method.toUpperCase()} ${path}`, path, method, op: item[method] });
  return out;
}

const refOf = (schema: Json | undefined) =>
  schema?.$ref ?? (schema?.allOf?.length === 1 ? schema.allOf[0]?.$ref : undefined);

/** Problems with the operation conventions; [] when every operation follows them. */
function operationProblems(doc: Json): string[] {
  const problems: string[] = [];
  const declaredTags = new Set((doc.tags ?? []).map((t: Json) => t.name));
  const ids = new Map<string, string>();
  for (const { key, path, op } of operations(doc)) {
    const id = op.operationId;
    if (typeof id !== "string" || !/^[a-z][A-Za-z0-9]*$/.test(id)) problems.push(`${key}: operationId ${id}`);
    else if (ids.has(id)) problems.push(`${key}: operationId ${id} also used by ${ids.get(id)}`);
    else ids.set(id, key);
    if (!op.tags?.length) problems.push(`${key}: no tags`);
    for (const tag of op.tags ?? []) if (!declaredTags.has(tag)) problems.push(`${key}: tag ${tag} not declared`);
    if (!op.summary?.trim()) problems.push(`${key}: no summary`);
    if (!op.description?.trim()) problems.push(`${key}: no description`);
    const statuses = Object.keys(op.responses ?? {});
    if (!statuses.some((s) => /^[23]/.test(s))) problems.push(`${key}: no success response`);
    if (!NO_4XX.has(key) && !statuses.some((s) => /^4/.test(s))) problems.push(`${key}: no 4xx response`);
    if (!statuses.includes("500")) problems.push(`${key}: no 500 response`);
    for (const status of statuses.filter((s) => /^[45]/.test(s))) {
      if (key === "GET /health" && status === "503") continue;
      const schema = op.responses[status]?.content?.["application/json"]?.schema;
      if (refOf(schema) !== ERROR_REF) problems.push(`${key}: ${status} does not reference Error`);
    }
    if (path.startsWith("/api/auth/") && JSON.stringify(op.tags) !== '["Auth"]')
      problems.push(`${key}: not tagged Auth`);
  }
  return problems;
}

/** Every JSON value in the document with its JSON path. */
function* walk(v: unknown, path: string[] = []): Generator<{ path: string[]; value: Json }> {
  if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* walk(x, [...path, String(i)]);
  else if (v && typeof v === "object") {
    yield { path, value: v as Json };
    for (const [k, x] of Object.entries(v)) yield* walk(x, [...path, k]);
  }
}

/** Schema-like objects (a `type` that is a JSON Schema type), outside security schemes and examples. */
function* schemas(doc: Json) {
  const JSON_TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);
  for (const node of walk(doc)) {
    if (node.path.includes("securitySchemes") || node.path.includes("example") || node.path.includes("examples"))
      continue;
    const types = Array.isArray(node.value.type) ? node.value.type : [node.value.type];
    if (types.length && types.every((x: unknown) => typeof x === "string" && JSON_TYPES.has(x))) yield node;
  }
}

describe("the OpenAPI 3.1 document", () => {
  test("is OpenAPI 3.1 and equals the committed openapi/openapi.json (no drift)", async () => {
    expect(doc31.openapi).toStartWith("3.1");
    const committed = JSON.parse(await readFile("openapi/openapi.json", "utf8"));
    expect(doc31).toEqual(committed);
  });

  test("every operation has a camelCase unique operationId, declared tags, summary, description, a 4xx and a 500 referencing Error", () => {
    expect(operationProblems(doc31)).toEqual([]);
  });

  test("declares the cookie, bearer and API-key security schemes, servers, contact and license", () => {
    const schemes = doc31.components.securitySchemes;
    expect(schemes.cookieAuth).toMatchObject({ type: "apiKey", in: "cookie" });
    expect(schemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.apiKeyAuth).toMatchObject({ type: "apiKey", in: "header", name: "x-api-key" });
    expect(doc31.servers.length).toBeGreaterThan(0);
    expect(doc31.info.contact.email).toBeTruthy();
    expect(doc31.info.license.name).toBeTruthy();
    for (const tag of doc31.tags) expect(tag.description).toBeTruthy();
    const undeclared: string[] = [];
    for (const { key, op } of operations(doc31))
      for (const requirement of op.security ?? doc31.security)
        for (const name of Object.keys(requirement)) if (!schemes[name]) undeclared.push(`${key}: ${name}`);
    expect(undeclared).toEqual([]);
  });

  test("every string, array and integer is bounded (OWASP API4)", () => {
    const problems: string[] = [];
    for (const { path, value: s } of schemas(doc31)) {
      const types = Array.isArray(s.type) ? s.type : [s.type];
      const at = path.join("/");
      // An event stream is bounded in time (STREAM_MAX_MS), not in bytes (as .spectral.yaml says for it).
      const eventStream = path.includes("text/event-stream");
      if (types.includes("string") && s.maxLength === undefined && !eventStream && !s.enum && s.const === undefined)
        problems.push(`${at}: string without maxLength`);
      if (types.includes("array") && s.maxItems === undefined) problems.push(`${at}: array without maxItems`);
      if (types.includes("integer") && (!s.format || s.maximum === undefined))
        problems.push(`${at}: integer without format or maximum`);
    }
    expect(problems).toEqual([]);
  });

  test("Better Auth's operations are merged under /api/auth with our envelope and its security", () => {
    const auth = operations(doc31).filter((o) => o.path.startsWith("/api/auth/"));
    // Exactly the operations this server enables, each with the security its access implies.
    expect(auth.map((o) => o.key.replace(" /api/auth/", " /")).sort()).toEqual(Object.keys(AUTH_OPERATIONS).sort());
    const SECURITY = {
      public: [],
      optional: [{}, { cookieAuth: [] }, { bearerAuth: [] }],
      session: [{ cookieAuth: [] }, { bearerAuth: [] }],
      admin: [{ adminCookieAuth: [] }, { adminBearerAuth: [] }],
    };
    for (const { key, path, op } of auth) {
      const access = authOperation(key.split(" ")[0] as string, path.slice("/api/auth".length))?.access;
      // An API key may only read its own session; every other auth operation refuses it (403).
      const expected = access
        ? [...SECURITY[access], ...(key === "GET /api/auth/get-session" ? [{ apiKeyAuth: [] }] : [])]
        : "not enabled";
      expect({ key, security: op.security }).toEqual({ key, security: expected });
    }
    const byKey = new Map(auth.map((o) => [o.key, o.op]));
    expect(byKey.has("POST /api/auth/get-session")).toBe(false);
    for (const key of [
      "POST /api/auth/sign-up/email",
      "POST /api/auth/sign-in/email",
      "POST /api/auth/sign-in/anonymous",
    ])
      expect(byKey.has(key)).toBe(true);
    const signIn = byKey.get("POST /api/auth/sign-in/email") as Json;
    expect(signIn.responses["401"].content["application/json"].schema).toEqual({ $ref: ERROR_REF });
    expect(signIn.responses["429"].headers["Retry-After"]).toBeDefined();
    // A guest's session is linked when it signs in, so a session is optional there; anonymous sign-in is public.
    expect(signIn.security).toEqual([{}, { cookieAuth: [] }, { bearerAuth: [] }]);
    expect((byKey.get("POST /api/auth/sign-in/anonymous") as Json).security).toEqual([]);
    expect((byKey.get("GET /api/auth/admin/list-users") as Json).security).toEqual([
      { adminCookieAuth: [] },
      { adminBearerAuth: [] },
    ]);
    // Better Auth's invalid 400 (required at the media-type level) is replaced by ours.
    const del = byKey.get("POST /api/auth/delete-anonymous-user") as Json;
    expect(Object.keys(del.responses["400"].content["application/json"])).toEqual(["schema"]);
    const problems: string[] = [];
    for (const { key, op } of auth) {
      for (const [status, response] of Object.entries<Json>(op.responses))
        if (!response.headers?.["X-Request-Id"]) problems.push(`${key} ${status}: no X-Request-Id header`);
      if (!op.responses["429"]?.headers?.["Retry-After"]) problems.push(`${key}: no 429 with Retry-After`);
    }
    expect(problems).toEqual([]);
    // Its schemas are renamed so they cannot clash with ours; 3.0-style `nullable` is gone from 3.1.
    expect(doc31.components.schemas.AuthUser).toBeDefined();
    expect(doc31.components.schemas.User).toBeUndefined();
    expect([...walk(doc31)].filter((n) => "nullable" in n.value).map((n) => n.path.join("/"))).toEqual([]);
  });
});

/** 3.1-only constructs that must not survive the conversion, as "path: what". */
function only31Constructs(doc: Json): string[] {
  const problems: string[] = [];
  if (doc.webhooks) problems.push("webhooks");
  if (doc.jsonSchemaDialect) problems.push("jsonSchemaDialect");
  if (doc.info?.license?.identifier) problems.push("info.license.identifier");
  if (doc.info?.summary) problems.push("info.summary");
  if (doc.components?.pathItems) problems.push("components.pathItems");
  const forbidden = [
    "$schema",
    "$id",
    "$defs",
    "$anchor",
    "$dynamicRef",
    "const",
    "prefixItems",
    "contentMediaType",
    "contentEncoding",
    "propertyNames",
    "unevaluatedProperties",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
  ];
  for (const { path, value: s } of schemas(doc)) {
    const at = path.join("/");
    if (Array.isArray(s.type)) problems.push(`${at}: type array`);
    if (s.type === "null") problems.push(`${at}: type null`);
    for (const k of forbidden) if (k in s) problems.push(`${at}: ${k}`);
    if ("examples" in s) problems.push(`${at}: examples in a schema`);
    if (typeof s.exclusiveMinimum === "number" || typeof s.exclusiveMaximum === "number")
      problems.push(`${at}: numeric exclusive bound`);
  }
  // Keywords under a property named like a keyword are fine; look for keywords in any schema-ish object too.
  for (const { path, value } of walk(doc)) {
    const at = path.join("/");
    if (path.at(-1) === "properties") continue;
    for (const k of ["$schema", "prefixItems", "propertyNames", "contentMediaType"])
      if (k in value) problems.push(`${at}: ${k}`);
    if (typeof value.$ref === "string" && Object.keys(value).length > 1) problems.push(`${at}: $ref with siblings`);
  }
  for (const { key, op } of operations(doc))
    for (const requirement of op.security ?? [])
      for (const [name, roles] of Object.entries(requirement))
        if ((roles as unknown[]).length) problems.push(`${key}: roles on ${name}`);
  return [...new Set(problems)];
}

describe("the OpenAPI 3.0 document", () => {
  test("is served as the conversion of the 3.1 document and equals the committed openapi/openapi-3.0.json", async () => {
    expect(doc30.openapi).toBe("3.0.3");
    expect(doc30).toEqual(toOpenApi30(doc31));
    const committed = JSON.parse(await readFile("openapi/openapi-3.0.json", "utf8"));
    expect(doc30).toEqual(committed);
  });

  test("has no 3.1-only construct left", () => {
    expect(only31Constructs(doc30)).toEqual([]);
  });

  test("has exactly the same paths and operations as the 3.1 document, following the same conventions", () => {
    const keys = (d: Json) =>
      operations(d)
        .map((o) => `${o.key} ${o.op.operationId}`)
        .sort();
    expect(keys(doc30)).toEqual(keys(doc31));
    expect(Object.keys(doc30.components.schemas).sort()).toEqual(Object.keys(doc31.components.schemas).sort());
    expect(operationProblems(doc30)).toEqual([]);
    expect(Object.keys(doc30.components.securitySchemes).sort()).toEqual(
      Object.keys(doc31.components.securitySchemes).sort(),
    );
  });

  test("converts each 3.1 construct to its 3.0 form", () => {
    const src: Json = {
      openapi: "3.1.0",
      jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
      info: { title: "x", version: "1", summary: "s", license: { name: "L", identifier: "MIT" } },
      webhooks: { ping: {} },
      paths: {
        "/x": {
          get: {
            security: [{ cookieAuth: ["admin"] }],
            parameters: [{ name: "q", in: "query", schema: { type: ["string", "null"], maxLength: 5 } }],
            responses: {
              "200": {
                description: "ok",
                content: {
                  "application/json": {
                    schema: { $ref: "#/components/schemas/A" },
                    examples: { one: { value: { a: 1 } } },
                  },
                },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          A: {
            $schema: "https://json-schema.org/draft/2020-12/schema",
            type: "object",
            propertyNames: { type: "string", maxLength: 10 },
            additionalProperties: {},
            properties: {
              kind: { const: "a" },
              n: { type: "integer", exclusiveMinimum: 0, maximum: 10, examples: [3, 4] },
              tuple: { type: "array", prefixItems: [{ type: "string" }] },
              blob: { type: "string", contentMediaType: "image/png", maxLength: 10 },
              ref: { anyOf: [{ $ref: "#/components/schemas/B" }, { type: "null" }] },
              described: { $ref: "#/components/schemas/B", description: "why" },
              either: { type: ["string", "number", "null"] },
            },
          },
          B: { type: "string", maxLength: 3 },
        },
      },
    };
    const out = toOpenApi30(src);
    expect(out.openapi).toBe("3.0.3");
    expect(out.webhooks).toBeUndefined();
    expect(out.jsonSchemaDialect).toBeUndefined();
    expect(out.info).toEqual({ title: "x", version: "1", license: { name: "L" } });
    const op = out.paths["/x"].get;
    expect(op.security).toEqual([{ cookieAuth: [] }]);
    expect(op.parameters[0].schema).toEqual({ type: "string", nullable: true, maxLength: 5 });
    // media-type `examples` (a map) is valid 3.0 and stays
    expect(op.responses["200"].content["application/json"].examples).toEqual({ one: { value: { a: 1 } } });
    const a = out.components.schemas.A;
    expect(a.$schema).toBeUndefined();
    expect(a.propertyNames).toBeUndefined();
    expect(a.additionalProperties).toBeUndefined();
    expect(a.properties.kind).toEqual({ enum: ["a"] });
    expect(a.properties.n).toEqual({ type: "integer", minimum: 0, exclusiveMinimum: true, maximum: 10, example: 3 });
    expect(a.properties.tuple).toEqual({ type: "array", items: { type: "string" }, minItems: 1, maxItems: 1 });
    expect(a.properties.blob).toEqual({ type: "string", maxLength: 10 });
    expect(a.properties.ref).toEqual({ nullable: true, allOf: [{ $ref: "#/components/schemas/B" }] });
    expect(a.properties.described).toEqual({ description: "why", allOf: [{ $ref: "#/components/schemas/B" }] });
    expect(a.properties.either).toEqual({ nullable: true, anyOf: [{ type: "string" }, { type: "number" }] });
    expect(only31Constructs(out)).toEqual([]);
  });
});
