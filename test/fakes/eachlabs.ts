/**
 * A fake Eachlabs: a real HTTP server on 127.0.0.1 (port 0) speaking the wire contract in PROVIDERS.md.
 *
 *   const eachlabs = await startFakeEachlabs();            // afterAll(() => eachlabs.close())
 *   createTestApp({ env: { EACHLABS_API_KEY: FAKE_EACHLABS_KEY, EACHLABS_BASE_URL: eachlabs.url } })
 *
 * Routes (a trailing slash is accepted on each):
 *   POST /v1/prediction             {model, version, input} → 200 {status:"success", message, predictionID}
 *   GET  /v1/prediction/{id}        → 200 {id, input, status, output, logs, metrics, urls}; 404 {error}
 *   POST /v1/prediction/{id}/cancel → 200 {status:"success", message}; a non-final prediction becomes "cancelled"
 * Auth: `X-API-Key` or `Authorization: Bearer` must equal the key (default FAKE_EACHLABS_KEY), else 401.
 *
 * Behaviour of each prediction is a Scenario, fixed when it is created:
 *   - `enqueue(s1, s2, …)`: the next creates take these scenarios, one each, in order (then the default);
 *   - `setDefault(s)`: the scenario for creates when the queue is empty (merged over DEFAULT_SCENARIO);
 *   - Scenario fields: `create` (how create answers: see Reply), `pendingPolls` (GETs that answer a pending status
 *     before the final one; default 1; Infinity = stays pending until `finish(id, …)`), `pendingStatuses`
 *     (spellings for those GETs, last one repeats; null omits the field), `final` ({status, output?, logs?}:
 *     what GETs answer after that; helpers `succeed(urls?)`, `fail(code, message)`, `outputShape(...)`),
 *     `get` / `cancel` (a Reply that overrides those routes for this prediction).
 *   - `finish(id, final)`: make a prediction final now ("fail later", "succeed now"); `prediction(id)` reads it.
 * Reply (for create/get/cancel overrides and `script`): `{ status, json }` | `{ status, text, contentType? }` |
 *   `"hang"` (never answers; released at close) | `{ delayMs, reply: Reply }` (answers after a delay) |
 *   `{ after: Promise, reply: Reply }` (answers once the test settles that promise). `errorReply(402)` etc. give the
 *   documented JSON error bodies for 400/401/402/404/429/500.
 * Output images: a success's default output points at images this server serves itself (no auth, like a CDN):
 *   GET /images/{id}/{n}.png → 200 image/png with `imageBytes(path)` (a PNG signature and the path, so every file
 *   differs). `imageUrl(id, n)` gives the URL; `setFile(urlOrPath, reply)` makes one URL answer something else —
 *   `"deleted"` (404), a Reply such as `{ status: 200, text: "<html>", contentType: "text/html" }`, a redirect
 *   (`redirectReply(to)`), or a byte body `{ status, bytes, contentType, length? }` where `bytes` may be
 *   `{ zeros: n }` (streamed, never held in memory; `length: false` omits Content-Length). Requests for files are
 *   recorded with op "file"; `fileGets(urlOrPath)` counts them.
 * Completion callbacks: a create body's `webhook_url` is kept on the prediction. With a Scenario `callback` plan
 *   ({ times = 2, body, race, concurrent }), the fake POSTs that URL (real HTTP) when the prediction becomes final — by
 *   `finish(id, …)`, or when a GET first answers a final state. `body` (a value or fn(prediction)) is what it posts
 *   (default: the prediction as a final GET answers it; make it lie to test that nobody believes it). `race`: the
 *   first callback goes out while GETs still answer pending; the GET it provokes answers pending too, and only then
 *   (or once that callback is answered) do GETs say final. `concurrent`: all callbacks at once, else one after
 *   another. `callbacks(id)` lists the deliveries (status answered, or error); `callbacksSettled(id)` resolves when
 *   all have been answered.
 * `script(fn)`: fn(call) runs for every request before the routes; return a Reply to answer with it, or undefined
 *   to fall through. Returns a function that removes it. Scripts run newest first.
 * Recording: `calls` (every request: method, path, op, predictionId, headers (lowercased), body (JSON or text),
 *   at), `callsFor(id)`, `getsFor(id)` (GET count per prediction: assert "at most one provider call per second"
 *   by counting), `creates()`. `reset()` clears calls, predictions, queue, scripts and the default.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const FAKE_EACHLABS_KEY = "test-eachlabs-key";

export type Reply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; text: string; contentType?: string; headers?: Record<string, string> }
  | {
      status: number;
      bytes: Uint8Array | { zeros: number };
      contentType: string;
      /** false: no Content-Length (chunked), so only the bytes read tell the size. */
      length?: boolean;
    }
  | "hang"
  | { delayMs: number; reply: Reply }
  | { after: Promise<unknown>; reply: Reply };

