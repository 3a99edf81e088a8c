import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectPostgres, type DatabaseHandle } from "../../src/db";
import { AssetSchema } from "../../src/schemas/assets";
import { PredictionSchema } from "../../src/schemas/predictions";
import { createTestApp, type TestApp } from "../helpers/app";
import { FakeClock } from "../helpers/clock";
import { createTestDatabase } from "../helpers/db";
import { expectError, expectSchema } from "../helpers/schemas";
import { readSse } from "../helpers/sse";

/**
 * Streams of predictions and assets (Server-Sent Events) across two app instances on one database: a stream on
 * `a`, the change made through `b`, heard through the database's change signal (LISTEN/NOTIFY on PostgreSQL, its
 * own listen on PGlite). On PostgreSQL `b` has a pool and a listening connection of its own, as another process.
 */

let database: DatabaseHandle & { url?: string };
let second: DatabaseHandle | undefined;
let a: TestApp;
let b: TestApp;
type Session = Awaited<ReturnType<TestApp["signUp"]>>;
let alice: Session;

beforeAll(async () => {
  database = await createTestDatabase();
  second = database.url ? connectPostgres({ url: database.url, poolMax: 5 }) : undefined;
  // `a` never finishes a sandbox prediction by itself (long delay) and runs no deliverables; `b` does both.
  a = await createTestApp({
    database,
    env: { SANDBOX_DELAY_MS: "600000", ASSET_WORKERS: "0", ASSET_POLL_INTERVAL_MS: "0", SIGNUP_CREDITS: "50" },
  });
  b = await createTestApp({
    database: second ?? database,
    env: { SANDBOX_DELAY_MS: "0", ASSET_WORKERS: "1", ASSET_POLL_INTERVAL_MS: "0", SIGNUP_CREDITS: "50" },
  });
  alice = await a.signUp();
  await a.deps.changes.ready();
  await b.deps.changes.ready();
}, 30_000);

afterAll(async () => {
  await a.close();
  await b.close();
  await second?.close();
  await database.close();
});

async function processingPrediction(app: TestApp, s: Session) {
  const res = await app.json("POST", "/api/predictions", { headers: s.headers, body: { brandName: "Acme" } });
  expect(res.status).toBe(201);
  const p = expectSchema(PredictionSchema, res.body);
  expect(p.status).toBe("processing");
  return p;
}

const open = async (app: TestApp, path: string, headers: Record<string, string>) =>
  readSse(await app.fetch(path, { headers }));

const dataOf = (e: { data?: string }) => JSON.parse(e.data ?? "null");

