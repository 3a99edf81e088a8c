import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import Ajv2020 from "ajv/dist/2020";
import sharp from "sharp";
import { loadConfig } from "../../src/env";
import { createLogger } from "../../src/lib/logger";
import { MAX_IMAGE_BLOCK_BYTES } from "../../src/mcp/images";
import { MCP_OPERATIONS } from "../../src/mcp/tools";
import { type RunningServer, startServer } from "../../src/server";
import { emptyPgliteTemplate, freshDatabaseEnv } from "../server/helpers";

/**
 * /mcp against a started server over real HTTP on 127.0.0.1, driven by the SDK's own Client over its Streamable
 * HTTP transport, as an assistant would: the tools match the live document's operations, a logo comes back as an
 * image, a brand kit's files are listed, and the HTTP API's errors (402, 404, 429) come back as `isError` results
 * carrying the envelope.
 */

type Doc = Record<string, any>;

let server: RunningServer;
let doc: Doc;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  await emptyPgliteTemplate();
  const database = await freshDatabaseEnv("pglite");
  cleanups.push(database.cleanup);
  const config = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    RECONCILER_INTERVAL_MS: "0",
    SANDBOX_DELAY_MS: "0",
    SIGNUP_CREDITS: "4",
    FREE_CREDITS_PER_ADDRESS_PER_DAY: "1000000",
    ASSET_WORKERS: "1",
    RATE_LIMIT_MODERATE_PER_MIN: "5",
    ...database.env,
    STORAGE_DIR: `${database.env.PGLITE_DIR}-files`,
  });
  server = await startServer(config, createLogger({ level: "silent" }));
  cleanups.push(() => server.stop());
  doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Doc;
}, 60_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function http(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** A new user's API key. */
async function apiKey(): Promise<string> {
  const signedUp = await fetch(`${server.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: "http://localhost:3000" },
    body: JSON.stringify({
      email: `u-${crypto.randomUUID()}@example.com`,
      password: "correct-horse-battery",
      name: "U",
    }),
  });
  expect(signedUp.status).toBe(200);
  const auth = { authorization: `Bearer ${signedUp.headers.get("set-auth-token")}` };
  const key = await http("POST", "/api/auth/api-key/create", auth, { name: "assistant" });
  expect(key.status).toBe(200);
  return key.body.key as string;
}

async function connect(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "logo-api-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers } }));
  cleanups.push(() => client.close());
  return client;
}

const call = (client: Client, name: string, args: Record<string, unknown>, onprogress?: (p: Progress) => void) =>
  client.callTool({ name, arguments: args }, undefined, { onprogress, timeout: 60_000 }) as Promise<CallToolResult>;

const snake = (operationId: string) => operationId.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/** The document's schema with every $ref replaced by its target (siblings of a $ref kept). */
function deref(value: unknown): any {
  if (Array.isArray(value)) return value.map(deref);
  if (value === null || typeof value !== "object") return value;
  const { $ref, ...rest } = value as Record<string, unknown>;
  const own = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, deref(v)]));
  if (typeof $ref !== "string") return own;
  const target = $ref
    .slice(2)
    .split("/")
    .reduce((at: any, part) => at[part], doc);
  return { ...deref(target), ...own };
}

function operationOf(operationId: string) {
  for (const item of Object.values(doc.paths as Doc))
    for (const operation of Object.values(item as Doc))
      if ((operation as Doc).operationId === operationId) return operation as Doc;
  throw new Error(`${operationId} is not in the document`);
}

function envelopeOf(result: CallToolResult) {
  expect(result.isError).toBe(true);
  const envelope = result.structuredContent as {
    error: { code: string; message: string; requestId: string; details?: Record<string, unknown> };
  };
  expect(typeof envelope.error.message).toBe("string");
  expect(typeof envelope.error.requestId).toBe("string");
  // The text block is the same envelope.
  const text = result.content.find((c) => c.type === "text");
  expect(JSON.parse((text as { text: string }).text)).toEqual(envelope);
  return envelope.error;
}

describe("/mcp", () => {
  test("no API key is 401 with the envelope; a bad key too; GET is 405", async () => {
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    };
    const headers = { accept: "application/json, text/event-stream" };
    const none = await http("POST", "/mcp", headers, initialize);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("unauthorized");
    const bad = await http("POST", "/mcp", { ...headers, "x-api-key": "logo_not_a_key" }, initialize);
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe("unauthorized");
    // The SDK client is refused as well.
    await expect(connect({})).rejects.toThrow();
    const get = await fetch(`${server.url}/mcp`, { headers: { accept: "text/event-stream" } });
    expect(get.status).toBe(405);
    await get.body?.cancel();
  });

  test("tools/list: one tool per chosen operation, its input schema the operation's parameters and body", async () => {
    const client = await connect({ authorization: `Bearer ${await apiKey()}` });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(MCP_OPERATIONS.map((o) => snake(o.operationId)));
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const choice of MCP_OPERATIONS) {
      const operation = operationOf(choice.operationId);
      const tool = tools.find((t) => t.name === snake(choice.operationId));
      if (!tool) throw new Error(`no tool for ${choice.operationId}`);
      expect(tool.description).toBe([operation.summary, operation.description].filter(Boolean).join("\n\n"));
      const properties = tool.inputSchema.properties as Record<string, any>;
      const required = new Set(tool.inputSchema.required ?? []);
      const expected = new Set<string>();
      for (const p of (operation.parameters ?? []).map(deref)) {
        const argument =
          p.in === "header" ? ({ "idempotency-key": "idempotencyKey", prefer: "wait" } as Doc)[p.name] : p.name;
        expect(argument).toBeDefined();
        expected.add(argument);
        if (p.name === "prefer") {
          expect(properties.wait).toMatchObject({ type: "integer", minimum: 0, maximum: 30 });
          continue;
        }
        expect(properties[argument]).toEqual({ description: p.description, ...p.schema });
        expect(required.has(argument)).toBe(p.required === true);
      }
      if ("waitWith" in choice) {
        expected.add("wait");
        expect(properties.wait).toMatchObject({ type: "integer", minimum: 0, maximum: 30 });
      }
      const body = deref(operation.requestBody?.content?.["application/json"]?.schema);
      if (body?.type === "object") {
        for (const [name, schema] of Object.entries(body.properties as Doc)) {
          expected.add(name);
          expect(properties[name]).toEqual(schema);
          expect(required.has(name)).toBe(operation.requestBody.required && (body.required ?? []).includes(name));
        }
        // The body's documented example, as arguments, is valid input.
        if (body.example) expect(ajv.validate(tool.inputSchema, body.example)).toBe(true);
      } else if (body) {
        expected.add("body");
        expect(properties.body).toEqual({ description: operation.requestBody.description, ...body });
        expect(required.has("body")).toBe(operation.requestBody.required === true);
      }
      expect(new Set(Object.keys(properties))).toEqual(expected);
      expect(tool.inputSchema).toMatchObject({ type: "object", additionalProperties: false });
      // Self-contained: MCP clients get no components to resolve.
      expect(JSON.stringify(tool.inputSchema)).not.toContain("$ref");
      expect(ajv.compile(tool.inputSchema)).toBeFunction();
    }
  });

  test("create a logo with a wait: progress, the prediction as structured content and its PNG as an image block; then a brand kit, and 402", async () => {
    const client = await connect({ "x-api-key": await apiKey() });
    const progress: Progress[] = [];
    const created = await call(client, "create_prediction", { brandName: "Acme Coffee", wait: 10 }, (p) =>
      progress.push(p),
    );
    if (created.isError) throw new Error(JSON.stringify(created.content[0]));
    expect(created.isError).toBeFalsy();
    const prediction = created.structuredContent as Doc;
    expect(prediction).toMatchObject({ status: "succeeded", creditsCharged: 1 });
    expect(JSON.parse((created.content[0] as { text: string }).text)).toEqual(prediction);
    const images = created.content.filter((c) => c.type === "image");
    expect(images).toHaveLength(1);
    const image = images[0] as { data: string; mimeType: string };
    expect(image.mimeType).toBe("image/png");
    const png = Buffer.from(image.data, "base64");
    expect(png.byteLength).toBeLessThanOrEqual(MAX_IMAGE_BLOCK_BYTES);
    expect((await sharp(png).metadata()).format).toBe("png");
    // The image is the stored output itself (small enough to go as it is).
    const stored = await fetch(`${server.url}${new URL(prediction.output[0]).pathname}`);
    expect(Buffer.from(await stored.arrayBuffer()).equals(png)).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]?.progress).toBe(0);
    expect(progress.at(-1)).toMatchObject({ progress: 10, total: 10, message: "succeeded" });

    // The same prediction read back, and the balance the route reports.
    const readProgress: Progress[] = [];
    const got = await call(client, "get_prediction", { id: prediction.id, wait: 5 }, (p) => readProgress.push(p));
    expect(got.structuredContent).toMatchObject({ id: prediction.id, status: "succeeded" });
    expect(readProgress.at(-1)).toMatchObject({ progress: 5, total: 5, message: "succeeded" });
    expect(got.content.filter((c) => c.type === "image")).toHaveLength(1);

    let asset = (await call(client, "create_asset", { id: prediction.id, body: { kind: "brand-kit" }, wait: 30 }))
      .structuredContent as Doc;
    expect(asset).toMatchObject({ kind: "brand-kit", creditsCharged: 3 });
    for (let i = 0; i < 4 && asset.status !== "succeeded" && asset.status !== "failed"; i++)
      asset = (await call(client, "get_asset", { id: asset.id, wait: 30 })).structuredContent as Doc;
    expect(asset.status).toBe("succeeded");
    expect(asset.files).toEqual([
      expect.objectContaining({ name: "brand-kit.zip", contentType: "application/zip", bytes: expect.any(Number) }),
    ]);
    // The listed file is there to download.
    const zip = await fetch(`${server.url}${new URL(asset.files[0].url).pathname}`);
    expect(
      Buffer.from(await zip.arrayBuffer())
        .subarray(0, 2)
        .toString(),
    ).toBe("PK");

    const balance = await call(client, "get_credit_balance", {});
    expect(balance.structuredContent).toMatchObject({ balance: 0 });
    const broke = await call(client, "create_prediction", { brandName: "Acme Tea" });
    expect(envelopeOf(broke).code).toBe("insufficient_credits");
  }, 150_000);

  test("an idempotency key replays; 404, 403 (another user's prediction), 429 and a bad argument come back as isError with the envelope", async () => {
    const owner = await connect({ "x-api-key": await apiKey() });
    const mine = (await call(owner, "create_prediction", { brandName: "Mine", idempotencyKey: "mine-1" }))
      .structuredContent as Doc;
    // The route's idempotency: the same key and arguments replay the first answer, charged once.
    const again = await call(owner, "create_prediction", { brandName: "Mine", idempotencyKey: "mine-1" });
    expect(again.structuredContent).toMatchObject({ id: mine.id });
    expect((await call(owner, "get_credit_balance", {})).structuredContent).toMatchObject({ balance: 3 });
    const key = await apiKey();
    const client = await connect({ "x-api-key": key });
    expect(envelopeOf(await call(client, "get_prediction", { id: crypto.randomUUID() })).code).toBe("not_found");
    // Another user's prediction: refused as over HTTP with the same key.
    const overHttp = await http("GET", `/api/predictions/${mine.id}`, { "x-api-key": key });
    expect(overHttp.status).toBe(403);
    expect(envelopeOf(await call(client, "get_prediction", { id: mine.id })).code).toBe(overHttp.body.error.code);
    expect(envelopeOf(await call(client, "create_prediction", { brandName: "" })).code).toBe("validation_error");
    expect(envelopeOf(await call(client, "get_prediction", {}))).toMatchObject({
      code: "validation_error",
      details: { issues: [{ path: "id", message: "Required." }] },
    });
    expect(envelopeOf(await call(client, "list_models", { nope: 1 }))).toMatchObject({
      code: "validation_error",
      details: { issues: [{ path: "nope", message: "Unknown argument." }] },
    });
    expect(envelopeOf(await call(client, "get_prediction", { id: mine.id, wait: 31 })).code).toBe("validation_error");

    // RATE_LIMIT_MODERATE_PER_MIN is 5 here: the sixth balance read in the minute is refused, as over HTTP.
    for (let i = 0; i < 5; i++) expect((await call(client, "get_credit_balance", {})).isError).toBeFalsy();
    const limited = envelopeOf(await call(client, "get_credit_balance", {}));
    expect(limited.code).toBe("rate_limited");
  }, 60_000);
});
