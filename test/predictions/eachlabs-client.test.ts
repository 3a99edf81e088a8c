import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createEachlabsProvider } from "../../src/services/providers/eachlabs";
import { ProviderError } from "../../src/services/providers/provider";
import {
  ERROR_BODIES,
  errorReply,
  FAKE_EACHLABS_KEY,
  type FakeEachlabs,
  fail,
  outputShape,
  startFakeEachlabs,
  succeed,
} from "../fakes/eachlabs";

let fake: FakeEachlabs;
beforeAll(async () => {
  fake = await startFakeEachlabs();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const provider = (opts: { timeoutMs?: number; baseUrl?: string; apiKey?: string } = {}) =>
  createEachlabsProvider({
    apiKey: opts.apiKey ?? FAKE_EACHLABS_KEY,
    baseUrl: opts.baseUrl ?? fake.url,
    timeoutMs: opts.timeoutMs ?? 5000,
  });

const INPUT = { prompt: 'Professional logo design for the brand "Acme".', num_images: 2, aspect_ratio: "1:1" };

/** Runs fn and returns the ProviderError it throws. */
async function providerError(fn: () => Promise<unknown>): Promise<ProviderError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ProviderError) return e;
    throw new Error(`expected a ProviderError, got ${String(e)}`);
  }
  throw new Error("expected a ProviderError, got success");
}

async function created(p = provider()) {
  const { id } = await p.create({ slug: "nano-banana", input: INPUT });
  return id;
}