export interface FinalState {
  /** Any spelling: "success", "error", "failed", "cancelled", "canceled", or something odd. */
  status: string;
  output?: unknown;
  logs?: unknown;
}

export interface Scenario {
  /** Overrides the create answer; nothing is stored then (use `id` to choose the id of a stored prediction). */
  create?: Reply;
  /** Id the create answers with (default a random UUID). */
  id?: string;
  pendingPolls: number;
  pendingStatuses: (string | null)[];
  final: FinalState;
  get?: Reply;
  cancel?: Reply;
  /** Call the create's `webhook_url` when the prediction becomes final (see the header). */
  callback?: CallbackPlan;
}

export interface CallbackPlan {
  /** How many callbacks (default 2). */
  times?: number;
  /** What each callback posts (default: the prediction as its final GET answers it). */
  body?: unknown | ((p: FakePrediction) => unknown);
  /** The first callback precedes the GET that says final. */
  race?: boolean;
  /** All callbacks at once instead of one after another. */
  concurrent?: boolean;
}

export interface CallbackDelivery {
  url: string;
  body: unknown;
  /** The status our server answered, or undefined when the request failed (then `error`). */
  status?: number;
  error?: string;
}

export interface FakePrediction {
  id: string;
  model: string;
  input: Record<string, unknown>;
  scenario: Scenario;
  /** GETs answered so far. */
  polls: number;
  /** Set by finish() or cancel: overrides the scenario's schedule. */
  forced?: FinalState;
  /** The create body's `webhook_url`, if any. */
  webhookUrl?: string;
  /** A final state waiting for the first GET after a racing callback (callback.race). */
  racing?: FinalState;
  callbacks: CallbackDelivery[];
  callbacksSent?: Promise<void>;
}

export interface RecordedCall {
  method: string;
  /** Path as requested (may carry a trailing slash). */
  path: string;
  op: "create" | "get" | "cancel" | "file" | "other";
  predictionId?: string;
  headers: Record<string, string>;
  /** Parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  /** Date.now() when the request arrived. */
  at: number;
}

export const ERROR_BODIES: Record<number, { error: string; status?: number }> = {
  400: { error: "Invalid input: prompt is required", status: 400 },
  401: { error: "Invalid API key", status: 401 },
  402: { error: "Insufficient balance", status: 402 },
  404: { error: "Prediction not found", status: 404 },
  429: { error: "Too many in-flight predictions", status: 429 },
  500: { error: "Internal server error", status: 500 },
};

/** The documented JSON error answer for a status. */
export const errorReply = (status: number, error?: string): Reply => ({
  status,
  json: { ...(ERROR_BODIES[status] ?? { error: `HTTP ${status}`, status }), ...(error ? { error } : {}) },
});

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** The bytes the fake serves for an image path: a PNG signature and the path itself. */
export const imageBytes = (path: string) => new Uint8Array([...PNG_SIGNATURE, ...new TextEncoder().encode(path)]);
/** A redirect to `to` (a URL or a path on the fake). */
export const redirectReply = (to: string, status = 302): Reply => ({
  status,
  text: "",
  contentType: "text/plain",
  headers: { location: to },
});

