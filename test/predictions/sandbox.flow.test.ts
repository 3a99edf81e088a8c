import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import sharp from "sharp";
import { creditTransaction, prediction } from "../../src/db/schema";
import { PredictionListSchema, PredictionSchema } from "../../src/schemas/predictions";
import { createSandboxProvider } from "../../src/services/providers/sandbox";
import { createTestApp, type TestApp } from "../helpers/app";
import { driveClock, FakeClock } from "../helpers/clock";
import { expectError, expectSchema } from "../helpers/schemas";

/** No EACHLABS_API_KEY outside production: the sandbox provider, end to end, images served by this server. */

let t: TestApp;
// The sandbox's delay and Prefer: wait both run on this clock: the test moves it instead of waiting.
const clock = new FakeClock();
beforeAll(async () => {
  t = await createTestApp({ env: { SIGNUP_CREDITS: "5", SANDBOX_DELAY_MS: "300" }, overrides: { clock } });
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
});

describe("sandbox provider", () => {
  test("/health says sandbox", async () => {
    const res = await t.json("GET", "/health");
    expect(res.body.checks.provider.status).toBe("sandbox");
  });

  test("create → poll → succeeded → the image URL is a PNG monogram", async () => {
    const s = await t.signInAnonymous();
    const created = await t.json("POST", "/api/predictions", {
      headers: s.headers,
      body: { brandName: "Acme Coffee", colors: ["#1F2937", "#F59E0B"], style: "minimal" },
    });
    expect(created.status).toBe(201);
    const p = expectSchema(PredictionSchema, created.body);
    expect(created.headers.get("location")).toBe(`/api/predictions/${p.id}`);
    expect(p.status).toBe("processing");
    expect(p.output).toBeNull();
    expect(p.creditsCharged).toBe(1);
    expect(p.input).toEqual({
      brandName: "Acme Coffee",
      description: null,
      style: "minimal",
      colors: ["#1F2937", "#F59E0B"],
      aspectRatio: "1:1",
      numOutputs: 1,
      prompt: null,
    });
    expect(p.urls).toEqual({
      get: `/api/predictions/${p.id}`,
      cancel: `/api/predictions/${p.id}/cancel`,
      stream: `/api/predictions/${p.id}/events`,
    });

    const started = clock.now().getTime();
    const done = await driveClock(clock, t.json("GET", p.urls.get, { headers: { ...s.headers, prefer: "wait=10" } }));
    // held until the sandbox's 300 ms had passed (the next provider check, about a second later), not 10 s
    expect(clock.now().getTime() - started).toBeGreaterThanOrEqual(300);
    expect(clock.now().getTime() - started).toBeLessThan(10_000);
    expect(done.status).toBe(200);
    expect(done.headers.get("preference-applied")).toBe("wait=10");
    const final = expectSchema(PredictionSchema, done.body);
    expect(final.status).toBe("succeeded");
    expect(final.output).toHaveLength(1);
    expect(final.completedAt).not.toBeNull();
    // The sandbox's image was copied into our storage like any provider's: output is our /files URL.
    const url = new URL(final.output?.[0] ?? "");
    expect(url.origin).toBe("http://localhost:3000");
    expect(url.pathname).toMatch(/^\/files\/[0-9a-f]{32}\.png$/);

    const img = await t.fetch(url.pathname);
    expect(img.status).toBe(200);
    expect(img.headers.get("content-type")).toStartWith("image/png");
    const png = new Uint8Array(await img.arrayBuffer());
    // A 512×512 PNG: the badge in the first brand colour, the initials drawn (the bundled font) in the second.
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([512, 512]);
    const at = (x: number, y: number) => Array.from(data.subarray((y * 512 + x) * 4, (y * 512 + x) * 4 + 3));
    expect(at(150, 216)).toEqual([0x1f, 0x29, 0x37]);
    let ink = 0;
    for (let y = 150; y < 290; y++)
      for (let x = 150; x < 362; x++) if (at(x, y).join() === [0xf5, 0x9e, 0x0b].join()) ink++;
    expect(ink).toBeGreaterThan(2000);
    // The same bytes the sandbox draws at its own URL, which stays in the database for support only.
    const [row] = await t.db.select().from(prediction).where(eq(prediction.id, p.id));
    const [sandboxUrl] = row?.providerOutput ?? [];
    expect(new URL(sandboxUrl ?? "").pathname).toMatch(/^\/sandbox\/images\/sbx_[^/]+\/1\.png$/);
    const direct = await t.fetch(new URL(sandboxUrl ?? "").pathname);
    expect(direct.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await direct.arrayBuffer()).equals(Buffer.from(png))).toBe(true);
    expect(JSON.stringify(done.body)).not.toContain("/sandbox/images/");

    // anonymous users start with ANONYMOUS_CREDITS (1); exactly one debit, no refund
    const rows = await t.db.select().from(creditTransaction).where(eq(creditTransaction.predictionId, p.id));
    expect(rows.map((r) => [r.type, r.amount])).toEqual([["generation", -1]]);

    const history = await t.json("GET", "/api/generations", { headers: s.headers });
    const list = expectSchema(PredictionListSchema, history.body);
    expect(list.data.map((x) => x.id)).toEqual([p.id]);
    const stored = await t.json("GET", `/api/generations/${p.id}`, { headers: s.headers });
    expect(expectSchema(PredictionSchema, stored.body).status).toBe("succeeded");
  });

  test("an image number past the prediction's count, or an unknown id, is 404", async () => {
    expect((await t.fetch("/sandbox/images/sbx_abc_1_0123456789abcdef/1.png")).status).toBe(404);
    const [row] = await t.db.select().from(prediction).limit(1);
    expect((await t.fetch(`/sandbox/images/${row?.providerPredictionId}/2.png`)).status).toBe(404);
    expect((await t.fetch(`/sandbox/images/${row?.providerPredictionId}/x.png`)).status).toBe(404);
    expect((await t.fetch(`/sandbox/images/${row?.providerPredictionId}/1.svg`)).status).toBe(404);
  });

  test("validation: unknown field, bad colour, numOutputs above the model's max, not signed in", async () => {
    const s = await t.signUp();
    const unknown = await t.json("POST", "/api/predictions", {
      headers: s.headers,
      body: { brandName: "Acme", extra: true },
    });
    expectError(unknown, 400, "validation_error");
    const colour = await t.json("POST", "/api/predictions", {
      headers: s.headers,
      body: { brandName: "Acme", colors: ["red"] },
    });
    const e = expectError(colour, 400, "validation_error");
    expect((e.details?.issues ?? []).map((i) => i.path)).toContain("colors.0");
    const tooMany = await t.json("POST", "/api/predictions", {
      headers: s.headers,
      body: { brandName: "Acme", model: "recraft-v3", numOutputs: 2 },
    });
    const e2 = expectError(tooMany, 400, "validation_error");
    expect(e2.message).toContain("at most 1");
    expect(await t.db.select().from(creditTransaction).where(eq(creditTransaction.type, "generation"))).toHaveLength(1);
    expectError(await t.json("POST", "/api/predictions", { body: { brandName: "Acme" } }), 401, "unauthorized");
  });
});

