import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { asset, creditTransaction } from "../../src/db/schema";
import { AssetSchema } from "../../src/schemas/assets";
import { PredictionSchema } from "../../src/schemas/predictions";
import { AssetCompletedEventSchema, WebhookDeliveryListSchema } from "../../src/schemas/webhook-deliveries";
import { type AssetRunner, createAssetRunner } from "../../src/services/assets/runner";
import { createImagingPool } from "../../src/services/deliverables/pool";
import { holdLease } from "../../src/services/jobs";
import { deliverDueWebhooks } from "../../src/services/webhooks/sender";
import { startWebhookReceiver } from "../fakes/webhook-receiver";
import { createTestApp, type TestApp } from "../helpers/app";
import { eventually, FakeClock } from "../helpers/clock";
import { expectError, expectSchema } from "../helpers/schemas";

/**
 * The deliverables' job core on the database: what is final at once and what is tried again (by the configured
 * policy), the holder guard on every write after a claim, the per-user cap and the users' turns. The apps run no
 * workers of their own (ASSET_WORKERS=0): each test starts the runner it needs, on a pool of scripted workers
 * where the image work itself is beside the point.
 */

const scripted = new URL("./scripted-worker.ts", import.meta.url);
const hanging = new URL("../imaging/hang-worker.ts", import.meta.url);

let t: TestApp;
const runners: AssetRunner[] = [];
beforeAll(async () => {
  t = await createTestApp({ env: { SIGNUP_CREDITS: "30", SANDBOX_DELAY_MS: "0", ASSET_WORKERS: "0" } });
});
afterAll(async () => {
  for (const r of runners) await r.close();
  await t.close();
});

function runner(app: TestApp, opts: { worker?: URL; jobTimeoutMs?: number } = {}) {
  const r = createAssetRunner(
    app.deps,
    createImagingPool({ size: 1, workerUrl: opts.worker ?? scripted, jobTimeoutMs: opts.jobTimeoutMs }),
  );
  runners.push(r);
  return r;
}

type Session = Awaited<ReturnType<TestApp["signUp"]>>;

async function succeededPrediction(app: TestApp, s: Session) {
  const created = await app.json("POST", "/api/predictions", {
    headers: s.headers,
    body: { brandName: "Acme Coffee", colors: ["#1F2937", "#F59E0B"] },
  });
  expect(created.status).toBe(201);
  const done = await app.json("GET", created.body.urls.get, { headers: { ...s.headers, prefer: "wait=10" } });
  const p = expectSchema(PredictionSchema, done.body);
  expect(p.status).toBe("succeeded");
  return p;
}

/** Orders a vector and sets the options the scripted worker reads. */
async function order(app: TestApp, s: Session, predictionId: string, script: Record<string, unknown> = {}) {
  const res = await app.json("POST", `/api/predictions/${predictionId}/assets`, {
    headers: s.headers,
    body: { kind: "vector" },
  });
  expect(res.status).toBe(201);
  const id = expectSchema(AssetSchema, res.body).id;
  await app.db.update(asset).set({ options: script }).where(eq(asset.id, id));
  return id;
}

const rowOf = async (app: TestApp, id: string) => {
  const [row] = await app.db.select().from(asset).where(eq(asset.id, id));
  if (!row) throw new Error(`no asset ${id}`);
  return row;
};

const ledgerOf = (app: TestApp, id: string) =>
  app.db
    .select({ type: creditTransaction.type, amount: creditTransaction.amount })
    .from(creditTransaction)
    .where(eq(creditTransaction.assetId, id))
    .orderBy(creditTransaction.createdAt);

describe("a failure caused by the source is final at once, refunded, never retried", () => {
  test("an exception of the image work (not the image layer's own error): source_invalid on the first attempt", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const id = await order(t, s, p.id, { script: "throw" });
    const r = runner(t);
    r.kick();
    await r.idle();
    const row = await rowOf(t, id);
    expect(row).toMatchObject({ status: "failed", attempts: 1, creditsRefunded: 1 });
    expect(row.error?.code).toBe("source_invalid");
    expect(await ledgerOf(t, id)).toEqual([
      { type: "asset", amount: -1 },
      { type: "asset_refund", amount: 1 },
    ]);
  });

  test("a worker killed at its time limit on a source: source_too_large on the first attempt", async () => {
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const id = await order(t, s, p.id);
    const r = runner(t, { worker: hanging, jobTimeoutMs: 200 });
    r.kick();
    await r.idle();
    const row = await rowOf(t, id);
    expect(row).toMatchObject({ status: "failed", attempts: 1, creditsRefunded: 1 });
    expect(row.error?.code).toBe("source_too_large");
  });
});

