import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import sharp from "sharp";
import { ASSET_KINDS, type AssetKind, assetOptions, deliverableOf } from "../../src/services/deliverables";
import { makeAsset } from "../../src/services/deliverables/make";
import { createImagingPool, nativeSlotsFor } from "../../src/services/deliverables/pool";
import { ImagingError } from "../../src/services/imaging";
import { fixture } from "./fixtures";

const limits = { maxPixels: 25_000_000 };

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A tiny, valid-looking PNG whose header claims width×height (a decompression bomb's header). */
function pngClaiming(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return e instanceof ImagingError ? e.code : `other: ${(e as Error).message}`;
  }
}

const KINDS: readonly AssetKind[] = ASSET_KINDS;

const bad: Record<string, [Uint8Array, string]> = {
  empty: [new Uint8Array(), "source_invalid"],
  "text file": [new TextEncoder().encode("hello, this is not an image\n"), "source_invalid"],
  "corrupt PNG": [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 1, 2, 3]),
    "source_invalid",
  ],
  "random bytes": [Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251), "source_invalid"],
  "PNG claiming 30000×30000": [pngClaiming(30000, 30000), "source_too_large"],
  "SVG claiming 30000×30000": [
    new TextEncoder().encode(
      `<svg xmlns="http://www.w3.org/2000/svg" width="30000" height="30000"><rect width="1" height="1"/></svg>`,
    ),
    "source_too_large",
  ],
  "broken SVG": [new TextEncoder().encode(`<svg xmlns="http://www.w3.org/2000/svg"><g></svg>`), "source_invalid"],
  "HTML with an svg inside": [new TextEncoder().encode(`<html><body><svg></svg></body></html>`), "source_invalid"],
};

describe("bad sources", () => {
  for (const [name, [bytes, code]] of Object.entries(bad))
    test(`${name} → ${code} for every kind`, async () => {
      for (const kind of KINDS) expect(await codeOf(makeAsset(kind, bytes, assetOptions(kind, {}), limits))).toBe(code);
    });

  test("a real image over maxPixels → source_too_large (checked before decoding)", async () => {
    const f = await fixture("ring");
    expect(await codeOf(makeAsset("vector", f.input, assetOptions("vector", {}), { maxPixels: 1024 * 1024 - 1 }))).toBe(
      "source_too_large",
    );
    expect(await codeOf(makeAsset("vector", f.input, assetOptions("vector", {}), { maxPixels: 1024 * 1024 }))).toBe(
      "resolved",
    );
  }, 20_000);

  test("a JPEG cut short and closed by an end marker (292 bytes claiming 4900×4900) → source_invalid", async () => {
    const full = await sharp({
      create: { width: 4900, height: 4900, channels: 3, background: "#336699" },
    })
      .jpeg()
      .toBuffer();
    const cut = new Uint8Array(292);
    cut.set(full.subarray(0, 290));
    cut.set([0xff, 0xd9], 290);
    expect((await sharp(cut).metadata()).width).toBe(4900);
    for (const kind of ["transparent", "vector"] as const)
      expect(await codeOf(makeAsset(kind, cut, assetOptions(kind, {}), limits))).toBe("source_invalid");
    // A whole JPEG still decodes.
    const small = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#336699" } })
      .jpeg()
      .toBuffer();
    expect(await codeOf(makeAsset("transparent", new Uint8Array(small), assetOptions("transparent", {}), limits))).toBe(
      "resolved",
    );
  }, 20_000);

  test("a side over ASSET_MAX_SIDE or an aspect ratio over 20:1 → source_too_large, before decoding", async () => {
    const cases: [Uint8Array, Parameters<typeof makeAsset>[3], string][] = [
      // The review's 1,000,000×20 (20 MP, under the pixel limit) that held the thread pool for seconds.
      [pngClaiming(1_000_000, 20), limits, "source_too_large"],
      [pngClaiming(16_385, 1000), limits, "source_too_large"],
      [pngClaiming(1000, 16_385), limits, "source_too_large"],
      [pngClaiming(2001, 100), limits, "source_too_large"],
      [pngClaiming(100, 2001), limits, "source_too_large"],
      [pngClaiming(5000, 1000), { ...limits, maxSide: 4096 }, "source_too_large"],
      [
        new TextEncoder().encode(
          `<svg xmlns="http://www.w3.org/2000/svg" width="4200" height="200"><rect width="1" height="1"/></svg>`,
        ),
        limits,
        "source_too_large",
      ],
      // At the limits the header passes: these bytes then fail to decode (their pixel data is a stub).
      [pngClaiming(16_384, 1000), limits, "source_invalid"],
      [pngClaiming(2000, 100), limits, "source_invalid"],
    ];
    for (const [bytes, lim, code] of cases)
      for (const kind of KINDS) expect(await codeOf(makeAsset(kind, bytes, assetOptions(kind, {}), lim))).toBe(code);
  });

  test("a truncated real PNG → source_invalid", async () => {
    const f = await fixture("ring");
    expect(
      await codeOf(
        makeAsset("transparent", f.input.subarray(0, f.input.length >> 1), assetOptions("transparent", {}), limits),
      ),
    ).toBe("source_invalid");
  });
});

