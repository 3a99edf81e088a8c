import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, inArray, sql } from "drizzle-orm";
import {
  idempotencyKey,
  outgoingWebhook,
  rateLimitBucket,
  signinAddressFailure,
  signinFailure,
  webhookDelivery,
} from "../../src/db/schema";
import { newFileKey } from "../../src/domain/files";
import { loadConfig } from "../../src/env";
import { createHousekeepingLifecycle, housekeepOnce } from "../../src/services/housekeeping";
import { createStorage } from "../../src/services/storage";
import { createTestApp, type TestApp } from "../helpers/app";
import { eventually, FakeClock } from "../helpers/clock";
import { startS3 } from "../helpers/s3";

/**
 * Housekeeping removes what nothing needs any more, on the injected clock: expired Idempotency-Key records, ended
 * sign-in and rate-limit windows, webhook events delivered (or given up) more than WEBHOOK_RETENTION_DAYS ago, and
 * stored files nothing names once STORAGE_ORPHAN_GRACE_MS has passed. Everything still in use stays.
 */

const DAY = 86_400_000;
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SIGNUP_CREDITS: "5", SANDBOX_DELAY_MS: "0", ASSET_POLL_INTERVAL_MS: "0" } });
});
afterAll(async () => {
  await t.close();
});

/** The app's deps with time at `at`. */
const at = (ms: number) => ({ ...t.deps, clock: new FakeClock(ms) });

