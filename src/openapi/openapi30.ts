import { HTTP_METHODS, type Json } from "./json";

/* The OpenAPI 3.0.3 rendition of the 3.1 document. */

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
 * bounds become booleans, 3.1-only keywords are dropped, `webhooks` become `callbacks` of the operation
 * that subscribes to them (see WEBHOOK_SUBSCRIPTIONS), and role lists in security requirements are emptied
 * (3.0 allows them only for OAuth; the roles stay in the descriptions).
 */
/**
 * 3.0 has no top-level `webhooks`: each becomes a callback of the operation whose request names the URL (the job
 * type's create: `prediction.*` of createPrediction, `asset.*` of createAsset), keyed by the runtime expression of
 * that field.
 */
const WEBHOOK_SUBSCRIPTIONS: { prefix: string; operationId: string; expression: string }[] = [
  { prefix: "prediction.", operationId: "createPrediction", expression: "{$request.body#/webhook}" },
  { prefix: "asset.", operationId: "createAsset", expression: "{$request.body#/webhook}" },
];

function webhooksAsCallbacks(out: Json, webhooks: Json | undefined) {
  if (!webhooks || !Object.keys(webhooks).length) return;
  for (const { prefix, operationId, expression } of WEBHOOK_SUBSCRIPTIONS) {
    const mine = Object.entries<Json>(webhooks).filter(([name]) => name.startsWith(prefix));
    if (!mine.length) continue;
    for (const item of Object.values<Json>(out.paths ?? {}))
      for (const m of HTTP_METHODS) {
        const op = item[m];
        if (op?.operationId !== operationId) continue;
        op.callbacks = Object.fromEntries(
          mine.map(([name, pathItem]) => [name, { [expression]: convertNonSchema(pathItem) }]),
        );
      }
  }
}

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
  webhooksAsCallbacks(out, src.webhooks);
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