describe("pool", () => {
  const pool = createImagingPool({ size: 2 });
  afterAll(() => pool.close());

  test("runs jobs, keeps the caller's buffer, errors keep their code, and the pool survives them", async () => {
    const f = await fixture("ring");
    const input = new Uint8Array(f.input);
    const results = await Promise.all([
      codeOf(pool.run("vector", bad["text file"]?.[0] ?? new Uint8Array(), {}, limits)),
      codeOf(pool.run("vector", pngClaiming(30000, 30000), {}, limits)),
      pool.run("vector", input, { mode: "color", maxColors: 8 }, limits),
      pool.run("transparent", input, { mode: "border", tolerance: 10 }, limits),
      codeOf(pool.run("nope" as AssetKind, input, {}, limits)),
    ]);
    expect(results[0]).toBe("source_invalid");
    expect(results[1]).toBe("source_too_large");
    expect(results[4]).toBe("other: unknown asset kind nope");
    expect((results[2] as { name: string }[]).map((x) => x.name)).toEqual(["logo.svg"]);
    expect((results[3] as { name: string; bytes: Uint8Array }[])[0]?.bytes.byteLength).toBeGreaterThan(1000);
    expect(input.byteLength).toBe(f.input.byteLength); // not detached
    const after = await pool.run("vector", input, { mode: "mono", maxColors: 8 }, limits);
    expect(after[0]?.name).toBe("logo.svg");
  }, 30_000);

  test("every declared kind runs in the pool and makes exactly the files it declares", async () => {
    const f = await fixture("ring");
    for (const kind of ASSET_KINDS) {
      const files = await pool.run(kind, f.input, assetOptions(kind, {}), limits, { brandName: "Acme Coffee" });
      expect(files.map((x) => x.name)).toEqual([...(deliverableOf(kind)?.files ?? [])]);
      for (const x of files) expect(x.bytes.byteLength).toBeGreaterThan(0);
    }
  }, 60_000);

  test("a crashing worker rejects its job only and is replaced", async () => {
    const crashing = createImagingPool({ size: 1, workerUrl: new URL("./crash-worker.ts", import.meta.url) });
    const a = await codeOf(crashing.run("vector", new Uint8Array([1]), {}, limits));
    const b = await codeOf(crashing.run("vector", new Uint8Array([1]), {}, limits));
    expect(a).toStartWith("other: imaging worker crashed");
    expect(b).toStartWith("other: imaging worker crashed");
    await crashing.close();
    expect(await codeOf(crashing.run("vector", new Uint8Array([1]), {}, limits))).toBe("other: imaging pool is closed");
  }, 20_000);

  test("a job that never finishes times out, its worker is replaced, and the queue moves on", async () => {
    const hanging = createImagingPool({
      size: 1,
      jobTimeoutMs: 200,
      workerUrl: new URL("./hang-worker.ts", import.meta.url),
    });
    const started = Date.now();
    const [a, b] = await Promise.all([
      codeOf(hanging.run("vector", new Uint8Array([1]), {}, limits)),
      codeOf(hanging.run("vector", new Uint8Array([2]), {}, limits)),
    ]);
    expect(a).toBe("other: imaging job timed out after 200 ms");
    expect(b).toBe("other: imaging job timed out after 200 ms");
    expect(Date.now() - started).toBeLessThan(5_000);
    await hanging.close();
  }, 20_000);

  test("FIFO with one job per worker: a size-1 pool finishes jobs in order", async () => {
    const one = createImagingPool({ size: 1 });
    const f = await fixture("two-colour");
    const order: number[] = [];
    await Promise.all([0, 1, 2].map((i) => one.run("vector", f.input, {}, limits).then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2]);
    expect(one.size).toBe(1);
    await one.close();
  }, 30_000);

  test("the pool works on Node running the sources with --import tsx", () => {
    const node = spawnSync(
      "node",
      ["--import", "tsx", "test/imaging/node-run.ts", "pool", "vector", "ring", '{"mode":"color","maxColors":8}'],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(node.stderr).toBe("");
    expect(node.status).toBe(0);
    const [err, files] = JSON.parse(node.stdout) as [
      { error: string; type: string },
      { name: string; bytes: number }[],
    ];
    expect(err).toEqual({ error: "source_invalid", type: "ImagingError" });
    expect(files.map((x) => x.name)).toEqual(["logo.svg"]);
    expect(files[0]?.bytes).toBeGreaterThan(500);
  }, 90_000);
});

describe("native-call permits", () => {
  const permitWorker = new URL("./permit-worker.ts", import.meta.url);
  const holds = (files: { name: string }[][]) =>
    files.map((f) => (f[0]?.name ?? "").split("-").map(Number) as [number, number]).sort((a, b) => a[0] - b[0]);

  test("at most nativeSlots are held at once across all workers", async () => {
    const pool = createImagingPool({ size: 3, nativeSlots: 1, workerUrl: permitWorker });
    try {
      const files = await Promise.all(
        Array.from({ length: 4 }, () => pool.run("vector", new Uint8Array(1), { holdMs: 80 }, limits)),
      );
      const h = holds(files);
      // One permit: each hold starts after the previous one ended.
      for (let i = 1; i < h.length; i++) expect(h[i]?.[0]).toBeGreaterThanOrEqual(h[i - 1]?.[1] ?? Infinity);
    } finally {
      await pool.close();
    }
    const wide = createImagingPool({ size: 3, nativeSlots: 3, workerUrl: permitWorker });
    try {
      const h = holds(
        await Promise.all(
          Array.from({ length: 3 }, () => wide.run("vector", new Uint8Array(1), { holdMs: 400 }, limits)),
        ),
      );
      // Three permits: the holds overlap.
      expect(h[2]?.[0]).toBeLessThan(h[0]?.[1] ?? 0);
    } finally {
      await wide.close();
    }
  }, 30_000);

  test("a worker killed while holding a permit gives it back: the next job gets it", async () => {
    const pool = createImagingPool({ size: 2, nativeSlots: 1, jobTimeoutMs: 500, workerUrl: permitWorker });
    try {
      const stuck = pool.run("vector", new Uint8Array(1), { hang: true }, limits);
      expect(await codeOf(stuck)).toBe("other: imaging job timed out after 500 ms");
      // Asked for only now (a job sent at once would run out its own 500 ms waiting, racing the kill): with the
      // killed worker's permit not given back, this one could never get the only permit and would time out too.
      const next = pool.run("vector", new Uint8Array(1), { holdMs: 10 }, limits);
      expect((await next).length).toBe(1);
    } finally {
      await pool.close();
    }
  }, 30_000);

  test("nativeSlotsFor keeps two threads of the pool for the main thread", () => {
    expect([1, 2, 3, 4, 8, 16].map(nativeSlotsFor)).toEqual([1, 1, 1, 2, 6, 14]);
  });
});