describe("housekeeping", () => {
  test("expired idempotency keys go, live ones stay", async () => {
    const now = Date.now();
    const user = crypto.randomUUID();
    const row = (key: string, expiresAt: number) => ({
      userId: user,
      scope: "POST /api/predictions",
      key,
      requestHash: "h",
      createdAt: new Date(expiresAt - DAY),
      expiresAt: new Date(expiresAt),
    });
    await t.db.insert(idempotencyKey).values([row("old", now - 1000), row("live", now + 1000)]);
    const r = await housekeepOnce(at(now));
    expect(r.ranDatabasePart).toBe(true);
    expect(r.idempotencyKeys).toBe(1);
    const left = await t.db.select().from(idempotencyKey).where(eq(idempotencyKey.userId, user));
    expect(left.map((k) => k.key)).toEqual(["live"]);
  });

  test("sign-in failure rows and rate-limit windows that have ended go; current ones stay", async () => {
    const now = Date.now();
    const old = new Date(now - 16 * 60_000);
    const recent = new Date(now - 60_000);
    await t.db.insert(signinFailure).values([
      { email: "old@example.com", failures: 3, windowStartedAt: old },
      { email: "recent@example.com", failures: 3, windowStartedAt: recent },
    ]);
    await t.db.insert(signinAddressFailure).values([
      { email: "old@example.com", address: "203.0.113.1", failures: 2, windowStartedAt: old },
      { email: "recent@example.com", address: "203.0.113.1", failures: 2, windowStartedAt: recent },
    ]);
    await t.db.insert(rateLimitBucket).values([
      { key: "strict:ended", count: 5, resetAt: new Date(now - 1) },
      { key: "auth:203.0.113.1/sign-in/email", count: 4, resetAt: new Date(now - 1) },
      { key: "strict:current", count: 5, resetAt: new Date(now + 30_000) },
    ]);
    const r = await housekeepOnce(at(now));
    expect(r.signinFailures).toBe(2);
    expect(r.rateLimitWindows).toBe(2);
    expect((await t.db.select().from(signinFailure)).map((x) => x.email)).toEqual(["recent@example.com"]);
    expect((await t.db.select().from(signinAddressFailure)).map((x) => x.email)).toEqual(["recent@example.com"]);
    expect((await t.db.select().from(rateLimitBucket)).map((x) => x.key)).toEqual(["strict:current"]);
  });

  test("webhook events go with their deliveries once nothing is pending and the last attempt is past retention", async () => {
    const now = Date.now();
    const retention = t.config.WEBHOOK_RETENTION_DAYS * DAY;
    expect(t.config.WEBHOOK_RETENTION_DAYS).toBe(30);
    const event = async (name: string, createdAt: number, deliveries: { status: string; endedAt: number | null }[]) => {
      const [w] = await t.db
        .insert(outgoingWebhook)
        .values({
          webhookId: `msg_${name}_${crypto.randomUUID()}`,
          jobType: "prediction",
          jobId: crypto.randomUUID(),
          userId: crypto.randomUUID(),
          event: "completed",
          url: "https://hooks.example.com/x",
          body: "{}",
          createdAt: new Date(createdAt),
        })
        .returning();
      if (!w) throw new Error("no row");
      await t.db.insert(webhookDelivery).values(
        deliveries.map((d, i) => ({
          webhookRowId: w.id,
          attempt: i + 1,
          status: d.status,
          createdAt: new Date(createdAt),
          completedAt: d.endedAt === null ? null : new Date(d.endedAt),
          nextAttemptAt: d.status === "pending" ? new Date(now) : null,
        })),
      );
      return w.id;
    };
    const old = now - retention - 2 * DAY;
    const delivered = await event("delivered", old, [{ status: "succeeded", endedAt: old + 1000 }]);
    const gaveUp = await event("gave-up", old, [
      { status: "failed", endedAt: old + 1000 },
      { status: "failed", endedAt: now - retention - DAY },
    ]);
    const stillRetrying = await event("retrying", old, [
      { status: "failed", endedAt: old + 1000 },
      { status: "pending", endedAt: null },
    ]);
    const endedLately = await event("lately", old, [
      { status: "failed", endedAt: old + 1000 },
      { status: "succeeded", endedAt: now - retention + DAY },
    ]);
    const recent = await event("recent", now - DAY, [{ status: "succeeded", endedAt: now - DAY }]);

    const r = await housekeepOnce(at(now));
    expect(r.webhookEvents).toBe(2);
    const ids = [delivered, gaveUp, stillRetrying, endedLately, recent];
    const left = await t.db
      .select({ id: outgoingWebhook.id })
      .from(outgoingWebhook)
      .where(inArray(outgoingWebhook.id, ids));
    expect(new Set(left.map((w) => w.id))).toEqual(new Set([stillRetrying, endedLately, recent]));
    const deliveries = await t.db
      .select({ id: webhookDelivery.id })
      .from(webhookDelivery)
      .where(inArray(webhookDelivery.webhookRowId, [delivered, gaveUp]));
    expect(deliveries).toEqual([]);
  });

  test("stored files nothing names go after the grace period; prediction outputs and asset files stay", async () => {
    const s = await t.signUp();
    const created = await t.json("POST", "/api/predictions", { headers: s.headers, body: { brandName: "Tidy" } });
    const p = (await t.json("GET", created.body.urls.get, { headers: { ...s.headers, prefer: "wait=10" } })).body;
    expect(p.status).toBe("succeeded");
    const ordered = await t.json("POST", `/api/predictions/${p.id}/assets`, {
      headers: s.headers,
      body: { kind: "vector" },
    });
    const a = (await t.json("GET", `/api/assets/${ordered.body.id}`, { headers: { ...s.headers, prefer: "wait=30" } }))
      .body;
    expect(a.status).toBe("succeeded");
    const outputKey = (p.output[0] as string).split("/").pop() as string;
    const assetKey = (a.files[0].url as string).split("/").pop() as string;
    const orphan = newFileKey("image/png");
    await t.deps.storage.put(orphan, new Uint8Array([1, 2, 3]), "image/png");
    const grace = t.config.STORAGE_ORPHAN_GRACE_MS;
    expect(grace).toBe(DAY);

    // Within the grace period nothing is touched (the orphan could be a file whose row is about to commit).
    expect((await housekeepOnce(at(Date.now() + grace - 60_000))).orphanFiles).toBe(0);
    expect(await t.deps.storage.exists(orphan)).toBe(true);

    const r = await housekeepOnce(at(Date.now() + grace + 60_000));
    expect(r.orphanFiles).toBe(1);
    expect(await t.deps.storage.exists(orphan)).toBe(false);
    expect(await t.deps.storage.exists(outputKey)).toBe(true);
    expect(await t.deps.storage.exists(assetKey)).toBe(true);
    // The files are still served.
    expect((await t.fetch(`/files/${outputKey}`)).status).toBe(200);
    expect((await t.fetch(`/files/${assetKey}`)).status).toBe(200);
  });

  test("on S3-compatible storage the same: listed by page, old unnamed objects deleted, others left", async () => {
    const s3 = await startS3();
    try {
      const storage = createStorage(loadConfig({ ...s3.env, PUBLIC_URL: "http://localhost:3000" }));
      const orphan = newFileKey("image/png");
      await storage.put(orphan, new Uint8Array([1]), "image/png");
      await storage.put("not-one-of-ours.txt", new Uint8Array([1]), "image/png");
      const r = await housekeepOnce({ ...at(Date.now() + DAY + 60_000), storage });
      expect(r.orphanFiles).toBe(1);
      expect(await storage.exists(orphan)).toBe(false);
      expect(await storage.exists("not-one-of-ours.txt")).toBe(true);
    } finally {
      await s3.close();
    }
  });

  test("two instances at once: one takes the database part, nothing is removed twice or fails", async () => {
    const now = Date.now();
    const user = crypto.randomUUID();
    await t.db.insert(idempotencyKey).values(
      Array.from({ length: 20 }, (_, i) => ({
        userId: user,
        scope: "s",
        key: `k${i}`,
        requestHash: "h",
        expiresAt: new Date(now - 1000),
      })),
    );
    const b = await createTestApp({ database: t.database });
    try {
      const [r1, r2] = await Promise.all([
        housekeepOnce(at(now)),
        housekeepOnce({ ...b.deps, clock: new FakeClock(now) }),
      ]);
      expect(r1.idempotencyKeys + r2.idempotencyKeys).toBe(20);
      const left = await t.db.execute(sql`select count(*)::int as n from idempotency_key where user_id = ${user}`);
      expect((left as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(0);
    } finally {
      await b.close();
    }
  });

  test("runs on its own every HOUSEKEEPING_INTERVAL_MS on the injected clock, and stops", async () => {
    const clock = new FakeClock();
    const user = crypto.randomUUID();
    await t.db.insert(idempotencyKey).values({
      userId: user,
      scope: "s",
      key: "k",
      requestHash: "h",
      expiresAt: new Date(clock.now().getTime() + 60_000),
    });
    const lifecycle = createHousekeepingLifecycle({ ...t.deps, clock });
    lifecycle.start();
    try {
      await eventually(() => clock.waiting > 0);
      clock.advance(t.config.HOUSEKEEPING_INTERVAL_MS);
      await eventually(async () => {
        const rows = await t.db.select().from(idempotencyKey).where(eq(idempotencyKey.userId, user));
        return rows.length === 0;
      });
    } finally {
      await lifecycle.stop();
    }
  });
});
