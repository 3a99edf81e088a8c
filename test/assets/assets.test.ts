import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { asset, creditTransaction, idempotencyKey, prediction } from "../../src/db/schema";
import { AssetKindListSchema, AssetListSchema, AssetSchema } from "../../src/schemas/assets";
import { PredictionSchema } from "../../src/schemas/predictions";
import { DEFAULT_ASSET_CREDITS, DELIVERABLES } from "../../src/services/deliverables";
import { reconcileOnce } from "../../src/services/reconciler";
import { deliverDueWebhooks } from "../../src/services/webhooks/sender";
import { startWebhookReceiver } from "../fakes/webhook-receiver";
import { createTestApp, type TestApp } from "../helpers/app";
import { FakeClock } from "../helpers/clock";
import { expectError, expectSchema } from "../helpers/schemas";

/**
 * Deliverables end to end on the sandbox provider: a succeeded prediction's output (in our storage) → a paid asset
 * job → worker threads → stored files. Money is checked on the ledger after every test file (createTestApp).
 */

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SIGNUP_CREDITS: "20", SANDBOX_DELAY_MS: "0", ASSET_POLL_INTERVAL_MS: "0" } });
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
});

type Session = Awaited<ReturnType<TestApp["signUp"]>>;

async function succeededPrediction(app: TestApp, s: Session, numOutputs = 1) {
  const created = await app.json("POST", "/api/predictions", {
    headers: s.headers,
    body: { brandName: "Acme Coffee", colors: ["#1F2937", "#F59E0B"], numOutputs },
  });
  expect(created.status).toBe(201);
  const done = await app.json("GET", created.body.urls.get, { headers: { ...s.headers, prefer: "wait=10" } });
  const p = expectSchema(PredictionSchema, done.body);
  expect(p.status).toBe("succeeded");
  return p;
}

async function order(
  app: TestApp,
  s: Session,
  predictionId: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return app.json("POST", `/api/predictions/${predictionId}/assets`, { headers: { ...s.headers, ...headers }, body });
}

async function waitFinal(app: TestApp, s: Session, id: string) {
  const res = await app.json("GET", `/api/assets/${id}`, { headers: { ...s.headers, prefer: "wait=30" } });
  expect(res.status).toBe(200);
  return expectSchema(AssetSchema, res.body);
}

const balanceOf = async (app: TestApp, s: Session) =>
  (await app.json("GET", "/api/credits", { headers: s.headers })).body.balance as number;

async function ledgerRowsOf(app: TestApp, assetId: string) {
  return app.db
    .select({ type: creditTransaction.type, amount: creditTransaction.amount })
    .from(creditTransaction)
    .where(eq(creditTransaction.assetId, assetId))
    .orderBy(creditTransaction.createdAt);
}

describe("GET /api/assets/kinds", () => {
  test("lists every kind with its default price and files, public", async () => {
    const res = await t.json("GET", "/api/assets/kinds");
    expect(res.status).toBe(200);
    const body = expectSchema(AssetKindListSchema, res.body);
    expect(body.data.map((k) => [k.kind, k.credits])).toEqual(DELIVERABLES.map((d) => [d.kind, d.credits]));
    expect(Object.fromEntries(body.data.map((k) => [k.kind, k.credits]))).toMatchObject({
      vector: 1,
      transparent: 1,
      icons: 1,
      "brand-kit": 3,
    });
    expect(body.data.find((k) => k.kind === "brand-kit")?.files).toEqual(["brand-kit.zip"]);
    expect(body.data.find((k) => k.kind === "icons")?.files).toContain("favicon.ico");
  });

  test("prices follow ASSET_CREDITS", async () => {
    const priced = await createTestApp({ env: { ASSET_CREDITS: '{"brand-kit":5,"vector":0}' } });
    try {
      const body = expectSchema(AssetKindListSchema, (await priced.json("GET", "/api/assets/kinds")).body);
      expect(Object.fromEntries(body.data.map((k) => [k.kind, k.credits]))).toEqual({
        ...DEFAULT_ASSET_CREDITS,
        vector: 0,
        "brand-kit": 5,
      });
    } finally {
      await priced.close();
    }
  });
});