describe("GET /api/predictions/{id}/events", () => {
  test("status at once, then done within 1 s of a cancel made on the other instance; ids are versions", async () => {
    const p = await processingPrediction(a, alice);
    expect(p.urls.stream).toBe(`/api/predictions/${p.id}/events`);
    const s = await open(a, p.urls.stream, alice.headers);
    expect(s.status).toBe(200);
    expect(s.headers.get("content-type")).toContain("text/event-stream");
    expect(s.headers.get("cache-control")).toBe("no-store");
    const first = await s.nextEvent();
    expect(first.event).toBe("status");
    expect(expectSchema(PredictionSchema, dataOf(first))).toEqual(p);
    const before = performance.now();
    const cancel = await b.json("POST", p.urls.cancel, { headers: alice.headers });
    expect(cancel.status).toBe(200);
    const committed = performance.now();
    const done = await s.nextEvent(2000);
    expect(done.event).toBe("done");
    expect(done.at - committed).toBeLessThan(1000);
    expect(done.at - before).toBeLessThan(1500);
    const final = expectSchema(PredictionSchema, dataOf(done));
    expect(final.status).toBe("canceled");
    expect(final).toEqual(cancel.body);
    expect(Number(done.id)).toBeGreaterThan(Number(first.id));
    await s.ended;
  });

  test("a final prediction: one done, whatever Last-Event-ID says", async () => {
    const p = await processingPrediction(a, alice);
    await a.json("POST", p.urls.cancel, { headers: alice.headers });
    for (const lastEventId of [undefined, "1", "999"]) {
      const s = await open(a, p.urls.stream, {
        ...alice.headers,
        ...(lastEventId ? { "last-event-id": lastEventId } : {}),
      });
      const e = await s.nextEvent();
      expect(e.event).toBe("done");
      expect(dataOf(e).status).toBe("canceled");
      await s.ended;
      expect(s.events.filter((x) => x.event).length).toBe(1);
    }
  });

  test("resume with Last-Event-ID: the current state only if it is newer", async () => {
    const p = await processingPrediction(a, alice);
    const s1 = await open(a, p.urls.stream, alice.headers);
    const first = await s1.nextEvent();
    await s1.close();
    // Already seen: nothing until the next change.
    const s2 = await open(a, p.urls.stream, { ...alice.headers, "last-event-id": first.id ?? "" });
    await Bun.sleep(300);
    expect(s2.events.filter((e) => e.event)).toEqual([]);
    await b.json("POST", p.urls.cancel, { headers: alice.headers });
    const done = await s2.nextEvent(2000);
    expect(done.event).toBe("done");
    expect(Number(done.id)).toBeGreaterThan(Number(first.id));
    // Older than the current version: the state is sent.
    const q = await processingPrediction(a, alice);
    const s3 = await open(a, q.urls.stream, { ...alice.headers, "last-event-id": "0" });
    expect((await s3.nextEvent()).event).toBe("status");
    await s3.close();
  });

  test("401 without credentials, 403 for another user's, 404 for an unknown id, as JSON envelopes", async () => {
    const p = await processingPrediction(a, alice);
    const bob = await a.signUp();
    expectError(await a.json("GET", p.urls.stream), 401, "unauthorized");
    expectError(await a.json("GET", p.urls.stream, { headers: bob.headers }), 403, "forbidden");
    for (const path of [`/api/predictions/${crypto.randomUUID()}/events`, `/api/assets/${crypto.randomUUID()}/events`])
      expectError(await a.json("GET", path, { headers: bob.headers }), 404, "not_found");
  });

  test("cookie and API-key callers stream too", async () => {
    const p = await processingPrediction(a, alice);
    const byCookie = await open(a, p.urls.stream, { cookie: alice.cookie });
    expect((await byCookie.nextEvent()).event).toBe("status");
    await byCookie.close();
    const key = await a.json("POST", "/api/auth/api-key/create", { headers: alice.headers, body: { name: "sse" } });
    expect(key.status).toBe(200);
    const byKey = await open(a, p.urls.stream, { "x-api-key": key.body.key });
    expect((await byKey.nextEvent()).event).toBe("status");
    await byKey.close();
  });
});

describe("GET /api/assets/{id}/events", () => {
  test("queued, processing on the other instance, then done with the files", async () => {
    const made = await b.json("POST", "/api/predictions", { headers: alice.headers, body: { brandName: "Acme" } });
    const p = await b.json("GET", made.body.urls.get, { headers: { ...alice.headers, prefer: "wait=10" } });
    expect(p.body.status).toBe("succeeded");
    // Ordered on `a`, which runs no deliverables: it stays queued until `b` claims it.
    const ordered = await a.json("POST", `/api/predictions/${p.body.id}/assets`, {
      headers: alice.headers,
      body: { kind: "transparent" },
    });
    expect(ordered.status).toBe(201);
    const asset = expectSchema(AssetSchema, ordered.body);
    const s = await open(a, asset.urls.stream, alice.headers);
    const first = await s.nextEvent();
    expect([first.event, dataOf(first).status]).toEqual(["status", "queued"]);
    b.deps.assetRunner.kick();
    const seen = [first];
    for (;;) {
      const e = await s.nextEvent(10_000);
      seen.push(e);
      if (e.event === "done") break;
    }
    const final = expectSchema(AssetSchema, dataOf(seen.at(-1) ?? {}));
    expect(final.status).toBe("succeeded");
    expect(final.files.map((f) => f.name)).toEqual(["logo.png"]);
    const ids = seen.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    await s.ended;
  });
});

