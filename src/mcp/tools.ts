import { HTTP_METHODS } from "../openapi/json";

/**
 * The MCP tools, derived from the live OpenAPI document: each is one operation chosen for assistants, named after
 * its operationId in snake case, described by its summary and description, and taking the operation's parameters
 * and body as its input. Nothing about an operation is restated here, so a tool cannot drift from its route.
 */

/** What an assistant may do: operationIds of the document, in the order the tools are listed. */
export const MCP_OPERATIONS = [
  { operationId: "listModels" },
  // A create can hold the call until the job is final, through the operation that reads it with `Prefer: wait`.
  { operationId: "createPrediction", waitWith: "getPrediction" },
  { operationId: "getPrediction" },
  { operationId: "listPredictions" },
  { operationId: "cancelPrediction" },
  { operationId: "listGenerations" },
  { operationId: "getGeneration" },
  { operationId: "listAssetKinds" },
  { operationId: "createAsset", waitWith: "getAsset" },
  { operationId: "getAsset" },
  { operationId: "listPredictionAssets" },
  { operationId: "listAssets" },
  { operationId: "getCreditBalance" },
  { operationId: "listCreditTransactions" },
] as const satisfies readonly { operationId: string; waitWith?: string }[];

/** The longest wait a route honours (`Prefer: wait=N`, N ≤ 30). */
export const MAX_WAIT_SECONDS = 30;

/** Header parameters a tool takes, under a property name an assistant can write. */
const HEADER_ARGUMENTS: Record<string, string> = { "idempotency-key": "idempotencyKey" };
/** The argument a `Prefer: wait=N` header (or a create's follow-up read) becomes. */
export const WAIT_ARGUMENT = "wait";
/** The argument a body that is not a plain object (a `oneOf`) is passed in, whole. */
export const BODY_ARGUMENT = "body";

type Json = unknown;
type JsonObject = Record<string, unknown>;

/** How to turn a tool's arguments back into the operation's request. */
export interface OperationCall {
  method: string;
  path: string;
  /** Argument name → where it goes. */
  parameters: { argument: string; name: string; in: "path" | "query" | "header" }[];
  /** `merged`: the body's properties are top-level arguments; `whole`: the `body` argument; none: no body. */
  body?: { as: "merged"; properties: string[] } | { as: "whole" };
  /** The `prefer` header of a read, set from the `wait` argument. */
  prefer: boolean;
}

export interface McpTool {
  name: string;
  description: string;
  inputSchema: { type: "object"; properties: JsonObject; required?: string[]; additionalProperties: false };
  operationId: string;
  call: OperationCall;
  /** For a create with a wait: the read that holds it, by operationId. */
  waitWith?: OperationCall;
}