describe("storage or database trouble is retried by the configured policy", () => {
  test("an unreadable source goes back with ASSET_RETRY_BACKOFF_MS, then fails internal_error after ASSET_MAX_ATTEMPTS", async () => {
    const clock = new FakeClock();
    const app = await createTestApp({
      database: t.database,
      env: {
        ASSET_WORKERS: "0",
        ASSET_MAX_ATTEMPTS: "2",
        ASSET_RETRY_BACKOFF_MS: "1000",
        STORAGE_DIR: t.config.STORAGE_DIR,
      },
      overrides: { clock },
    });
    try {
      const s = await t.signUp();
      const p = await succeededPrediction(t, s);
      const id = await order(t, s, p.id);
      await t.db.update(asset).set({ createdAt: clock.now() }).where(eq(asset.id, id));
      // The stored source cannot be read (an I/O error, not a missing file: a link to itself).
      const key = p.output?.[0]?.split("/").pop() ?? "";
      const path = join(t.config.STORAGE_DIR, key);
      await rm(path);
      await symlink(path, path);
      const r = runner(app);
      r.kick();
      await r.idle();
      const first = await rowOf(t, id);
      expect(first).toMatchObject({ status: "processing", attempts: 1, claimedBy: null, creditsRefunded: 0 });
      const wait = (first.leaseUntil?.getTime() ?? 0) - clock.now().getTime();
      expect(wait).toBeGreaterThanOrEqual(800);
      expect(wait).toBeLessThanOrEqual(1200);
      // Not before its backoff has passed.
      r.kick();
      await r.idle();
      expect((await rowOf(t, id)).attempts).toBe(1);
      clock.advance(1200);
      r.kick();
      await r.idle();
      const last = await rowOf(t, id);
      expect(last).toMatchObject({ status: "failed", attempts: 2, creditsRefunded: 1 });
      expect(last.error?.code).toBe("internal_error");
    } finally {
      await app.close();
    }
  });
});

describe("the holder guard", () => {
  test("an old holder whose lease another instance took over cannot finish the job", async () => {
    const gates = [0, 1].map(() => join(tmpdir(), `logo-gate-${crypto.randomUUID()}`));
    const [oldGate = "", newGate = ""] = gates;
    const s = await t.signUp();
    const p = await succeededPrediction(t, s);
    const id = await order(t, s, p.id, { script: "gate", gate: oldGate });
    const old = runner(t);
    old.kick();
    const claimed = await eventually(async () => {
      const row = await rowOf(t, id);
      return row.status === "processing" && row.claimedBy ? row : null;
    });
    // The old holder stalls past its lease; another instance takes the job over.
    await t.db
      .update(asset)
      .set({ leaseUntil: new Date(Date.now() - 1), options: { script: "gate", gate: newGate } })
      .where(eq(asset.id, id));
    const other = runner(t);
    try {
      other.kick();
      const taken = await eventually(async () => {
        const row = await rowOf(t, id);
        return row.attempts === 2 ? row : null;
      });
      expect(taken.claimedBy).not.toBe(claimed.claimedBy);
      // The old holder's work now completes: nothing it writes counts.
      await writeFile(oldGate, "go");
      await old.idle();
      const row = await rowOf(t, id);
      expect(row).toMatchObject({ status: "processing", claimedBy: taken.claimedBy, files: null });
      // The new holder finishes it, once.
      await writeFile(newGate, "go");
      await other.idle();
      expect(await rowOf(t, id)).toMatchObject({ status: "succeeded", attempts: 2, creditsRefunded: 0 });
      expect(await ledgerOf(t, id)).toEqual([{ type: "asset", amount: -1 }]);
    } finally {
      for (const g of gates) await rm(g, { force: true });
    }
  });

  test("a renewal that finds the job taken over, or that cannot land before the lease runs out, stops the work", async () => {
    const clock = new FakeClock();
    const taken = holdLease({
      clock,
      leaseMs: 3000,
      heldUntil: new Date(clock.now().getTime() + 3000),
      renew: async () => false,
    });
    let fails = 0;
    const away = holdLease({
      clock,
      leaseMs: 3000,
      heldUntil: new Date(clock.now().getTime() + 3000),
      renew: async () => {
        fails++;
        throw new Error("database away");
      },
    });
    let renewals = 0;
    const fine = holdLease({
      clock,
      leaseMs: 3000,
      heldUntil: new Date(clock.now().getTime() + 3000),
      renew: async () => ++renewals > 0,
    });
    clock.advance(1000);
    await eventually(() => taken.signal.aborted && fails === 1);
    expect(away.signal.aborted).toBe(false);
    clock.advance(1000);
    await eventually(() => fails === 2);
    expect(away.signal.aborted).toBe(false);
    clock.advance(1000);
    await eventually(() => away.signal.aborted);
    expect(fine.signal.aborted).toBe(false);
    expect(renewals).toBe(3);
    for (const l of [taken, away, fine]) l.release();
  });
});

