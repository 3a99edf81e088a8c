import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { PredictionSchema } from "../../src/schemas/predictions";
import { WebhookAckSchema } from "../../src/schemas/webhooks";
import { eachlabsCallbackToken } from "../../src/services/providers/eachlabs-callback";
import {
  type CallbackPlan,
  FAKE_EACHLABS_KEY,
  type FakeEachlabs,
  fail,
  imageBytes,
  startFakeEachlabs,
  succeed,
} from "../fakes/eachlabs";
import { createTestApp, type TestApp } from "../helpers/app";
import { FakeClock } from "../helpers/clock";
import { expectError, expectSchema } from "../helpers/schemas";
import { body, ledgerOf, refundRows, rowOf } from "../predictions/helpers";

/**
 * Eachlabs completion callbacks, end to end over real HTTP: the fake Eachlabs POSTs the `webhook_url` it was
 * given to this app listening on 127.0.0.1 (PUBLIC_URL). The reconciler is off and no client polls (unless a
 * test says so), so only the callback can make a prediction final. Time is a FakeClock: the callback handler
 * waits out the one-sync-per-second interval on it, and `deliverCallbacks` advances it while callbacks run.
 */

let eachlabs: FakeEachlabs;
let t: TestApp;
let server: ReturnType<typeof Bun.serve>;
let publicUrl: string;
const clock = new FakeClock(new Date("2026-11-30T12:00:00Z"));

beforeAll(async () => {
  eachlabs = await startFakeEachlabs();
  let app: TestApp["app"] | undefined;
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) =>
      app ? app.fetch(req, { requestIP: (r: Request) => srv.requestIP(r) }) : new Response(null, { status: 503 }),
  });
  publicUrl = `http://127.0.0.1:${server.port}`;
  t = await createTestApp({
    env: {
      SIGNUP_CREDITS: "20",
      EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
      EACHLABS_BASE_URL: eachlabs.url,
      EACHLABS_TIMEOUT_MS: "5000",
      PUBLIC_URL: publicUrl,
      RECONCILER_INTERVAL_MS: "0",
    },
    overrides: { clock },
  });
  app = t.app;
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
  server.stop(true);
  await eachlabs.close();
});
beforeEach(() => eachlabs.reset());

/** A processing prediction whose Eachlabs side stays pending until `eachlabs.finish`, with a callback plan. */
async function start(plan: CallbackPlan | undefined = {}, over: Record<string, unknown> = {}) {
  eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY, callback: plan });
  const s = await t.signUp();
  const res = await t.json("POST", "/api/predictions", { headers: s.headers, body: body(over) });
  expect(res.status).toBe(201);
  const p = expectSchema(PredictionSchema, res.body);
  expect(p.status).toBe("processing");
  const row = await rowOf(t, p.id);
  return { s, id: p.id, providerId: row.providerPredictionId ?? "" };
}

/** Lets the fake's callbacks run to the end, moving the fake clock whenever our handler waits on it. */
async function deliverCallbacks(providerId: string) {
  let settled = false;
  const done = eachlabs.callbacksSettled(providerId).then(() => {
    settled = true;
  });
  const deadline = performance.now() + 20_000;
  while (!settled) {
    if (performance.now() > deadline) throw new Error("callbacks did not settle");
    if (clock.waiting > 0) clock.advance(250);
    await new Promise((r) => setTimeout(r, 2));
  }
  await done;
  return eachlabs.callbacks(providerId);
}

const callbackPath = (id: string, token = eachlabsCallbackToken(t.config.BETTER_AUTH_SECRET, id)) =>
  `/api/webhooks/eachlabs?prediction=${encodeURIComponent(id)}&token=${encodeURIComponent(token)}`;

const post = (path: string, payload: unknown = { status: "success" }) => t.json("POST", path, { body: payload });

describe("create sends Eachlabs a webhook_url", () => {
  test("{PUBLIC_URL}/api/webhooks/eachlabs?prediction={our id}&token={HMAC of our id}", async () => {
    const { id } = await start();
    const [create] = eachlabs.creates();
    const url = new URL(String((create?.body as { webhook_url?: unknown } | undefined)?.webhook_url));
    expect(url.origin + url.pathname).toBe(`${publicUrl}/api/webhooks/eachlabs`);
    expect(url.searchParams.get("prediction")).toBe(id);
    const token = url.searchParams.get("token") ?? "";
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token).toBe(eachlabsCallbackToken(t.config.BETTER_AUTH_SECRET, id));
    expect([...url.searchParams.keys()].sort()).toEqual(["prediction", "token"]);
  });

  test("with EACHLABS_CALLBACKS=false no webhook_url is sent", async () => {
    const off = await createTestApp({
      env: {
        EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
        EACHLABS_BASE_URL: eachlabs.url,
        PUBLIC_URL: publicUrl,
        EACHLABS_CALLBACKS: "false",
      },
    });
    try {
      const s = await off.signUp();
      const res = await off.json("POST", "/api/predictions", { headers: s.headers, body: body() });
      expect(res.status).toBe(201);
      const [create] = eachlabs.creates();
      expect(create?.body).toBeObject();
      expect(create?.body).not.toHaveProperty("webhook_url");
    } finally {
      await off.close();
    }
  });
});

