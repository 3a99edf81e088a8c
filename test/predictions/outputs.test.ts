import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { prediction } from "../../src/db/schema";
import { PredictionSchema } from "../../src/schemas/predictions";
import { reconcileOnce } from "../../src/services/reconciler";
import {
  FAKE_EACHLABS_KEY,
  type FakeEachlabs,
  imageBytes,
  redirectReply,
  startFakeEachlabs,
  succeed,
} from "../fakes/eachlabs";
import { createTestApp, type TestApp } from "../helpers/app";
import { startS3 } from "../helpers/s3";
import { expectSchema } from "../helpers/schemas";
import { allowSyncNow, balanceOf, body, ledgerOf, refundRows, rowOf } from "./helpers";

/**
 * Durable outputs: a succeeded prediction's images are copied from the provider into our storage
 * (a local directory, or S3 against s3rver) before it says succeeded; refusals fail and refund it once.
 */

const MB = 1024 * 1024;
const DEADLINE_MS = 60_000;
const SIGNUP_CREDITS = 20;

for (const driver of ["fs", "s3"] as const) {
  describe(`durable outputs (STORAGE_DRIVER=${driver})`, () => {
    let eachlabs: FakeEachlabs;
    let s3: Awaited<ReturnType<typeof startS3>> | undefined;
    let t: TestApp;

    beforeAll(async () => {
      eachlabs = await startFakeEachlabs();
      s3 = driver === "s3" ? await startS3() : undefined;
      t = await createTestApp({
        env: {
          SIGNUP_CREDITS: String(SIGNUP_CREDITS),
          EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
          EACHLABS_BASE_URL: eachlabs.url,
          EACHLABS_TIMEOUT_MS: "1500",
          PREDICTION_DEADLINE_MS: String(DEADLINE_MS),
          PREDICTION_STALE_AFTER_MS: "5000",
          ...s3?.env,
        },
      });
      expect(t.deps.storage.driver).toBe(driver);
    });
    afterAll(async () => {
      expect(await t.ledgerViolations()).toEqual([]);
      await t.close();
      await eachlabs.close();
      await s3?.close();
    });
    beforeEach(() => eachlabs.reset());

    /** A new user's prediction whose provider result is `output` (default: the fake's own images). */
    async function start(over: Record<string, unknown> = {}, output?: string[]) {
      eachlabs.enqueue({ pendingPolls: 0, ...(output ? { final: succeed(output) } : {}) });
      const s = await t.signUp();
      const res = await t.json("POST", "/api/predictions", { headers: s.headers, body: body(over) });
      expect(res.status).toBe(201);
      const p = expectSchema(PredictionSchema, res.body);
      return { s, p, providerId: (await rowOf(t, p.id)).providerPredictionId ?? "" };
    }

    /** One poll that may call the provider (and so copy the images). */
    async function poll(s: { headers: Record<string, string> }, id: string) {
      await allowSyncNow(t, id);
      const res = await t.json("GET", `/api/predictions/${id}`, { headers: s.headers });
      expect(res.status).toBe(200);
      // Clients never see where the provider keeps its files.
      expect(JSON.stringify(res.body)).not.toContain(eachlabs.url);
      return expectSchema(PredictionSchema, res.body);
    }

    async function expectRefundedOnce(s: { headers: Record<string, string>; userId: string }, id: string) {
      const failed = await poll(s, id);
      expect(failed.status).toBe("failed");
      expect(failed.output).toBeNull();
      expect(failed.creditsRefunded).toBe(failed.creditsCharged);
      // Polling a final prediction again changes nothing and refunds nothing more.
      expect((await poll(s, id)).status).toBe("failed");
      await reconcileOnce(t.deps);
      expect(await ledgerOf(t, id)).toEqual([
        ["generation", -failed.creditsCharged],
        ["refund", failed.creditsCharged],
      ]);
      expect(await refundRows(t, id)).toHaveLength(1);
      expect(await balanceOf(t, s.userId)).toBe(SIGNUP_CREDITS);
      expect(await t.ledgerViolations()).toEqual([]);
      return failed;
    }

    test("after success the provider deletes its files; our URLs still serve the same bytes", async () => {
      const { s, p, providerId } = await start({ numOutputs: 2 });
      const done = await poll(s, p.id);
      expect(done.status).toBe("succeeded");
      expect(done.output).toHaveLength(2);
      const providerUrls = [eachlabs.imageUrl(providerId, 0), eachlabs.imageUrl(providerId, 1)];
      // The provider's URLs are kept for support, in order.
      expect((await rowOf(t, p.id)).providerOutput).toEqual(providerUrls);

      for (const url of providerUrls) eachlabs.setFile(url, "deleted");
      expect((await fetch(providerUrls[0] as string)).status).toBe(404);

      const keys = new Set<string>();
      for (const [i, ours] of (done.output ?? []).entries()) {
        const url = new URL(ours);
        expect(url.origin).toBe(t.config.PUBLIC_URL);
        expect(url.pathname).toMatch(/^\/files\/[0-9a-f]{32}\.png$/);
        keys.add(url.pathname);
        const res = await t.fetch(url.pathname);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("image/png");
        expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        expect(res.headers.get("x-content-type-options")).toBe("nosniff");
        expect(res.headers.get("content-security-policy")).toBeNull();
        const expected = imageBytes(new URL(providerUrls[i] as string).pathname);
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(expected);
      }
      expect(keys.size).toBe(2);
      expect(await ledgerOf(t, p.id)).toEqual([["generation", -2]]);
    });

    test("a 30 MB image is refused, whether its Content-Length says so or not: failed, refunded once", async () => {
      for (const length of [true, false]) {
        const url = eachlabs.imageUrl(`big-${length}`, 0);
        eachlabs.setFile(url, { status: 200, bytes: { zeros: 30 * MB }, contentType: "image/png", length });
        const { s, p } = await start({}, [url]);
        const failed = await expectRefundedOnce(s, p.id);
        expect(failed.error?.code).toBe("generation_failed");
        expect((await rowOf(t, p.id)).providerOutput).toEqual([url]);
      }
    });

    test("a text/html “image” is refused: failed, refunded once", async () => {
      const url = eachlabs.imageUrl("html", 0);
      eachlabs.setFile(url, { status: 200, text: "<html><script>alert(1)</script></html>", contentType: "text/html" });
      const { s, p } = await start({}, [url]);
      await expectRefundedOnce(s, p.id);
    });

    test("one bad image of two fails the whole prediction", async () => {
      const good = eachlabs.imageUrl("pair", 0);
      const gone = eachlabs.imageUrl("pair", 1);
      eachlabs.setFile(gone, "deleted");
      const { s, p } = await start({ numOutputs: 2 }, [good, gone]);
      const failed = await expectRefundedOnce(s, p.id);
      expect(failed.error?.code).toBe("generation_failed");
    });

    test("three redirects are followed; a fourth is refused", async () => {
      const chain = (name: string, hops: number) => {
        const final = eachlabs.imageUrl(name, 0);
        let next = final;
        for (let i = hops; i >= 1; i--) {
          const hop = `${eachlabs.url}/redirect/${name}/${i}`;
          eachlabs.setFile(hop, redirectReply(next, i % 2 ? 302 : 307));
          next = hop;
        }
        return { first: next, final };
      };
      const ok = chain("three", 3);
      const a = await start({}, [ok.first]);
      const done = await poll(a.s, a.p.id);
      expect(done.status).toBe("succeeded");
      const res = await t.fetch(new URL(done.output?.[0] ?? "").pathname);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(imageBytes(new URL(ok.final).pathname));

      const tooMany = chain("four", 4);
      const b = await start({}, [tooMany.first]);
      await expectRefundedOnce(b.s, b.p.id);
      // The fourth redirect was never followed.
      expect(eachlabs.fileGets(tooMany.final)).toBe(0);
    });

    test("transient failures (503, a timeout) keep it processing; the reconciler then stores it", async () => {
      const url = eachlabs.imageUrl("flaky", 0);
      const { s, p } = await start({}, [url]);
      eachlabs.setFile(url, { status: 503, text: "busy", contentType: "text/plain" });
      const first = await poll(s, p.id);
      expect(first.status).toBe("processing");
      expect(first.output).toBeNull();
      expect((await rowOf(t, p.id)).providerOutput).toEqual([url]);

      eachlabs.setFile(url, "hang"); // answers nothing: the copy gives up after EACHLABS_TIMEOUT_MS
      expect((await poll(s, p.id)).status).toBe("processing");

      eachlabs.setFile(url, { status: 200, bytes: imageBytes("/flaky"), contentType: "image/png" });
      await t.db
        .update(prediction)
        .set({ lastSyncedAt: new Date(Date.now() - 60_000) })
        .where(eq(prediction.id, p.id));
      await reconcileOnce(t.deps);
      const row = await rowOf(t, p.id);
      expect(row.status).toBe("succeeded");
      expect(eachlabs.fileGets(url)).toBe(3);
      const res = await t.fetch(new URL(row.output?.[0] ?? "").pathname);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(imageBytes("/flaky"));
      expect(await refundRows(t, p.id)).toHaveLength(0);
    });

    test("a transient failure past PREDICTION_DEADLINE_MS fails it (timeout) and refunds it once", async () => {
      const url = eachlabs.imageUrl("late", 0);
      eachlabs.setFile(url, { status: 502, text: "bad gateway", contentType: "text/plain" });
      const { s, p } = await start({}, [url]);
      await t.db
        .update(prediction)
        .set({ createdAt: new Date(Date.now() - DEADLINE_MS - 1000) })
        .where(eq(prediction.id, p.id));
      const failed = await expectRefundedOnce(s, p.id);
      expect(failed.error?.code).toBe("timeout");
    });

    test("a file the provider no longer has when we copy (404) fails and refunds at once", async () => {
      const url = eachlabs.imageUrl("gone", 0);
      eachlabs.setFile(url, "deleted");
      const { s, p } = await start({}, [url]);
      const failed = await expectRefundedOnce(s, p.id);
      expect(failed.error?.code).toBe("generation_failed");
      expect(eachlabs.fileGets(url)).toBe(1);
    });
  });
}