/** Final state: success with these URLs (default: one per requested image, as a string array). */
export const succeed = (output?: unknown): FinalState => ({ status: "success", output });
/** Final state: the documented failure shape `{error_code, error_message}` with status "error". */
export const fail = (
  code = "PROVIDER_REJECTED",
  message = "The prompt was rejected",
  status = "error",
): FinalState => ({
  status,
  output: { error_code: code, error_message: message },
});
/** Success output in one of the documented shapes. */
export function outputShape(shape: "string" | "strings" | "object" | "objects", urls: string[]): unknown {
  switch (shape) {
    case "string":
      return urls[0];
    case "strings":
      return urls;
    case "object":
      return { url: urls[0] };
    case "objects":
      return urls.map((url) => ({ url }));
  }
}

export const DEFAULT_SCENARIO: Scenario = {
  pendingPolls: 1,
  pendingStatuses: ["processing"],
  final: { status: "success" },
};

export interface FakeEachlabs {
  url: string;
  apiKey: string;
  calls: RecordedCall[];
  predictions: Map<string, FakePrediction>;
  setDefault(s: Partial<Scenario>): void;
  enqueue(...s: Partial<Scenario>[]): void;
  script(fn: (call: RecordedCall) => Reply | undefined): () => void;
  finish(id: string, final: FinalState): void;
  /** URL of an output image this fake serves. */
  imageUrl(id: string, n: number): string;
  /** Makes one file URL answer `reply` ("deleted": 404), until reset(). */
  setFile(urlOrPath: string, reply: Reply | "deleted"): void;
  /** GETs of one file URL so far. */
  fileGets(urlOrPath: string): number;
  prediction(id: string): FakePrediction | undefined;
  /** Callback deliveries made for a prediction so far. */
  callbacks(id: string): CallbackDelivery[];
  /** Resolves once every planned callback of the prediction has been answered (or failed). */
  callbacksSettled(id: string): Promise<void>;
  callsFor(id: string): RecordedCall[];
  getsFor(id: string): number;
  creates(): RecordedCall[];
  reset(): void;
  close(): Promise<void>;
}