describe("a prediction becomes final through the callback alone (no poll, no reconciler)", () => {
  test("failed at Eachlabs → failed and refunded once, though Eachlabs calls back twice", async () => {
    const { id, providerId } = await start({ times: 2 });
    eachlabs.finish(providerId, fail());
    const deliveries = await deliverCallbacks(providerId);
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    const row = await rowOf(t, id);
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("generation_failed");
    expect(await refundRows(t, id)).toHaveLength(1);
    const [[, charged] = [], ...rest] = await ledgerOf(t, id);
    expect(rest).toEqual([["refund", -(charged ?? 0)]]);
  });

  test("succeeded at Eachlabs → succeeded, images copied into our storage", async () => {
    const { id, providerId } = await start({ times: 2 }, { numOutputs: 2 });
    eachlabs.finish(providerId, succeed());
    const deliveries = await deliverCallbacks(providerId);
    expect(deliveries.every((d) => d.status === 200)).toBe(true);
    expectSchema(WebhookAckSchema, { received: true });
    const row = await rowOf(t, id);
    expect(row.status).toBe("succeeded");
    expect(row.providerOutput).toEqual([eachlabs.imageUrl(providerId, 0), eachlabs.imageUrl(providerId, 1)]);
    expect(row.output).toHaveLength(2);
    for (const [n, url] of (row.output ?? []).entries()) {
      expect(url.startsWith(`${publicUrl}/files/`)).toBe(true);
      const res = await t.fetch(new URL(url).pathname);
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(
        imageBytes(new URL(eachlabs.imageUrl(providerId, n)).pathname),
      );
    }
    expect(await refundRows(t, id)).toHaveLength(0);
  });

  test("a callback ahead of Eachlabs' own GET (the GET it provokes still says pending) still ends final", async () => {
    const { id, providerId } = await start({ times: 1, race: true });
    eachlabs.finish(providerId, fail());
    const deliveries = await deliverCallbacks(providerId);
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    // the first GET answered pending; the handler read again after the sync interval
    expect(eachlabs.getsFor(providerId)).toBeGreaterThanOrEqual(2);
    expect((await rowOf(t, id)).status).toBe("failed");
    expect(await refundRows(t, id)).toHaveLength(1);
  });

  test("a callback right after a client's poll (inside the one-sync-per-second interval) is not lost", async () => {
    const { s, id, providerId } = await start({ times: 1 });
    clock.advance(1000);
    const polled = await t.json("GET", `/api/predictions/${id}`, { headers: s.headers });
    expect(polled.body.status).toBe("processing");
    const getsAfterPoll = eachlabs.getsFor(providerId);
    // Eachlabs finishes and calls back at once: the last sync was 0 ms ago, so this callback may not sync now.
    eachlabs.finish(providerId, succeed());
    await deliverCallbacks(providerId);
    expect(eachlabs.getsFor(providerId)).toBe(getsAfterPoll + 1);
    expect((await rowOf(t, id)).status).toBe("succeeded");
  });

  test("two callbacks at the same moment: one provider GET, one refund", async () => {
    const { id, providerId } = await start({ times: 2, concurrent: true });
    clock.advance(1000);
    eachlabs.finish(providerId, fail());
    const deliveries = await deliverCallbacks(providerId);
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    expect(eachlabs.getsFor(providerId)).toBe(1);
    expect(await refundRows(t, id)).toHaveLength(1);
  });
});

describe("the callback's body is never believed", () => {
  test("a body claiming success with other images, for a failed prediction: failed, refunded, the images never fetched", async () => {
    const lie = () => ({
      id: "whatever",
      status: "success",
      output: [eachlabs.imageUrl("planted", 0)],
    });
    const { id, providerId } = await start({ times: 2, body: lie });
    eachlabs.finish(providerId, fail());
    await deliverCallbacks(providerId);
    const row = await rowOf(t, id);
    expect(row.status).toBe("failed");
    expect(row.output).toBeNull();
    expect(eachlabs.fileGets(eachlabs.imageUrl("planted", 0))).toBe(0);
    expect(await refundRows(t, id)).toHaveLength(1);
  });

  test("a body claiming failure for a prediction still pending at Eachlabs changes nothing", async () => {
    const { id, providerId } = await start();
    clock.advance(1000);
    const before = await rowOf(t, id);
    const pending = post(callbackPath(id), { status: "error", output: { error_code: "X", error_message: "lie" } });
    // the handler reads Eachlabs (still pending) and keeps re-reading for a few seconds of the fake clock
    while (
      (await Promise.race([pending.then(() => true), new Promise((r) => setTimeout(() => r(false), 2))])) === false
    )
      if (clock.waiting > 0) clock.advance(250);
    expect((await pending).status).toBe(200);
    const after = await rowOf(t, id);
    expect(after.status).toBe("processing");
    expect(after.creditsRefunded).toBe(before.creditsRefunded);
    expect(await refundRows(t, id)).toHaveLength(0);
    expect(eachlabs.getsFor(providerId)).toBeGreaterThanOrEqual(1);
  });
});