describe("POST /api/predictions/{id}/assets", () => {
  test("vector: 201 + Location, charged once as an `asset` row, succeeds with a sanitised logo.svg we serve", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const before = await balanceOf(t, s);
    const res = await order(t, s, p.id, { kind: "vector", options: { maxColors: 6 } });
    expect(res.status).toBe(201);
    const a = expectSchema(AssetSchema, res.body);
    expect(res.headers.get("location")).toBe(`/api/assets/${a.id}`);
    expect(a).toMatchObject({ kind: "vector", predictionId: p.id, outputIndex: 0, creditsCharged: 1, files: [] });
    expect(a.options).toEqual({ mode: "color", maxColors: 6, background: "drop" });
    expect(a.urls).toEqual({ get: `/api/assets/${a.id}`, stream: `/api/assets/${a.id}/events` });
    expect(await balanceOf(t, s)).toBe(before - 1);

    const done = await waitFinal(t, s, a.id);
    expect(done.status).toBe("succeeded");
    expect(done.completedAt).not.toBeNull();
    expect(done.files.map((f) => f.name)).toEqual(["logo.svg"]);
    const file = done.files[0];
    if (!file) throw new Error("no file");
    expect(file.contentType).toBe("image/svg+xml");
    const served = await t.fetch(new URL(file.url).pathname);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/svg+xml");
    expect(served.headers.get("content-security-policy")).toContain("sandbox");
    const svg = await served.text();
    expect(svg.length).toBe(file.bytes);
    expect(svg).toMatch(/<svg[^>]*viewBox="0 0 \d+ \d+"/);
    for (const banned of ["<script", "<image", "<foreignObject", "<style", " onload", "href="])
      expect(svg).not.toContain(banned);
    expect(await ledgerRowsOf(t, a.id)).toEqual([{ type: "asset", amount: -1 }]);
    expect(await balanceOf(t, s)).toBe(before - 1);

    // The prediction's list and the caller's list both show it.
    const forPrediction = expectSchema(
      AssetListSchema,
      (await t.json("GET", `/api/predictions/${p.id}/assets`, { headers: s.headers })).body,
    );
    expect(forPrediction.data.map((x) => x.id)).toEqual([a.id]);
    const mine = expectSchema(
      AssetListSchema,
      (await t.json("GET", "/api/assets?kind=vector&status=succeeded", { headers: s.headers })).body,
    );
    expect(mine.data.map((x) => x.id)).toContain(a.id);
    const none = expectSchema(
      AssetListSchema,
      (await t.json("GET", "/api/assets?kind=icons", { headers: s.headers })).body,
    );
    expect(none.data.map((x) => x.id)).not.toContain(a.id);
  });

  test("brand kit: one zip, 3 credits", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const res = await order(t, s, p.id, { kind: "brand-kit" });
    expect(res.status).toBe(201);
    const done = await waitFinal(t, s, res.body.id);
    expect(done.status).toBe("succeeded");
    expect(done.creditsCharged).toBe(3);
    expect(done.files.map((f) => [f.name, f.contentType])).toEqual([["brand-kit.zip", "application/zip"]]);
    const zip = await t.fetch(new URL(done.files[0]?.url ?? "").pathname);
    expect(zip.status).toBe(200);
    const bytes = new Uint8Array(await zip.arrayBuffer());
    expect([...bytes.slice(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);
    expect(await ledgerRowsOf(t, done.id)).toEqual([{ type: "asset", amount: -3 }]);
  });

  test("icons and transparent succeed with their files", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const icons = await waitFinal(t, s, (await order(t, s, p.id, { kind: "icons" })).body.id);
    expect(icons.status).toBe("succeeded");
    expect(icons.files.map((f) => f.name).sort()).toEqual(
      [
        "favicon.ico",
        "favicon.svg",
        "apple-touch-icon.png",
        "icon-192.png",
        "icon-512.png",
        "icon-maskable-512.png",
        "site.webmanifest",
        "head.html",
      ].sort(),
    );
    const head = icons.files.find((f) => f.name === "head.html");
    const served = await t.fetch(new URL(head?.url ?? "").pathname);
    expect(served.headers.get("content-security-policy")).toContain("sandbox");
    const transparent = await waitFinal(
      t,
      s,
      (await order(t, s, p.id, { kind: "transparent", options: { mode: "all" } })).body.id,
    );
    expect(transparent.status).toBe("succeeded");
    expect(transparent.files.map((f) => [f.name, f.contentType])).toEqual([["logo.png", "image/png"]]);
  });

  test("400 for bad bodies and an outputIndex outside the outputs; nothing charged", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const before = await balanceOf(t, s);
    expectError(await order(t, s, p.id, { kind: "poster" }), 400, "validation_error");
    expectError(await order(t, s, p.id, { kind: "vector", options: { maxColors: 40 } }), 400, "validation_error");
    expectError(await order(t, s, p.id, { kind: "vector", options: { tolerance: 5 } }), 400, "validation_error");
    expectError(await order(t, s, p.id, { kind: "vector", extra: true }), 400, "validation_error");
    const outside = expectError(await order(t, s, p.id, { kind: "vector", outputIndex: 1 }), 400, "validation_error");
    expect(outside.details?.issues?.[0]?.path).toBe("outputIndex");
    expect(await balanceOf(t, s)).toBe(before);
  });

  test("409 for a prediction that has not succeeded; 403 someone else's; 404 unknown; 401 signed out", async () => {
    const s = await t.signUp();
    const created = await t.json("POST", "/api/predictions", { headers: s.headers, body: { brandName: "Pending" } });
    expect(created.body.status).toBe("processing");
    const before = await balanceOf(t, s);
    const pending = expectError(await order(t, s, created.body.id, { kind: "vector" }), 409, "conflict");
    expect(pending.details?.status).toBe("processing");
    const p = await succeededPrediction(t, s);
    const other = await t.signUp();
    expectError(await order(t, other, p.id, { kind: "vector" }), 403, "forbidden");
    expectError(await order(t, s, crypto.randomUUID(), { kind: "vector" }), 404, "not_found");
    expectError(await order(t, s, "not-a-uuid", { kind: "vector" }), 404, "not_found");
    expectError(
      await t.json("POST", `/api/predictions/${p.id}/assets`, { body: { kind: "vector" } }),
      401,
      "unauthorized",
    );
    expect(await balanceOf(t, s)).toBe(before - 1);

    const a = await order(t, s, p.id, { kind: "vector" });
    expectError(await t.json("GET", `/api/assets/${a.body.id}`, { headers: other.headers }), 403, "forbidden");
    expectError(await t.json("GET", `/api/predictions/${p.id}/assets`, { headers: other.headers }), 403, "forbidden");
    expectError(await t.json("GET", `/api/assets/${crypto.randomUUID()}`, { headers: s.headers }), 404, "not_found");
    await waitFinal(t, s, a.body.id);
  });

  test("402 with required/balance when the balance is short: nothing charged, no asset", async () => {
    const s = await t.signInAnonymous(); // 1 credit, spent on the prediction
    const p = await succeededPrediction(t, s);
    expect(await balanceOf(t, s)).toBe(0);
    const err = expectError(await order(t, s, p.id, { kind: "brand-kit" }), 402, "insufficient_credits");
    expect(err.details).toMatchObject({ required: 3, balance: 0 });
    const rows = await t.db.select().from(asset).where(eq(asset.predictionId, p.id));
    expect(rows).toHaveLength(0);
  });

  test("20 concurrent creates with one Idempotency-Key: one asset, one charge; replays answer the same asset", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const before = await balanceOf(t, s);
    const key = `kit-${crypto.randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => order(t, s, p.id, { kind: "brand-kit" }, { "idempotency-key": key })),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([201, 409]).toContain(r.status);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    const rows = await t.db.select().from(asset).where(eq(asset.predictionId, p.id));
    expect(rows).toHaveLength(1);
    expect(await balanceOf(t, s)).toBe(before - 3);
    const replay = await order(t, s, p.id, { kind: "brand-kit" }, { "idempotency-key": key });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.id).toBe(created[0]?.body.id);
    expectError(await order(t, s, p.id, { kind: "vector" }, { "idempotency-key": key }), 422, "idempotency_key_reused");
    await waitFinal(t, s, replay.body.id);
  });
});

describe("an Idempotency-Key whose first outcome was lost", () => {
  test("the retry answers the asset that key made, charged once", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const before = await balanceOf(t, s);
    const first = await order(t, s, p.id, { kind: "vector" }, { "idempotency-key": "lost-asset-1" });
    expect(first.status).toBe(201);
    await t.db.delete(idempotencyKey).where(eq(idempotencyKey.key, "lost-asset-1"));
    const retry = await order(t, s, p.id, { kind: "vector" }, { "idempotency-key": "lost-asset-1" });
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(await t.db.select({ id: asset.id }).from(asset).where(eq(asset.predictionId, p.id))).toHaveLength(1);
    expect(await balanceOf(t, s)).toBe(before - 1);
    await waitFinal(t, s, first.body.id);
  });
});

describe("a source that cannot be used fails the asset and refunds it once", () => {
  test("corrupt source bytes: failed source_invalid, refunded once while 10 clients poll", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    // Our stored copy of the output goes bad (a broken disk, a truncated upload).
    const key = p.output?.[0]?.split("/").pop() ?? "";
    await t.deps.storage.put(key, new TextEncoder().encode("this is not an image at all"), "image/png");
    const before = await balanceOf(t, s);
    const res = await order(t, s, p.id, { kind: "transparent" });
    const polls = await Promise.all(Array.from({ length: 10 }, () => waitFinal(t, s, res.body.id)));
    for (const a of polls) {
      expect(a.status).toBe("failed");
      expect(a.error?.code).toBe("source_invalid");
      expect(a.creditsRefunded).toBe(1);
      expect(a.files).toEqual([]);
    }
    expect(await ledgerRowsOf(t, res.body.id)).toEqual([
      { type: "asset", amount: -1 },
      { type: "asset_refund", amount: 1 },
    ]);
    expect(await balanceOf(t, s)).toBe(before);
  });

  test("a source over ASSET_MAX_PIXELS fails source_too_large, refunded", async () => {
    const small = await createTestApp({
      env: { SIGNUP_CREDITS: "5", SANDBOX_DELAY_MS: "0", ASSET_MAX_PIXELS: "10000" },
    });
    try {
      const s = await small.signUp();
      const p = await succeededPrediction(small, s);
      const res = await order(small, s, p.id, { kind: "vector" });
      const a = await waitFinal(small, s, res.body.id);
      expect(a.status).toBe("failed");
      expect(a.error?.code).toBe("source_too_large");
      expect(a.creditsRefunded).toBe(1);
      expect(await balanceOf(small, s)).toBe(4);
    } finally {
      await small.close();
    }
  });
});

describe("jobs in PostgreSQL, any instance", () => {
  test("a web-only instance (ASSET_WORKERS=0) queues; another instance claims and finishes it", async () => {
    const web = await createTestApp({
      database: t.database,
      // Instances share storage (S3, or one volume), as they share the database.
      env: {
        SANDBOX_DELAY_MS: "0",
        ASSET_WORKERS: "0",
        ASSET_POLL_INTERVAL_MS: "0",
        STORAGE_DIR: t.config.STORAGE_DIR,
      },
    });
    try {
      const s = await web.signUp();
      const p = await succeededPrediction(web, s);
      // The other instance is idle (it looks again only when kicked: ASSET_POLL_INTERVAL_MS=0).
      await t.deps.assetRunner.idle();
      const res = await order(web, s, p.id, { kind: "vector" });
      expect(res.body.status).toBe("queued");
      await web.deps.assetRunner.idle();
      const [still] = await web.db.select({ status: asset.status }).from(asset).where(eq(asset.id, res.body.id));
      expect(still?.status).toBe("queued");
      t.deps.assetRunner.kick();
      const done = await waitFinal(web, s, res.body.id);
      expect(done.status).toBe("succeeded");
    } finally {
      await web.close();
    }
  });

  test("a job whose instance died is taken over once its lease has run out", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const web = await createTestApp({ database: t.database, env: { ASSET_WORKERS: "0" } });
    let id = "";
    try {
      const res = await order(web, s, p.id, { kind: "vector" });
      id = res.body.id;
    } finally {
      await web.close();
    }
    // What a dead instance leaves behind: processing, claimed, its lease still running.
    const soon = new Date(Date.now() + 60_000);
    await t.db
      .update(asset)
      .set({ status: "processing", claimedBy: "dead-instance", leaseUntil: soon, attempts: 1 })
      .where(eq(asset.id, id));
    t.deps.assetRunner.kick();
    await t.deps.assetRunner.idle();
    const [held] = await t.db
      .select({ status: asset.status, claimedBy: asset.claimedBy })
      .from(asset)
      .where(eq(asset.id, id));
    expect(held).toEqual({ status: "processing", claimedBy: "dead-instance" });
    // The lease runs out: any instance takes it over.
    await t.db
      .update(asset)
      .set({ leaseUntil: new Date(Date.now() - 1) })
      .where(eq(asset.id, id));
    t.deps.assetRunner.kick();
    const done = await waitFinal(t, s, id);
    expect(done.status).toBe("succeeded");
    const [row] = await t.db.select({ attempts: asset.attempts }).from(asset).where(eq(asset.id, id));
    expect(row?.attempts).toBe(2);
  });

  test("past ASSET_DEADLINE_MS the reconciler fails and refunds it, once, whoever runs", async () => {
    const clock = new FakeClock();
    const a = await createTestApp({
      database: t.database,
      env: { ASSET_WORKERS: "0", ASSET_DEADLINE_MS: "60000" },
      overrides: { clock },
    });
    const b = await createTestApp({
      database: t.database,
      env: { ASSET_WORKERS: "0", ASSET_DEADLINE_MS: "60000" },
      overrides: { clock },
    });
    try {
      const s = await t.signUp();
      const p = await succeededPrediction(t, s);
      const before = await balanceOf(t, s);
      const res = await order(a, s, p.id, { kind: "icons" });
      await a.db.update(asset).set({ createdAt: clock.now() }).where(eq(asset.id, res.body.id));
      expect((await reconcileOnce(a.deps)).assetsTimedOut).toBe(0);
      clock.advance(60_001);
      const [ra, rb] = await Promise.all([reconcileOnce(a.deps), reconcileOnce(b.deps)]);
      expect((ra?.assetsTimedOut ?? 0) + (rb?.assetsTimedOut ?? 0)).toBe(1);
      const final = expectSchema(
        AssetSchema,
        (await t.json("GET", `/api/assets/${res.body.id}`, { headers: s.headers })).body,
      );
      expect(final).toMatchObject({ status: "failed", creditsRefunded: 1, error: { code: "deadline_exceeded" } });
      expect(await ledgerRowsOf(t, res.body.id)).toEqual([
        { type: "asset", amount: -1 },
        { type: "asset_refund", amount: 1 },
      ]);
      expect(await balanceOf(t, s)).toBe(before);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("the database refuses a second charge or refund for one asset", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const a = await waitFinal(t, s, (await order(t, s, p.id, { kind: "vector" })).body.id);
    const second = (type: "asset" | "asset_refund") =>
      t.db
        .insert(creditTransaction)
        .values({ userId: s.userId, type, amount: type === "asset" ? -1 : 1, balanceAfter: 0, assetId: a.id })
        .then(
          () => "inserted",
          (err: { cause?: { code?: string } }) => err.cause?.code,
        );
    expect(await second("asset")).toBe("23505");
    // A refund is allowed once (this asset succeeded and has none); a second one is refused.
    await t.db
      .transaction(async (tx) => {
        await tx
          .insert(creditTransaction)
          .values({ userId: s.userId, type: "asset_refund", amount: 1, balanceAfter: 0, assetId: a.id });
        const refused = await tx
          .insert(creditTransaction)
          .values({ userId: s.userId, type: "asset_refund", amount: 1, balanceAfter: 0, assetId: a.id })
          .then(
            () => "inserted",
            (err: { cause?: { code?: string } }) => err.cause?.code,
          );
        expect(refused).toBe("23505");
        tx.rollback();
      })
      .catch(() => undefined);
    const [n] = await t.db
      .select({ n: sql<number>`count(*)::int` })
      .from(creditTransaction)
      .where(and(eq(creditTransaction.assetId, a.id), eq(creditTransaction.type, "asset")));
    expect(n?.n).toBe(1);
    const [pr] = await t.db.select({ status: prediction.status }).from(prediction).where(eq(prediction.id, p.id));
    expect(pr?.status).toBe("succeeded");
  });
});

describe("webhooks", () => {
  test("asset.completed: once, signed with the user's secret, data as GET /api/assets/{id} answers; a failed one too", async () => {
    const receiver = await startWebhookReceiver();
    try {
      const s = await t.signUp();
      const key = (await t.json("GET", "/api/webhooks/secret", { headers: s.headers })).body.key as string;
      const p = await succeededPrediction(t, s);
      const ok = await order(t, s, p.id, { kind: "vector", webhook: receiver.url });
      expect(ok.status).toBe(201);
      const done = await waitFinal(t, s, ok.body.id);
      while ((await deliverDueWebhooks(t.deps)) > 0);
      const receipts = receiver.receiptsFor(done.id);
      expect(receipts).toHaveLength(1);
      const r = receipts[0];
      if (!r) throw new Error("no receipt");
      const event = JSON.parse(r.body);
      expect(event.type).toBe("asset.completed");
      expect(expectSchema(AssetSchema, event.data)).toEqual(done);
      const ts = new Date(Number(r.headers["webhook-timestamp"]) * 1000);
      expect(r.headers["webhook-signature"]?.split(" ")).toContain(
        new Webhook(key).sign(r.headers["webhook-id"] ?? "", ts, r.body),
      );

      // An asset without a webhook sends nothing; a failed one with a webhook sends its failure.
      const silent = await waitFinal(t, s, (await order(t, s, p.id, { kind: "vector" })).body.id);
      const bad = await succeededPrediction(t, s);
      const badKey = bad.output?.[0]?.split("/").pop() ?? "";
      await t.deps.storage.put(badKey, new TextEncoder().encode("GIF89a? no"), "image/png");
      const failed = await waitFinal(
        t,
        s,
        (await order(t, s, bad.id, { kind: "icons", webhook: receiver.url })).body.id,
      );
      while ((await deliverDueWebhooks(t.deps)) > 0);
      expect(receiver.receiptsFor(silent.id)).toHaveLength(0);
      const failure = receiver.receiptsFor(failed.id);
      expect(failure).toHaveLength(1);
      expect(JSON.parse(failure[0]?.body ?? "{}").data).toMatchObject({ status: "failed", creditsRefunded: 1 });
    } finally {
      await receiver.close();
    }
  });

  test("a webhook URL on a private address is refused at create when private URLs are not allowed: 400, nothing charged", async () => {
    const strict = await createTestApp({ env: { SANDBOX_DELAY_MS: "0", WEBHOOK_ALLOW_PRIVATE_URLS: "false" } });
    try {
      const s = await strict.signUp();
      const p = await succeededPrediction(strict, s);
      const before = await balanceOf(strict, s);
      expectError(
        await order(strict, s, p.id, { kind: "vector", webhook: "https://127.0.0.1/hook" }),
        400,
        "validation_error",
      );
      expect(await balanceOf(strict, s)).toBe(before);
    } finally {
      await strict.close();
    }
  });
});
