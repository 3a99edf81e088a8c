import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AssetSchema } from "../../src/schemas/assets";
import { PredictionSchema } from "../../src/schemas/predictions";
import { createTestApp, type TestApp } from "../helpers/app";
import { eventually } from "../helpers/clock";
import { expectError, expectSchema } from "../helpers/schemas";
import { body } from "../predictions/helpers";

/**
 * The isolation matrix of test mode, generated from the live document: every operation that takes an `{id}` path
 * parameter, called with a test key on a live object and with a live key (and a session) on a test object of the
 * same user, answers 404 — and, as the control that keeps the matrix honest, anything but 404 in its own mode.
 * A new operation with an id must say here which kind of object it names, or this test fails.
 */

/** Which object an operation's `{id}` names, by path; null: not a user's object (with the reason). */
function kindOf(path: string): "prediction" | "asset" | null {
  if (/^\/api\/(predictions|generations)\/\{id\}/.test(path)) return "prediction";
  if (/^\/api\/assets\/\{id\}/.test(path)) return "asset";
  // A sandbox image is named by the provider's id, public like a CDN URL (no credential is read).
  if (path.startsWith("/sandbox/images/")) return null;
  throw new Error(`${path}: which object does its {id} name? Classify it in the isolation matrix.`);
}

let t: TestApp;
let keys: { live: Record<string, string>; test: Record<string, string>; session: Record<string, string> };
const objects = { live: { prediction: "", asset: "" }, test: { prediction: "", asset: "" } };
const operations: { method: string; path: string; kind: "prediction" | "asset" }[] = [];

beforeAll(async () => {
  // The sandbox provider for live predictions too, so both modes have succeeded predictions with deliverables.
  t = await createTestApp({ env: { SIGNUP_CREDITS: "10", SANDBOX_DELAY_MS: "0" } });
  const s = await t.signUp();
  const key = async (metadata?: object) => {
    const res = await t.json("POST", "/api/auth/api-key/create", {
      headers: s.headers,
      body: { name: "matrix", ...(metadata ? { metadata } : {}) },
    });
    return { "x-api-key": (res.body as { key: string }).key };
  };
  keys = { live: await key(), test: await key({ mode: "test" }), session: s.headers };
  expect((await t.json("POST", "/api/credits/test-top-up", { headers: keys.test })).status).toBe(200);
  for (const mode of ["live", "test"] as const) {
    const headers = keys[mode];
    const created = await t.json("POST", "/api/predictions", { headers, body: body() });
    const p = expectSchema(PredictionSchema, created.body);
    expect(p.livemode).toBe(mode === "live");
    await eventually(async () => {
      const res = await t.json("GET", `/api/predictions/${p.id}`, { headers: { ...headers, prefer: "wait=5" } });
      return expectSchema(PredictionSchema, res.body).status === "succeeded";
    }, 15_000);
    const ordered = await t.json("POST", `/api/predictions/${p.id}/assets`, { headers, body: { kind: "icons" } });
    objects[mode] = { prediction: p.id, asset: expectSchema(AssetSchema, ordered.body).id };
  }

  const doc = (await t.json("GET", "/openapi.json")).body as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
  };
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const takesId = (op.parameters ?? []).some((p) => p.in === "path" && p.name === "id") || path.includes("{id}");
      if (!takesId) continue;
      const kind = kindOf(path);
      if (kind) operations.push({ method: method.toUpperCase(), path, kind });
    }
});
afterAll(() => t.close());

async function call(op: (typeof operations)[number], id: string, headers: Record<string, string>) {
  const res = await t.fetch(op.path.replace("{id}", id), {
    method: op.method,
    headers: { ...headers, ...(op.method === "GET" ? {} : { "content-type": "application/json" }) },
    body: op.method === "GET" ? undefined : "{}",
  });
  const isStream = res.headers.get("content-type")?.startsWith("text/event-stream");
  if (isStream) {
    await res.body?.cancel();
    return { status: res.status, headers: res.headers, body: null };
  }
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

describe("isolation matrix (from GET /openapi.json)", () => {
  test("the document has the operations this matrix is about", () => {
    const names = operations.map((o) => `${o.method} ${o.path}`);
    // Not exhaustive on purpose (the document is): these must at least be there for the matrix to mean anything.
    for (const expected of [
      "GET /api/predictions/{id}",
      "POST /api/predictions/{id}/cancel",
      "GET /api/generations/{id}",
      "POST /api/predictions/{id}/assets",
      "GET /api/assets/{id}",
      "GET /api/predictions/{id}/webhook-deliveries",
      "GET /api/predictions/{id}/events",
    ])
      expect(names).toContain(expected);
  });

  test("a test key on a live object, and a live key or a session on a test object: 404", async () => {
    const seen: string[] = [];
    for (const op of operations) {
      for (const [caller, mode] of [
        ["test", "live"],
        ["live", "test"],
        ["session", "test"],
      ] as const) {
        const res = await call(op, objects[mode][op.kind], keys[caller]);
        if (res.status !== 404)
          seen.push(`${op.method} ${op.path} as ${caller} on a ${mode} ${op.kind}: ${res.status}`);
        else expectError(res, 404, "not_found");
      }
    }
    expect(seen).toEqual([]);
  });

  test("control: the same calls in the object's own mode are not 404", async () => {
    const seen: string[] = [];
    for (const op of operations) {
      // Cancel last: it changes the object (a final prediction answers 409, still not 404).
      for (const mode of ["live", "test"] as const) {
        const res = await call(op, objects[mode][op.kind], keys[mode]);
        if (res.status === 404) seen.push(`${op.method} ${op.path} as ${mode} on its own ${op.kind}`);
      }
    }
    expect(seen).toEqual([]);
  });
});