describe("production without a key", () => {
  test("predictions are 503 and nothing is charged", async () => {
    const prod = await createTestApp({
      env: { NODE_ENV: "production", BETTER_AUTH_SECRET: "x".repeat(40), SIGNUP_CREDITS: "5" },
    });
    try {
      expect(prod.deps.provider).toBeNull();
      const s = await prod.signUp();
      const res = await prod.json("POST", "/api/predictions", { headers: s.headers, body: { brandName: "Acme" } });
      expectError(res, 503, "service_unavailable");
      expect(await prod.db.select().from(prediction)).toHaveLength(0);
      expect(await prod.ledgerViolations()).toEqual([]);
    } finally {
      await prod.close();
    }
  });
});

test("the sandbox remembers at most 10,000 cancellations, dropping the oldest first", async () => {
  const provider = createSandboxProvider({
    delayMs: 0,
    publicBaseUrl: "http://localhost:3000",
    clock: new FakeClock(),
  });
  const input = { prompt: "p", num_images: 1 };
  const ids: string[] = [];
  for (let i = 0; i < 10_001; i++) {
    const { id } = await provider.create({ slug: "sandbox", input });
    await provider.cancel(id);
    ids.push(id);
  }
  expect((await provider.get(ids[0] ?? "")).status).toBe("succeeded");
  expect((await provider.get(ids[1] ?? "")).status).toBe("canceled");
  expect((await provider.get(ids[10_000] ?? "")).status).toBe("canceled");
});