describe("fairness", () => {
  test("users take turns: one user's queue delays another's job by one job, not by the whole queue", async () => {
    const a = await t.signUp();
    const b = await t.signUp();
    const pa = await succeededPrediction(t, a);
    const pb = await succeededPrediction(t, b);
    const queued: string[] = [];
    // Each job takes a little while, so the order of their starts is the order of their claims.
    for (let i = 0; i < 4; i++) queued.push(await order(t, a, pa.id, { delayMs: 20 }));
    const late = await order(t, b, pb.id, { delayMs: 20 });
    const r = runner(t);
    r.kick();
    await r.idle();
    const rows = await Promise.all([...queued, late].map((id) => rowOf(t, id)));
    const byClaim = [...rows].sort((x, y) => (x.startedAt?.getTime() ?? 0) - (y.startedAt?.getTime() ?? 0));
    expect(rows.every((row) => row.status === "succeeded")).toBe(true);
    // a's first, then b's (b had no turn yet), then the rest of a's.
    expect(byClaim.map((row) => row.userId === b.userId)).toEqual([false, true, false, false, false]);
  });

  test("ASSET_MAX_ACTIVE_PER_USER: of 20 concurrent orders the cap is created, the rest 429 with Retry-After, nothing charged", async () => {
    const app = await createTestApp({
      database: t.database,
      env: { ASSET_WORKERS: "0", ASSET_MAX_ACTIVE_PER_USER: "5", STORAGE_DIR: t.config.STORAGE_DIR },
    });
    try {
      const s = await t.signUp();
      const p = await succeededPrediction(t, s);
      const before = (await t.json("GET", "/api/credits", { headers: s.headers })).body.balance as number;
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          app.json("POST", `/api/predictions/${p.id}/assets`, { headers: s.headers, body: { kind: "vector" } }),
        ),
      );
      const created = answers.filter((x) => x.status === 201);
      const refused = answers.filter((x) => x.status === 429);
      expect(created).toHaveLength(5);
      expect(refused).toHaveLength(15);
      for (const x of refused) {
        expectError(x, 429, "rate_limited");
        expect(Number(x.headers.get("retry-after"))).toBeGreaterThan(0);
      }
      expect((await t.json("GET", "/api/credits", { headers: s.headers })).body.balance).toBe(before - 5);
      // Another user is not concerned; a finished job frees a place.
      const other = await t.signUp();
      const po = await succeededPrediction(t, other);
      expect(
        (
          await app.json("POST", `/api/predictions/${po.id}/assets`, {
            headers: other.headers,
            body: { kind: "vector" },
          })
        ).status,
      ).toBe(201);
      const r = runner(app);
      r.kick();
      await r.idle();
      expect(
        (await app.json("POST", `/api/predictions/${p.id}/assets`, { headers: s.headers, body: { kind: "vector" } }))
          .status,
      ).toBe(201);
    } finally {
      await app.close();
    }
  });
});

describe("an asset's webhooks", () => {
  test("GET /api/assets/{id}/webhook-deliveries lists its attempts as a prediction's does; 403 someone else's, 404 unknown", async () => {
    const receiver = await startWebhookReceiver();
    try {
      const s = await t.signUp();
      const p = await succeededPrediction(t, s);
      const res = await t.json("POST", `/api/predictions/${p.id}/assets`, {
        headers: s.headers,
        body: { kind: "vector", webhook: receiver.url },
      });
      expect(res.status).toBe(201);
      const id = res.body.id as string;
      const path = `/api/assets/${id}/webhook-deliveries`;
      expect(
        expectSchema(WebhookDeliveryListSchema, (await t.json("GET", path, { headers: s.headers })).body).data,
      ).toEqual([]);
      const r = runner(t);
      r.kick();
      await r.idle();
      while ((await deliverDueWebhooks(t.deps)) > 0);
      const list = await t.json("GET", path, { headers: s.headers });
      expect(list.status).toBe(200);
      const page = expectSchema(WebhookDeliveryListSchema, list.body);
      expect(page.data).toHaveLength(1);
      expect(page.data[0]).toMatchObject({ event: "completed", attempt: 1, status: "succeeded", responseStatus: 200 });
      const [receipt] = receiver.receiptsFor(id);
      expect(receipt?.headers["webhook-id"]).toBe(page.data[0]?.webhookId);
      expect(expectSchema(AssetCompletedEventSchema, JSON.parse(receipt?.body ?? "")).data.status).toBe("succeeded");

      const other = await t.signUp();
      expectError(await t.json("GET", path, { headers: other.headers }), 403, "forbidden");
      expectError(
        await t.json("GET", `/api/assets/${crypto.randomUUID()}/webhook-deliveries`, { headers: s.headers }),
        404,
        "not_found",
      );
      expectError(await t.json("GET", path), 401, "unauthorized");
    } finally {
      await receiver.close();
    }
  });

  test("the document declares asset.completed: in `webhooks` (3.1) and as a callback of createAsset (3.0)", async () => {
    const doc31 = (await t.json("GET", "/openapi.json")).body;
    expect(Object.keys(doc31.webhooks)).toEqual(
      expect.arrayContaining(["prediction.start", "prediction.completed", "asset.completed"]),
    );
    expect(doc31.paths["/api/assets/{id}/webhook-deliveries"].get.operationId).toBe("listAssetWebhookDeliveries");
    const doc30 = (await t.json("GET", "/openapi-3.0.json")).body;
    expect(Object.keys(doc30.paths["/api/predictions/{id}/assets"].post.callbacks)).toEqual(["asset.completed"]);
    expect(Object.keys(doc30.paths["/api/predictions"].post.callbacks).sort()).toEqual([
      "prediction.completed",
      "prediction.start",
    ]);
  });
});