/** `createPrediction` → `create_prediction`. */
export function snakeCase(operationId: string): string {
  return operationId.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Every chosen operation of `document` as a tool; throws when one is missing or has something a tool cannot carry. */
export function deriveTools(document: JsonObject): McpTool[] {
  const operations = indexOperations(document);
  return MCP_OPERATIONS.map((choice) => {
    const found = operations.get(choice.operationId);
    if (!found) throw new Error(`MCP: operation ${choice.operationId} is not in the document`);
    const { schema, call } = inputOf(document, found.operation, found.method, found.path);
    const waitWith = "waitWith" in choice ? operations.get(choice.waitWith) : undefined;
    if ("waitWith" in choice) {
      if (!waitWith) throw new Error(`MCP: operation ${choice.waitWith} is not in the document`);
      schema.properties[WAIT_ARGUMENT] = waitSchema(
        `Seconds to wait (0–${MAX_WAIT_SECONDS}) for the result to be final, read through ${snakeCase(choice.waitWith)}; progress notifications are sent meanwhile when a progress token is given. 0 or absent: answer at once.`,
      );
    }
    const summary = typeof found.operation.summary === "string" ? found.operation.summary : "";
    const description = typeof found.operation.description === "string" ? found.operation.description : "";
    return {
      name: snakeCase(choice.operationId),
      description: [summary, description].filter(Boolean).join("\n\n"),
      inputSchema: schema,
      operationId: choice.operationId,
      call,
      waitWith: waitWith ? inputOf(document, waitWith.operation, waitWith.method, waitWith.path).call : undefined,
    };
  });
}

function indexOperations(document: JsonObject) {
  const found = new Map<string, { method: string; path: string; operation: JsonObject }>();
  for (const [path, item] of Object.entries(asObject(document.paths))) {
    for (const method of HTTP_METHODS) {
      const operation = asObject(asObject(item)[method]);
      if (typeof operation.operationId === "string")
        found.set(operation.operationId, { method: method.toUpperCase(), path, operation });
    }
  }
  return found;
}

function inputOf(document: JsonObject, operation: JsonObject, method: string, path: string) {
  const properties: JsonObject = {};
  const required: string[] = [];
  const call: OperationCall = { method, path, parameters: [], prefer: false };
  const add = (name: string, schema: Json, isRequired: boolean) => {
    if (name in properties) throw new Error(`MCP: ${String(operation.operationId)} has two inputs named ${name}`);
    properties[name] = schema;
    if (isRequired) required.push(name);
  };

  for (const raw of asArray(operation.parameters)) {
    const p = asObject(resolve(document, raw));
    const name = String(p.name);
    const where = p.in;
    if (where === "header" && name.toLowerCase() === "prefer") {
      call.prefer = true;
      add(
        WAIT_ARGUMENT,
        waitSchema(`Seconds (0–${MAX_WAIT_SECONDS}) to hold the call until the result is final (\`Prefer: wait=N\`).`),
        false,
      );
      continue;
    }
    const argument = where === "header" ? HEADER_ARGUMENTS[name.toLowerCase()] : name;
    if ((where !== "path" && where !== "query" && where !== "header") || !argument)
      throw new Error(
        `MCP: ${String(operation.operationId)} has a ${String(where)} parameter ${name} no tool can pass`,
      );
    const schema = asObject(inline(document, p.schema ?? {}));
    if (typeof p.description === "string" && schema.description === undefined) schema.description = p.description;
    add(argument, schema, p.required === true);
    call.parameters.push({ argument, name, in: where });
  }

  const requestBody = asObject(resolve(document, operation.requestBody ?? {}));
  const json = asObject(asObject(requestBody.content)["application/json"]);
  if (json.schema !== undefined) {
    const body = asObject(inline(document, json.schema));
    const bodyRequired = requestBody.required === true;
    if (body.type === "object" && body.properties !== undefined) {
      const bodyProperties = asObject(body.properties);
      const bodyRequiredNames = new Set(asArray(body.required).map(String));
      for (const [name, schema] of Object.entries(bodyProperties))
        add(name, schema, bodyRequired && bodyRequiredNames.has(name));
      call.body = { as: "merged", properties: Object.keys(bodyProperties) };
    } else {
      if (typeof requestBody.description === "string" && body.description === undefined)
        body.description = requestBody.description;
      add(BODY_ARGUMENT, body, bodyRequired);
      call.body = { as: "whole" };
    }
  }
  return {
    schema: {
      type: "object" as const,
      properties,
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: false as const,
    },
    call,
  };
}

function waitSchema(description: string): JsonObject {
  return { type: "integer", minimum: 0, maximum: MAX_WAIT_SECONDS, description };
}

/** A `$ref` (to `#/components/...`) followed once. */
function resolve(document: JsonObject, value: Json): Json {
  const ref = asObject(value).$ref;
  if (typeof ref !== "string") return value;
  if (!ref.startsWith("#/")) throw new Error(`MCP: cannot follow ${ref}`);
  let at: Json = document;
  for (const part of ref.slice(2).split("/")) at = asObject(at)[part.replace(/~1/g, "/").replace(/~0/g, "~")] ?? null;
  if (at === null) throw new Error(`MCP: ${ref} names nothing`);
  return at;
}

/**
 * A schema with every `$ref` replaced by what it names, so a tool's input schema stands alone (MCP clients
 * receive no components). The document's input schemas are not recursive; one that were would be refused here.
 */
export function inline(document: JsonObject, schema: Json, seen: readonly string[] = []): Json {
  if (Array.isArray(schema)) return schema.map((s) => inline(document, s, seen));
  if (schema === null || typeof schema !== "object") return schema;
  const object = schema as JsonObject;
  const ref = object.$ref;
  if (typeof ref === "string") {
    if (seen.includes(ref)) throw new Error(`MCP: ${ref} is recursive`);
    const target = asObject(inline(document, resolve(document, object), [...seen, ref]));
    // Siblings of a $ref (3.1 allows a description beside it) win over the target's.
    const { $ref: _, ...siblings } = object;
    return { ...target, ...asObject(inline(document, siblings, seen)) };
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, inline(document, v, seen)]));
}

function asObject(value: Json): JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : {};
}

function asArray(value: Json): Json[] {
  return Array.isArray(value) ? value : [];
}