describe("Prefer: wait wakes on the change signal", () => {
  test("a prediction's wait ends when another instance cancels it, with this instance's clock standing still", async () => {
    const clock = new FakeClock();
    const c = await createTestApp({ database, env: { SANDBOX_DELAY_MS: "600000" }, overrides: { clock } });
    try {
      const s = await c.signUp();
      const p = await processingPrediction(c, s);
      const started = performance.now();
      const waiting = c.json("GET", p.urls.get, { headers: { ...s.headers, prefer: "wait=30" } });
      await Bun.sleep(100);
      await b.json("POST", p.urls.cancel, { headers: s.headers });
      const res = await waiting;
      expect(res.body.status).toBe("canceled");
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      await c.close();
    }
  });

  test("an asset's wait ends when another instance finishes it, with this instance's clock standing still", async () => {
    const clock = new FakeClock();
    const c = await createTestApp({
      database,
      env: { ASSET_WORKERS: "0", ASSET_POLL_INTERVAL_MS: "0", SANDBOX_DELAY_MS: "0" },
      overrides: { clock },
    });
    try {
      const made = await b.json("POST", "/api/predictions", { headers: alice.headers, body: { brandName: "Acme" } });
      const p = await b.json("GET", made.body.urls.get, { headers: { ...alice.headers, prefer: "wait=10" } });
      const ordered = await c.json("POST", `/api/predictions/${p.body.id}/assets`, {
        headers: alice.headers,
        body: { kind: "transparent" },
      });
      const waiting = c.json("GET", ordered.body.urls.get, { headers: { ...alice.headers, prefer: "wait=30" } });
      await Bun.sleep(100);
      b.deps.assetRunner.kick();
      const res = await waiting;
      expect(res.body.status).toBe("succeeded");
    } finally {
      await c.close();
    }
  });
});

describe("limits and time", () => {
  test("STREAMS_PER_USER: one more is 429 in our envelope; closing one frees its slot", async () => {
    const c = await createTestApp({ database, env: { STREAMS_PER_USER: "2", SANDBOX_DELAY_MS: "600000" } });
    try {
      const s = await c.signUp();
      const p = await processingPrediction(c, s);
      const one = await open(c, p.urls.stream, s.headers);
      const two = await open(c, p.urls.stream, s.headers);
      await one.nextEvent();
      await two.nextEvent();
      const refused = await c.json("GET", p.urls.stream, { headers: s.headers });
      expectError(refused, 429, "rate_limited");
      // Another user is not concerned.
      const other = await c.signUp();
      const q = await processingPrediction(c, other);
      const theirs = await open(c, q.urls.stream, other.headers);
      expect((await theirs.nextEvent()).event).toBe("status");
      await theirs.close();
      await one.close();
      await Bun.sleep(20);
      const three = await open(c, p.urls.stream, s.headers);
      expect((await three.nextEvent()).event).toBe("status");
      await Promise.all([two.close(), three.close()]);
    } finally {
      await c.close();
    }
  });

  test("a comment at least every 15 s, and STREAM_MAX_MS ends the stream with a retry hint (fake clock)", async () => {
    const clock = new FakeClock();
    const c = await createTestApp({
      database,
      env: { STREAM_MAX_MS: "40000", SANDBOX_DELAY_MS: "600000" },
      overrides: { clock },
    });
    try {
      const s = await c.signUp();
      const p = await processingPrediction(c, s);
      const stream = await open(c, p.urls.stream, s.headers);
      expect((await stream.next()).event).toBe("status");
      await Bun.sleep(50);
      clock.advance(15_000);
      expect((await stream.next()).comment).toBe("ping");
      await Bun.sleep(50);
      clock.advance(15_000);
      expect((await stream.next()).comment).toBe("ping");
      await Bun.sleep(50);
      clock.advance(10_000);
      const last = await stream.next();
      expect(last.retry).toBeGreaterThan(0);
      await stream.ended;
      expect(c.deps.streams.count()).toBe(0);
    } finally {
      await c.close();
    }
  });
});