describe("S3_PUBLIC_URL", () => {
  let eachlabs: FakeEachlabs;
  let s3: Awaited<ReturnType<typeof startS3>>;
  let t: TestApp;
  beforeAll(async () => {
    eachlabs = await startFakeEachlabs();
    s3 = await startS3();
    t = await createTestApp({
      env: {
        EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
        EACHLABS_BASE_URL: eachlabs.url,
        ...s3.env,
        // s3rver answers public GETs at {endpoint}/{bucket}/{key}, as a bucket website or CDN would.
        S3_PUBLIC_URL: `${s3.endpoint}/${s3.bucket}`,
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await eachlabs.close();
    await s3.close();
  });

  test("output links the bucket (or its CDN) directly; /files/{key} still serves the file", async () => {
    eachlabs.enqueue({ pendingPolls: 0 });
    const s = await t.signUp();
    const created = await t.json("POST", "/api/predictions", { headers: s.headers, body: body() });
    const id = created.body.id as string;
    const providerId = (await rowOf(t, id)).providerPredictionId ?? "";
    await allowSyncNow(t, id);
    const done = expectSchema(
      PredictionSchema,
      (await t.json("GET", `/api/predictions/${id}`, { headers: s.headers })).body,
    );
    expect(done.status).toBe("succeeded");
    const url = done.output?.[0] ?? "";
    expect(url).toMatch(new RegExp(`^${s3.endpoint}/${s3.bucket}/[0-9a-f]{32}\\.png$`));
    const expected = imageBytes(new URL(eachlabs.imageUrl(providerId, 0)).pathname);
    const direct = await fetch(url);
    expect(direct.status).toBe(200);
    expect(direct.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await direct.arrayBuffer())).toEqual(expected);
    const key = url.slice(url.lastIndexOf("/") + 1);
    const ours = await t.fetch(`/files/${key}`);
    expect(new Uint8Array(await ours.arrayBuffer())).toEqual(expected);
  });
});