describe("the token", () => {
  test("missing, forged, or minted for another prediction: 403, no provider call, nothing changed", async () => {
    const { id, providerId } = await start();
    const other = await start();
    clock.advance(5000);
    const before = await rowOf(t, id);
    const forged = [
      `/api/webhooks/eachlabs?prediction=${id}`,
      `/api/webhooks/eachlabs?prediction=${id}&token=`,
      callbackPath(id, "A".repeat(43)),
      callbackPath(id, eachlabsCallbackToken(t.config.BETTER_AUTH_SECRET, id).slice(0, 42)),
      callbackPath(id, eachlabsCallbackToken("another-deployment-secret-of-32-chars!!", id)),
      callbackPath(id, eachlabsCallbackToken(t.config.BETTER_AUTH_SECRET, other.id)),
      `/api/webhooks/eachlabs?token=${eachlabsCallbackToken(t.config.BETTER_AUTH_SECRET, id)}`,
      callbackPath("not-a-uuid", eachlabsCallbackToken(t.config.BETTER_AUTH_SECRET, "not-a-uuid")),
    ];
    for (const path of forged) {
      const res = await post(path);
      expectError(res, 403, "forbidden");
    }
    expect(eachlabs.getsFor(providerId)).toBe(0);
    expect(await rowOf(t, id)).toEqual(before);
  });

  test("a valid token for a prediction that does not exist: 404", async () => {
    expectError(await post(callbackPath(crypto.randomUUID())), 404, "not_found");
  });

  test("a callback for a prediction already final: 200, no provider call", async () => {
    const { id, providerId } = await start({ times: 1 });
    eachlabs.finish(providerId, fail());
    await deliverCallbacks(providerId);
    const gets = eachlabs.getsFor(providerId);
    const res = await post(callbackPath(id));
    expect(res.status).toBe(200);
    expectSchema(WebhookAckSchema, res.body);
    expect(eachlabs.getsFor(providerId)).toBe(gets);
    expect(await refundRows(t, id)).toHaveLength(1);
  });

  test("the body is not read: with a valid token, a body that is not JSON is accepted like any other", async () => {
    const { id, providerId } = await start({ times: 1 });
    eachlabs.finish(providerId, fail());
    await deliverCallbacks(providerId);
    const res = await t.fetch(callbackPath(id), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(200);
    expectSchema(WebhookAckSchema, await res.json());
  });
});

describe("bounded callbacks", () => {
  test("a duplicate callback while one is refreshing the prediction is answered at once", async () => {
    const { id, providerId } = await start();
    clock.advance(1000);
    // The first callback reads Eachlabs (still pending) and then waits on the clock to read again.
    const first = post(callbackPath(id));
    const deadline = performance.now() + 5000;
    while (clock.waiting === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(clock.waiting).toBeGreaterThan(0);
    const getsBefore = eachlabs.getsFor(providerId);
    // The duplicates answer without the clock moving at all: they do not wait for the first one's settle time.
    let answered = 0;
    const duplicates = Array.from({ length: 5 }, () =>
      post(callbackPath(id)).then((res) => {
        answered++;
        return res;
      }),
    );
    while (answered < 5 && performance.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 2));
    expect(answered).toBe(5);
    for (const res of await Promise.all(duplicates)) {
      expect(res.status).toBe(200);
      expectSchema(WebhookAckSchema, res.body);
    }
    expect(eachlabs.getsFor(providerId)).toBe(getsBefore);
    // The first one still settles on its own.
    let done = false;
    void first.then(() => {
      done = true;
    });
    while (!done) {
      if (clock.waiting > 0) clock.advance(250);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect((await first).status).toBe(200);
  });

  test("callbacks are rate limited per client address (RATE_LIMIT_CALLBACK_PER_MIN), with RateLimit headers", async () => {
    const limited = await createTestApp({
      database: t.database,
      env: { RATE_LIMIT_CALLBACK_PER_MIN: "3" },
      overrides: { clock },
    });
    try {
      const id = crypto.randomUUID();
      const path = `/api/webhooks/eachlabs?prediction=${id}&token=forged`;
      for (let i = 0; i < 3; i++) {
        const res = await limited.json("POST", path, { body: {} });
        expectError(res, 403, "forbidden");
        expect(res.headers.get("ratelimit-limit")).toBe("3");
      }
      const refused = await limited.json("POST", path, { body: {} });
      expectError(refused, 429, "rate_limited");
      expect(refused.headers.get("retry-after")).toBeTruthy();
    } finally {
      await limited.close();
    }
  });
});