const FINAL = new Set(["success", "succeeded", "error", "failed", "cancelled", "canceled"]);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startFakeEachlabs(opts: { apiKey?: string } = {}): Promise<FakeEachlabs> {
  const apiKey = opts.apiKey ?? FAKE_EACHLABS_KEY;
  const calls: RecordedCall[] = [];
  const predictions = new Map<string, FakePrediction>();
  let queue: Partial<Scenario>[] = [];
  let scripts: ((call: RecordedCall) => Reply | undefined)[] = [];
  let defaults: Partial<Scenario> = {};
  const files = new Map<string, Reply | "deleted">();
  const pathOf = (urlOrPath: string) => new URL(urlOrPath, "http://127.0.0.1").pathname;
  let baseUrl = "";
  const imageUrl = (id: string, n: number) => `${baseUrl}/images/${encodeURIComponent(id)}/${n}.png`;
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();

  function stateOf(p: FakePrediction): FinalState | { status: string | null; output?: undefined; logs?: unknown } {
    if (p.forced) return p.forced;
    // polls counts the GET being answered, so GET number pendingPolls+1 is the first final one
    if (p.polls <= p.scenario.pendingPolls) {
      const list = p.scenario.pendingStatuses;
      const status = list.length === 0 ? "processing" : (list[Math.min(p.polls - 1, list.length - 1)] ?? null);
      return { status, logs: null };
    }
    return p.scenario.final;
  }

  function defaultOutput(p: FakePrediction): string[] {
    const n = typeof p.input.num_images === "number" ? p.input.num_images : 1;
    return Array.from({ length: Math.max(1, Math.min(n, 10)) }, (_, i) => imageUrl(p.id, i));
  }

  function predictionJson(p: FakePrediction) {
    const state = stateOf(p);
    const finalSuccess = state.status === "success" && !("output" in state && state.output !== undefined);
    const body: Record<string, unknown> = {
      id: p.id,
      ...(state.status !== null ? { status: state.status } : {}),
      input: p.input,
      output: finalSuccess ? defaultOutput(p) : (state.output ?? null),
      logs: state.logs ?? null,
      metrics: { predict_time: FINAL.has(String(state.status)) ? 3.2 : null, cost: 0.039 },
      urls: { get: `/v1/prediction/${p.id}`, cancel: `/v1/prediction/${p.id}/cancel` },
    };
    return body;
  }

  async function deliver(p: FakePrediction, body: unknown): Promise<void> {
    const url = p.webhookUrl ?? "";
    const delivery: CallbackDelivery = { url, body };
    p.callbacks.push(delivery);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      delivery.status = res.status;
    } catch (err) {
      delivery.error = err instanceof Error ? err.message : String(err);
    }
  }

  /** Sends the scenario's callbacks once per prediction (no plan or no webhook_url: nothing). */
  function startCallbacks(p: FakePrediction, final?: FinalState): void {
    const plan = p.scenario.callback;
    if (!plan || !p.webhookUrl || p.callbacksSent) {
      if (final) p.forced = final;
      return;
    }
    const times = plan.times ?? 2;
    const bodyOf = () => {
      if (typeof plan.body === "function") return (plan.body as (p: FakePrediction) => unknown)(p);
      if (plan.body !== undefined) return plan.body;
      // the truth: the prediction as a GET answers it once final
      const shown: FakePrediction = { ...p, forced: p.forced ?? p.racing ?? final };
      return predictionJson(shown);
    };
    if (final && plan.race) p.racing = final;
    else if (final) p.forced = final;
    p.callbacksSent = (async () => {
      const first = bodyOf();
      if (plan.concurrent) {
        await Promise.all(Array.from({ length: times }, () => deliver(p, first)));
      } else {
        for (let i = 0; i < times; i++) {
          await deliver(p, i === 0 ? first : bodyOf());
          // a racing first callback has been answered: GETs say final from now on, provoked or not
          if (p.racing) {
            p.forced = p.racing;
            p.racing = undefined;
          }
        }
      }
      if (p.racing) {
        p.forced = p.racing;
        p.racing = undefined;
      }
    })();
  }

  function route(call: RecordedCall): Reply {
    for (const fn of [...scripts].reverse()) {
      const r = fn(call);
      if (r !== undefined) return r;
    }
    if (call.op === "file") {
      const file = files.get(call.path);
      if (file === "deleted") return { status: 404, text: "Not Found", contentType: "text/plain" };
      if (file) return file;
      if (/^\/images\/[^/]+\/\d+\.png$/.test(call.path))
        return { status: 200, bytes: imageBytes(call.path), contentType: "image/png" };
      return { status: 404, text: "Not Found", contentType: "text/plain" };
    }
    const auth = call.headers.authorization;
    if (call.headers["x-api-key"] !== apiKey && auth !== `Bearer ${apiKey}`) return errorReply(401);

    if (call.op === "create") {
      const b = call.body as { model?: unknown; input?: unknown; webhook_url?: unknown } | undefined;
      const scenario: Scenario = { ...DEFAULT_SCENARIO, ...defaults, ...(queue.shift() ?? {}) };
      if (scenario.create) return scenario.create;
      if (!b || typeof b !== "object" || typeof b.model !== "string" || !b.input || typeof b.input !== "object") {
        return errorReply(400, "Invalid request body: model and input are required");
      }
      const id = scenario.id ?? crypto.randomUUID();
      predictions.set(id, {
        id,
        model: b.model,
        input: b.input as Record<string, unknown>,
        scenario,
        polls: 0,
        webhookUrl: typeof b.webhook_url === "string" ? b.webhook_url : undefined,
        callbacks: [],
      });
      call.predictionId = id;
      return { status: 200, json: { status: "success", message: "Prediction created successfully", predictionID: id } };
    }
    if (call.op === "get" || call.op === "cancel") {
      const p = call.predictionId ? predictions.get(call.predictionId) : undefined;
      if (!p) return errorReply(404);
      if (call.op === "get") {
        p.polls++;
        const reply = p.scenario.get ?? { status: 200, json: predictionJson(p) };
        if (p.racing) {
          // The GET a racing callback provoked has answered pending: from now on GETs say final.
          p.forced = p.racing;
          p.racing = undefined;
        } else if (FINAL.has(String(stateOf(p).status))) startCallbacks(p);
        return reply;
      }
      if (p.scenario.cancel) return p.scenario.cancel;
      if (!FINAL.has(String(stateOf(p).status))) p.forced = { status: "cancelled", output: null };
      return { status: 200, json: { status: "success", message: "Prediction cancelled" } };
    }
    return { status: 404, json: { error: "Not found" } };
  }

  function send(res: ServerResponse, reply: Reply) {
    if (reply === "hang") return; // the socket stays open until close()
    if ("after" in reply) {
      reply.after.then(
        () => send(res, reply.reply),
        () => res.destroy(),
      );
      return;
    }
    if ("delayMs" in reply) {
      const t = setTimeout(() => {
        timers.delete(t);
        send(res, reply.reply);
      }, reply.delayMs);
      timers.add(t);
      return;
    }
    if ("bytes" in reply) {
      const size = reply.bytes instanceof Uint8Array ? reply.bytes.length : reply.bytes.zeros;
      res.writeHead(reply.status, {
        "content-type": reply.contentType,
        ...(reply.length === false ? {} : { "content-length": String(size) }),
      });
      if (reply.bytes instanceof Uint8Array) {
        res.end(reply.bytes);
        return;
      }
      // Streamed in chunks as the client reads, so a client that stops reading stops the sending.
      const chunk = new Uint8Array(64 * 1024);
      let left = size;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once("drain", pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
      return;
    }
    if ("json" in reply) {
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(JSON.stringify(reply.json));
    } else {
      res.writeHead(reply.status, { "content-type": reply.contentType ?? "text/html", ...reply.headers });
      res.end(reply.text);
    }
  }

  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const clean = path.replace(/\/+$/, "");
    const m = /^\/v1\/prediction(?:\/([^/]+))?(\/cancel)?$/.exec(clean);
    let op: RecordedCall["op"] = "other";
    let predictionId: string | undefined;
    if (m) {
      predictionId = m[1] ? decodeURIComponent(m[1]) : undefined;
      if (req.method === "POST" && !m[1] && !m[2]) op = "create";
      else if (req.method === "GET" && m[1] && !m[2]) op = "get";
      else if (req.method === "POST" && m[1] && m[2]) op = "cancel";
    } else if (req.method === "GET" && (path.startsWith("/images/") || files.has(path))) op = "file";
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    }
    const call: RecordedCall = { method: req.method ?? "GET", path, op, predictionId, headers, body, at: Date.now() };
    calls.push(call);
    send(res, route(call));
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    calls,
    predictions,
    setDefault(s) {
      defaults = { ...s };
    },
    enqueue(...s) {
      queue.push(...s);
    },
    script(fn) {
      scripts.push(fn);
      return () => {
        scripts = scripts.filter((f) => f !== fn);
      };
    },
    finish(id, final) {
      const p = predictions.get(id);
      if (!p) throw new Error(`fake eachlabs: no prediction ${id}`);
      startCallbacks(p, final);
    },
    imageUrl,
    setFile(urlOrPath, reply) {
      files.set(pathOf(urlOrPath), reply);
    },
    fileGets: (urlOrPath) => calls.filter((c) => c.op === "file" && c.path === pathOf(urlOrPath)).length,
    prediction: (id) => predictions.get(id),
    callbacks: (id) => predictions.get(id)?.callbacks ?? [],
    callbacksSettled: async (id) => {
      await predictions.get(id)?.callbacksSent;
    },
    callsFor: (id) => calls.filter((c) => c.predictionId === id),
    getsFor: (id) => calls.filter((c) => c.predictionId === id && c.op === "get").length,
    creates: () => calls.filter((c) => c.op === "create"),
    reset() {
      calls.length = 0;
      predictions.clear();
      queue = [];
      scripts = [];
      defaults = {};
      files.clear();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
