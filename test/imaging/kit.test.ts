import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { unzipSync } from "fflate";
import sharp from "sharp";
import { assetOptions } from "../../src/services/deliverables";
import { makeAsset } from "../../src/services/deliverables/make";
import { type AssetFile, BRAND_KIT_FILES, sanitizeSvg } from "../../src/services/imaging";
import { fixture, raw } from "./fixtures";

const limits = { maxPixels: 25_000_000 };
const ICONS = [
  "favicon.ico",
  "favicon.svg",
  "apple-touch-icon.png",
  "icon-192.png",
  "icon-512.png",
  "icon-maskable-512.png",
  "site.webmanifest",
  "head.html",
];
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function byName(files: { name: string; bytes: Uint8Array }[], name: string): Uint8Array {
  const f = files.find((x) => x.name === name);
  if (!f) throw new Error(`missing ${name}`);
  return f.bytes;
}

async function expectPng(bytes: Uint8Array, width: number, height: number, opaque = false) {
  const meta = await sharp(bytes).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(["png", width, height]);
  if (opaque) {
    const img = await raw(bytes);
    let min = 255;
    for (let o = 3; o < img.data.length; o += 4) min = Math.min(min, img.data[o] as number);
    expect(min).toBe(255);
  }
}

/** Checks the icon files as a set, whatever folder they sit in. */
async function checkIcons(files: { name: string; bytes: Uint8Array }[], background: [number, number, number]) {
  // ICO: header type 1, three PNG images of 16, 32 and 48 px.
  const ico = byName(files, "favicon.ico");
  const v = new DataView(ico.buffer, ico.byteOffset, ico.byteLength);
  expect([v.getUint16(0, true), v.getUint16(2, true), v.getUint16(4, true)]).toEqual([0, 1, 3]);
  const sizes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const e = 6 + 16 * i;
    const size = v.getUint8(e);
    expect(v.getUint8(e + 1)).toBe(size);
    const len = v.getUint32(e + 8, true);
    const off = v.getUint32(e + 12, true);
    expect(off + len).toBeLessThanOrEqual(ico.byteLength);
    const png = ico.subarray(off, off + len);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    await expectPng(png, size, size);
    sizes.push(size);
  }
  expect(sizes).toEqual([16, 32, 48]);

  const svg = text(byName(files, "favicon.svg"));
  expect(sanitizeSvg(svg)).toBe(svg);
  await expectPng(byName(files, "apple-touch-icon.png"), 180, 180, true);
  await expectPng(byName(files, "icon-192.png"), 192, 192);
  await expectPng(byName(files, "icon-512.png"), 512, 512);

  // Maskable: full-bleed background, every pixel of the mark inside the central 80% circle.
  const maskable = await raw(byName(files, "icon-maskable-512.png"));
  expect([maskable.width, maskable.height]).toEqual([512, 512]);
  let markPixels = 0;
  let outside = 0;
  for (let y = 0; y < 512; y++)
    for (let x = 0; x < 512; x++) {
      const o = (y * 512 + x) * 4;
      expect(maskable.data[o + 3]).toBe(255);
      const off = background.some((c, i) => Math.abs(c - (maskable.data[o + i] as number)) > 8);
      if (!off) continue;
      markPixels++;
      if (Math.hypot(x + 0.5 - 256, y + 0.5 - 256) > 0.4 * 512) outside++;
    }
  expect(markPixels).toBeGreaterThan(5000);
  expect(outside).toBe(0);
  for (const [x, y] of [
    [0, 0],
    [511, 0],
    [0, 511],
    [511, 511],
  ] as const)
    expect(Array.from(maskable.data.subarray((y * 512 + x) * 4, (y * 512 + x) * 4 + 3))).toEqual(background);

  const manifest = JSON.parse(text(byName(files, "site.webmanifest")));
  const names = files.map((f) => f.name.replace(/^icons\//, ""));
  expect(
    manifest.icons.map((i: { src: string; sizes: string; purpose: string }) => [i.src, i.sizes, i.purpose]),
  ).toEqual([
    ["icon-192.png", "192x192", "any"],
    ["icon-512.png", "512x512", "any"],
    ["icon-maskable-512.png", "512x512", "maskable"],
  ]);
  for (const i of manifest.icons) expect(names).toContain(i.src);

  const head = text(byName(files, "head.html"));
  const hrefs = [...head.matchAll(/<link\b[^>]*\bhref="([^"]+)"/g)].map((m) => m[1]);
  expect(hrefs.sort()).toEqual(ICONS.filter((n) => n !== "head.html").sort());
}

describe("icons", () => {
  let files: AssetFile[];
  beforeAll(async () => {
    files = await makeAsset("icons", (await fixture("flat-5")).input, assetOptions("icons", {}), limits);
  });

  test("exactly the eight files, with content types", () => {
    expect(files.map((f) => f.name)).toEqual(ICONS);
    expect(files.map((f) => f.contentType)).toEqual([
      "image/x-icon",
      "image/svg+xml",
      "image/png",
      "image/png",
      "image/png",
      "image/png",
      "application/manifest+json",
      "text/html",
    ]);
  });

  test("ICO, PNG sizes, opaque touch icon, maskable safe zone, manifest and head agree", async () => {
    await checkIcons(files, [255, 255, 255]);
  }, 20_000);

  test("the background option colours the canvas", async () => {
    const blue = await makeAsset("icons", (await fixture("ring")).input, { background: "#123456" }, limits);
    await checkIcons(blue, [0x12, 0x34, 0x56]);
    const apple = await raw(byName(blue, "apple-touch-icon.png"));
    expect(Array.from(apple.data.subarray(0, 4))).toEqual([0x12, 0x34, 0x56, 255]);
  }, 20_000);
});

describe("brand kit", () => {
  let zip: Uint8Array;
  let entries: Record<string, Uint8Array>;
  beforeAll(async () => {
    const files = await makeAsset("brand-kit", (await fixture("flat-5")).input, assetOptions("brand-kit", {}), limits);
    expect(files.map((f) => [f.name, f.contentType])).toEqual([["brand-kit.zip", "application/zip"]]);
    zip = files[0]?.bytes ?? new Uint8Array();
    entries = unzipSync(zip);
  }, 30_000);

  test("unzips to exactly the listed files", () => {
    // API.md's list, written out: the implementation's constant must not be its own expectation.
    expect(Object.keys(entries).sort()).toEqual(
      [
        "logo.svg",
        "logo.pdf",
        "logo-black.svg",
        "logo-white.svg",
        "logo-512.png",
        "logo-1024.png",
        "logo-2048.png",
        "logo-transparent.png",
        "icons/favicon.ico",
        "icons/favicon.svg",
        "icons/apple-touch-icon.png",
        "icons/icon-192.png",
        "icons/icon-512.png",
        "icons/icon-maskable-512.png",
        "icons/site.webmanifest",
        "icons/head.html",
        "social/avatar-400.png",
        "social/og-1200x630.png",
        "lockup-horizontal.svg",
        "lockup-horizontal.png",
        "lockup-stacked.svg",
        "lockup-stacked.png",
        "palette.json",
        "palette.css",
        "README.txt",
      ].sort(),
    );
  });

  test("every SVG is shapes only; black and white are one colour", () => {
    for (const name of ["logo.svg", "logo-black.svg", "logo-white.svg", "icons/favicon.svg"]) {
      const svg = text(entries[name] ?? new Uint8Array());
      expect(sanitizeSvg(svg)).toBe(svg);
      expect(svg).toContain('viewBox="0 0 1024 1024"');
    }
    for (const [name, colour] of [
      ["logo-black.svg", "#000000"],
      ["logo-white.svg", "#FFFFFF"],
    ] as const) {
      const fills = new Set([...text(entries[name] ?? new Uint8Array()).matchAll(/fill="([^"]+)"/g)].map((m) => m[1]));
      expect([...fills]).toEqual([colour]);
    }
  });

  test("the PDF is vector: no image objects", () => {
    const pdf = Buffer.from(entries["logo.pdf"] ?? new Uint8Array()).toString("latin1");
    expect(pdf.startsWith("%PDF-")).toBe(true);
    expect(pdf).not.toMatch(/\/Subtype\s*\/Image/);
    expect(pdf).not.toMatch(/\/Image\b/);
    expect(pdf).toMatch(/\d+(\.\d+)? \d+(\.\d+)? [lc]\b/); // path operators are there
  });

  test("PNG sizes", async () => {
    await expectPng(entries["logo-512.png"] ?? new Uint8Array(), 512, 512);
    await expectPng(entries["logo-1024.png"] ?? new Uint8Array(), 1024, 1024);
    await expectPng(entries["logo-2048.png"] ?? new Uint8Array(), 2048, 2048);
    await expectPng(entries["logo-transparent.png"] ?? new Uint8Array(), 1024, 1024);
    await expectPng(entries["social/avatar-400.png"] ?? new Uint8Array(), 400, 400, true);
    await expectPng(entries["social/og-1200x630.png"] ?? new Uint8Array(), 1200, 630, true);
    const t = await raw(entries["logo-transparent.png"] ?? new Uint8Array());
    expect(t.data[3]).toBe(0);
  });

  test("icons inside the kit", async () => {
    const icons = Object.entries(entries)
      .filter(([n]) => n.startsWith("icons/"))
      .map(([name, bytes]) => ({ name: name.slice("icons/".length), bytes }));
    expect(icons.map((i) => i.name).sort()).toEqual([...ICONS].sort());
    await checkIcons(icons, [255, 255, 255]);
  }, 20_000);

  test("palette.json: the mark's colours by share of the mark, with RGB and CMYK; the background apart", () => {
    const palette = JSON.parse(text(entries["palette.json"] ?? new Uint8Array())) as {
      background: string | null;
      colors: { hex: string; rgb: number[]; cmyk: number[]; share: number }[];
    };
    expect(palette.background).toBe("#FFFFFF");
    const { colors } = palette;
    expect(colors.map((c) => c.hex).sort()).toEqual(["#059669", "#1F2937", "#7C3AED", "#DC2626"]);
    for (const c of colors) {
      expect(c.hex).toMatch(/^#[0-9A-F]{6}$/);
      expect(c.rgb).toEqual([1, 3, 5].map((i) => Number.parseInt(c.hex.slice(i, i + 2), 16)));
      const k = 1 - Math.max(...c.rgb) / 255;
      expect(c.cmyk[3]).toBe(Math.round(k * 100));
      for (const v of c.cmyk) expect(v >= 0 && v <= 100).toBe(true);
    }
    expect(colors.find((c) => c.hex === "#DC2626")?.cmyk).toEqual([0, 83, 83, 14]);
    for (let i = 1; i < colors.length; i++) expect(colors[i - 1]?.share).toBeGreaterThanOrEqual(colors[i]?.share ?? 0);
    expect(Math.abs(colors.reduce((s, c) => s + c.share, 0) - 1)).toBeLessThanOrEqual(0.01);
    const css = text(entries["palette.css"] ?? new Uint8Array());
    colors.forEach((c, i) => {
      expect(css).toContain(`--brand-${i + 1}: ${c.hex};`);
    });
    expect(css).toContain("--brand-background: #FFFFFF;");
  });

  test("lockups: shapes only (the name as outlines), PNGs 2048 px wide on transparency", async () => {
    for (const layout of ["horizontal", "stacked"]) {
      const svg = text(entries[`lockup-${layout}.svg`] ?? new Uint8Array());
      expect(sanitizeSvg(svg)).toBe(svg);
      expect(svg).not.toMatch(/<text|font-family|@font-face/);
      const png = await raw(entries[`lockup-${layout}.png`] ?? new Uint8Array());
      expect(png.width).toBe(2048);
      expect(png.data[3]).toBe(0);
    }
    const h = await raw(entries["lockup-horizontal.png"] ?? new Uint8Array());
    const s = await raw(entries["lockup-stacked.png"] ?? new Uint8Array());
    expect(h.width / h.height).toBeGreaterThan(2);
    expect(s.width / s.height).toBeLessThan(1.5);
  });

  test("README lists every file", () => {
    const readme = text(entries["README.txt"] ?? new Uint8Array());
    for (const name of BRAND_KIT_FILES) if (!name.startsWith("icons/")) expect(readme).toContain(name);
  });

  test("byte-identical: a second run, and Node running the same sources", async () => {
    const again = await makeAsset("brand-kit", (await fixture("flat-5")).input, assetOptions("brand-kit", {}), limits);
    expect(sha(again[0]?.bytes ?? new Uint8Array())).toBe(sha(zip));
    const node = spawnSync("node", ["--import", "tsx", "test/imaging/node-run.ts", "direct", "brand-kit", "flat-5"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(node.status).toBe(0);
    const out = JSON.parse(node.stdout) as { name: string; sha256: string }[];
    expect(out).toEqual([{ name: "brand-kit.zip", bytes: zip.byteLength, sha256: sha(zip) } as never]);
  }, 90_000);
});