describe("create", () => {
  test("sends the documented request: path, both auth headers, JSON body with model, version and input", async () => {
    const { id, raw } = await provider().create({ slug: "nano-banana", input: INPUT });

    expect(fake.calls).toHaveLength(1);
    const call = fake.calls[0];
    expect(call?.method).toBe("POST");
    expect(call?.path).toBe("/v1/prediction");
    expect(call?.headers["x-api-key"]).toBe(FAKE_EACHLABS_KEY);
    expect(call?.headers.authorization).toBe(`Bearer ${FAKE_EACHLABS_KEY}`);
    expect(call?.headers["content-type"]).toStartWith("application/json");
    expect(call?.body).toEqual({ model: "nano-banana", version: "0.0.1", input: INPUT });
    // the id is predictionID, and it is the one the fake stored
    expect(fake.prediction(id)?.input).toEqual(INPUT);
    expect(raw).toEqual({ status: "success", message: expect.any(String), predictionID: id });
  });

  test("a base URL with a trailing slash does not double the slash", async () => {
    await provider({ baseUrl: `${fake.url}/` }).create({ slug: "nano-banana", input: INPUT });
    expect(fake.creates()[0]?.path).toBe("/v1/prediction");
  });

  test("a server that only routes /v1/prediction/ (trailing slash) is retried there once", async () => {
    fake.script((call) =>
      call.op === "create" && !call.path.endsWith("/")
        ? { status: 404, text: "Not Found", contentType: "text/plain" }
        : undefined,
    );
    const id = await created();
    expect(fake.creates().map((c) => c.path)).toEqual(["/v1/prediction", "/v1/prediction/"]);
    expect(fake.prediction(id)).toBeDefined();
  });

  test("a 404 with an Eachlabs {error} body is an answer, not a routing problem: no retry", async () => {
    fake.enqueue({ create: errorReply(404, "Model not found") });
    const e = await providerError(() => created());
    expect(e).toMatchObject({ kind: "http", httpStatus: 404, providerMessage: "Model not found" });
    expect(fake.creates()).toHaveLength(1);
  });

  test("a 200 with `id` but no `predictionID` is malformed (never read `id`)", async () => {
    fake.enqueue({ create: { status: 200, json: { status: "success", id: "wrong-field" } } });
    const e = await providerError(() => created());
    expect(e.kind).toBe("malformed");
    expect(e.httpStatus).toBe(200);
    expect(e.raw).toEqual({ status: "success", id: "wrong-field" });
  });

  test.each([
    [{ status: "success", predictionID: "" }],
    [{ status: "success", predictionID: null }],
    [{ status: "success", predictionID: { id: "x" } }],
    [{ status: "success", predictionID: "x".repeat(300) }],
    [[{ predictionID: "in-an-array" }]],
    ["just a string"],
    [null],
  ])("a 200 with an unusable body %p is malformed", async (json) => {
    fake.enqueue({ create: { status: 200, json } });
    expect((await providerError(() => created())).kind).toBe("malformed");
  });

  test("a 200 with `status: error` and no id keeps the provider's message", async () => {
    fake.enqueue({ create: { status: 200, json: { status: "error", message: "Model not available" } } });
    const e = await providerError(() => created());
    expect(e.kind).toBe("malformed");
    expect(e.providerMessage).toBe("Model not available");
  });

  test("a numeric predictionID is accepted as a string", async () => {
    fake.enqueue({ create: { status: 200, json: { status: "success", predictionID: 12345 } } });
    expect(await created()).toBe("12345");
  });

  test.each([400, 401, 402, 429, 500])("HTTP %p with its JSON error body → kind http", async (status) => {
    fake.enqueue({ create: errorReply(status) });
    const e = await providerError(() => created());
    expect(e.kind).toBe("http");
    expect(e.httpStatus).toBe(status);
    expect(e.providerMessage).toBe(ERROR_BODIES[status]?.error as string);
    expect(e.message).toContain(String(status));
    expect(e.raw).toEqual(ERROR_BODIES[status]);
  });

  test("a wrong API key is refused by the fake with 401", async () => {
    const e = await providerError(() => created(provider({ apiKey: "wrong" })));
    expect(e).toMatchObject({ kind: "http", httpStatus: 401, providerMessage: "Invalid API key" });
  });

  test("the error message never contains the API key", async () => {
    fake.enqueue({ create: errorReply(500) });
    const e = await providerError(() => created());
    expect(e.message).not.toContain(FAKE_EACHLABS_KEY);
    expect(JSON.stringify(e.raw)).not.toContain(FAKE_EACHLABS_KEY);
  });

  test("a non-JSON error body (e.g. a proxy's HTML page) → http, with the start of the text", async () => {
    fake.enqueue({ create: { status: 502, text: "<html>Bad Gateway</html>" } });
    const e = await providerError(() => created());
    expect(e).toMatchObject({ kind: "http", httpStatus: 502, providerMessage: "<html>Bad Gateway</html>" });
  });

  test("a non-JSON 200 → malformed", async () => {
    fake.enqueue({ create: { status: 200, text: "<html>OK</html>" } });
    expect(await providerError(() => created())).toMatchObject({ kind: "malformed", httpStatus: 200 });
  });

  test("truncated JSON → malformed", async () => {
    fake.enqueue({
      create: { status: 200, text: '{"status":"success","predictionID":"ab', contentType: "application/json" },
    });
    expect((await providerError(() => created())).kind).toBe("malformed");
  });

  test("an empty 200 → malformed", async () => {
    fake.enqueue({ create: { status: 200, text: "" } });
    expect((await providerError(() => created())).kind).toBe("malformed");
  });

  test("a server that never answers → timeout after timeoutMs", async () => {
    fake.enqueue({ create: "hang" });
    const e = await providerError(() => created(provider({ timeoutMs: 100 })));
    expect(e.kind).toBe("timeout");
    expect(e.message).toContain("100 ms");
  });

  test("a server that answers later than timeoutMs → timeout", async () => {
    fake.enqueue({ create: { delayMs: 1000, reply: { status: 200, json: { predictionID: "late" } } } });
    expect((await providerError(() => created(provider({ timeoutMs: 100 })))).kind).toBe("timeout");
  });

  test("a server that sends headers and then stalls the body → timeout", async () => {
    // a raw socket-level stall: headers flushed, body never finished
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"status":"suc');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const e = await providerError(() => created(provider({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 150 })));
      expect(e.kind).toBe("timeout");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test("a redirect to another host is not followed and the key never reaches it; same-origin redirects are", async () => {
    const { createServer } = await import("node:http");
    const elsewhereSaw: Array<Record<string, unknown>> = [];
    const elsewhere = createServer((req, res) => {
      elsewhereSaw.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" }).end('{"predictionID":"stolen"}');
    });
    await new Promise<void>((r) => elsewhere.listen(0, "127.0.0.1", r));
    const elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}`;
    const redirector = createServer((req, res) => {
      if (req.method === "POST") res.writeHead(307, { location: `${elsewhereUrl}/v1/prediction` }).end();
      else if (req.url === "/v1/prediction/p1") res.writeHead(302, { location: "/v1/prediction/p1-moved" }).end();
      else
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ id: "p1", status: "success", output: "https://cdn.example.com/a.png" }));
    });
    await new Promise<void>((r) => redirector.listen(0, "127.0.0.1", r));
    const p = provider({ baseUrl: `http://127.0.0.1:${(redirector.address() as { port: number }).port}` });
    try {
      const e = await providerError(() => created(p));
      expect(e.message).toContain("not followed");
      expect(elsewhereSaw).toEqual([]);
      expect((await p.get("p1")).status).toBe("succeeded");
    } finally {
      redirector.close();
      elsewhere.close();
    }
  });

  test("nothing listening → network", async () => {
    const { createServer } = await import("node:net");
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const e = await providerError(() => created(provider({ baseUrl: `http://127.0.0.1:${port}` })));
    expect(e.kind).toBe("network");
  });

  test("an injected fetch is used", async () => {
    const seen: string[] = [];
    const p = createEachlabsProvider({
      apiKey: "k",
      baseUrl: "https://eachlabs.invalid",
      timeoutMs: 1000,
      fetch: (async (input: RequestInfo | URL) => {
        seen.push(String(input));
        return new Response(JSON.stringify({ predictionID: "from-injected" }), { status: 200 });
      }) as typeof fetch,
    });
    expect((await p.create({ slug: "x", input: {} })).id).toBe("from-injected");
    expect(seen).toEqual(["https://eachlabs.invalid/v1/prediction"]);
  });
});

describe("get", () => {
  test("polls with both auth headers; processing, then succeeded with the images", async () => {
    const p = provider();
    const id = await created(p);

    const first = await p.get(id);
    expect(first).toMatchObject({ id, status: "processing", output: null, error: null });
    const second = await p.get(id);
    expect(second).toMatchObject({
      id,
      status: "succeeded",
      output: [fake.imageUrl(id, 0), fake.imageUrl(id, 1)],
      error: null,
    });
    expect(second.raw).toMatchObject({ id, status: "success", metrics: expect.any(Object) });

    const gets = fake.callsFor(id).filter((c) => c.op === "get");
    expect(gets.map((c) => [c.method, c.path])).toEqual([
      ["GET", `/v1/prediction/${id}`],
      ["GET", `/v1/prediction/${id}`],
    ]);
    for (const c of gets) {
      expect(c.headers["x-api-key"]).toBe(FAKE_EACHLABS_KEY);
      expect(c.headers.authorization).toBe(`Bearer ${FAKE_EACHLABS_KEY}`);
    }
    expect(fake.getsFor(id)).toBe(2);
  });

  test("succeeds after N polls, through every pending spelling", async () => {
    fake.enqueue({ pendingPolls: 4, pendingStatuses: ["created", "starting", "queued", null] });
    const p = provider();
    const id = await created(p);
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) seen.push((await p.get(id)).status);
    expect(seen).toEqual(["processing", "processing", "processing", "processing", "succeeded"]);
  });

  test.each(["string", "strings", "object", "objects"] as const)("output shape %s is normalised", async (shape) => {
    const urls = ["https://cdn.example.com/1.png", "https://cdn.example.com/2.png"];
    fake.enqueue({ pendingPolls: 0, final: succeed(outputShape(shape, urls)) });
    const p = provider();
    const result = await p.get(await created(p));
    expect(result.status).toBe("succeeded");
    expect(result.output).toEqual(shape === "string" || shape === "object" ? [urls[0] as string] : urls);
  });

  test("success without images → failed empty_output", async () => {
    fake.enqueue({ pendingPolls: 0, final: succeed([]) });
    const p = provider();
    expect(await p.get(await created(p))).toMatchObject({
      status: "failed",
      output: null,
      error: { code: "empty_output" },
    });
  });

  test.each(["error", "failed"])(
    "status %s with {error_code, error_message} → failed with that error",
    async (status) => {
      fake.enqueue({ pendingPolls: 0, final: fail("PROVIDER_REJECTED", "Prompt flagged by safety filter", status) });
      const p = provider();
      expect(await p.get(await created(p))).toMatchObject({
        status: "failed",
        output: null,
        error: { code: "provider_rejected", message: "Prompt flagged by safety filter" },
      });
    },
  );

  test("fails later: processing, then an error pushed by the test", async () => {
    fake.enqueue({ pendingPolls: Number.POSITIVE_INFINITY });
    const p = provider();
    const id = await created(p);
    expect((await p.get(id)).status).toBe("processing");
    expect((await p.get(id)).status).toBe("processing");
    fake.finish(id, { status: "error", output: "CUDA out of memory" });
    expect(await p.get(id)).toMatchObject({
      status: "failed",
      error: { code: "provider_failed", message: "CUDA out of memory" },
    });
  });

  test("a failure described only in logs", async () => {
    fake.enqueue({
      pendingPolls: 0,
      final: { status: "error", output: null, logs: "Traceback…\nValueError: bad size" },
    });
    const p = provider();
    expect((await p.get(await created(p))).error?.message).toBe("Traceback… ValueError: bad size");
  });

  test.each(["cancelled", "canceled"])("status %s → canceled", async (status) => {
    fake.enqueue({ pendingPolls: 0, final: { status } });
    const p = provider();
    expect(await p.get(await created(p))).toMatchObject({ status: "canceled", output: null, error: null });
  });

  test("an unknown status stays processing", async () => {
    fake.enqueue({ pendingPolls: 0, final: { status: "warming_up" } });
    const p = provider();
    expect((await p.get(await created(p))).status).toBe("processing");
  });

  test("unknown id → not_found with the provider's message", async () => {
    const e = await providerError(() => provider().get("no-such-prediction"));
    expect(e).toMatchObject({ kind: "not_found", httpStatus: 404, providerMessage: "Prediction not found" });
  });

  test("ids are URL-encoded into the path", async () => {
    await providerError(() => provider().get("a/b?c"));
    expect(fake.calls[0]?.path).toBe("/v1/prediction/a%2Fb%3Fc");
    expect(fake.calls[0]?.predictionId).toBe("a/b?c");
  });

  test.each([401, 429, 500])("HTTP %p → http", async (status) => {
    fake.enqueue({ get: errorReply(status) });
    const p = provider();
    const e = await providerError(async () => p.get(await created(p)));
    expect(e).toMatchObject({ kind: "http", httpStatus: status, providerMessage: ERROR_BODIES[status]?.error });
  });

  test("non-JSON 200 → malformed", async () => {
    fake.enqueue({ get: { status: 200, text: "<html>maintenance</html>" } });
    const p = provider();
    expect((await providerError(async () => p.get(await created(p)))).kind).toBe("malformed");
  });

  test("a JSON array or string instead of an object → malformed", async () => {
    const p = provider();
    fake.enqueue({ get: { status: 200, json: ["success"] } });
    expect((await providerError(async () => p.get(await created(p)))).kind).toBe("malformed");
    fake.enqueue({ get: { status: 200, json: "success" } });
    expect((await providerError(async () => p.get(await created(p)))).kind).toBe("malformed");
  });

  test("hanging get → timeout", async () => {
    fake.enqueue({ get: "hang" });
    const p = provider({ timeoutMs: 100 });
    const e = await providerError(async () => p.get(await created(provider())));
    expect(e.kind).toBe("timeout");
  });

  test("a trailing slash on the get path is accepted by the fake", async () => {
    const id = await created();
    const res = await fetch(`${fake.url}/v1/prediction/${id}/`, { headers: { "X-API-Key": FAKE_EACHLABS_KEY } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(id);
  });
});

describe("cancel", () => {
  test("POSTs to /cancel with both auth headers; the prediction then reads canceled", async () => {
    fake.enqueue({ pendingPolls: Number.POSITIVE_INFINITY });
    const p = provider();
    const id = await created(p);
    await p.cancel(id);
    const call = fake.callsFor(id).find((c) => c.op === "cancel");
    expect(call).toMatchObject({ method: "POST", path: `/v1/prediction/${id}/cancel` });
    expect(call?.headers["x-api-key"]).toBe(FAKE_EACHLABS_KEY);
    expect(call?.headers.authorization).toBe(`Bearer ${FAKE_EACHLABS_KEY}`);
    expect((await p.get(id)).status).toBe("canceled");
  });

  test("an empty 200 body is fine", async () => {
    fake.enqueue({ cancel: { status: 200, text: "" } });
    const p = provider();
    await p.cancel(await created(p));
  });

  test("unknown id → not_found", async () => {
    expect((await providerError(() => provider().cancel("nope"))).kind).toBe("not_found");
  });

  test("HTTP 500 → http; hang → timeout", async () => {
    const p = provider({ timeoutMs: 100 });
    fake.enqueue({ cancel: errorReply(500) }, { cancel: "hang" });
    const a = await created(p);
    const b = await created(p);
    expect((await providerError(() => p.cancel(a))).kind).toBe("http");
    expect((await providerError(() => p.cancel(b))).kind).toBe("timeout");
  });
});

test("ProviderError keeps its kind, status, provider message and raw body", () => {
  const e = new ProviderError("x", "http", 500, "m", { a: 1 });
  expect(e).toBeInstanceOf(Error);
  expect(e).toMatchObject({ name: "ProviderError", message: "x", kind: "http", httpStatus: 500, providerMessage: "m" });
  expect(e.raw).toEqual({ a: 1 });
});
