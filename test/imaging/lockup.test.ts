import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { assetOptions } from "../../src/services/deliverables";
import { makeAsset } from "../../src/services/deliverables/make";
import { type AssetFile, sanitizeSvg } from "../../src/services/imaging";
import { FONT_FAMILIES } from "../../src/services/imaging/font-families";
import { contrastRatio, NAME_CONTRAST } from "../../src/services/imaging/lockup";
import { fixture, raw, renderPng } from "./fixtures";

const limits = { maxPixels: 25_000_000 };
const text = (f: AssetFile | undefined) => new TextDecoder().decode(f?.bytes ?? new Uint8Array());
const byName = (files: AssetFile[], name: string) => files.find((f) => f.name === name);

/** Columns of a PNG (alpha > 127) that hold ink, as runs [start, end). */
async function inkRuns(png: Uint8Array): Promise<{ runs: [number, number][]; width: number; height: number }> {
  const r = await raw(png);
  const cols = new Uint8Array(r.width);
  for (let y = 0; y < r.height; y++)
    for (let x = 0; x < r.width; x++) if ((r.data[(y * r.width + x) * 4 + 3] as number) > 127) cols[x] = 1;
  const runs: [number, number][] = [];
  let start = -1;
  for (let x = 0; x <= r.width; x++) {
    if (x < r.width && cols[x] && start < 0) start = x;
    if ((x === r.width || !cols[x]) && start >= 0) {
      runs.push([start, x]);
      start = -1;
    }
  }
  return { runs, width: r.width, height: r.height };
}

/** Debian's tesseract reading a PNG as one block of text; null when the binary is not installed. */
const tesseract = Bun.which("tesseract");
function ocr(png: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "lockup-ocr-"));
  try {
    writeFileSync(join(dir, "in.png"), png);
    return execFileSync(tesseract as string, [join(dir, "in.png"), "-", "--psm", "6"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("lockup", () => {
  test("lockup.svg is shapes only (the name as outlines), lockup.png is 2048 px wide on transparency", async () => {
    const f = await fixture("ring");
    for (const font of FONT_FAMILIES) {
      const files = await makeAsset("lockup", f.input, assetOptions("lockup", { font, text: "Northwind" }), limits);
      expect(files.map((x) => x.name)).toEqual(["lockup.svg", "lockup.png"]);
      const svg = text(byName(files, "lockup.svg"));
      expect(sanitizeSvg(svg)).toBe(svg);
      expect(svg).not.toMatch(/<text|font-family|@font-face|<rect/);
      const png = byName(files, "lockup.png");
      expect(png?.width).toBe(2048);
      const r = await raw(png?.bytes ?? new Uint8Array());
      expect(r.width).toBe(2048);
      expect(r.data[3]).toBe(0); // the corner is transparent: no backdrop
    }
  }, 60_000);

  test("horizontal sets the name beside the mark, stacked under it; the default colour is the mark's darkest", async () => {
    const f = await fixture("ring");
    const h = await makeAsset("lockup", f.input, assetOptions("lockup", { text: "Orbit" }), limits);
    const s = await makeAsset("lockup", f.input, assetOptions("lockup", { text: "Orbit", layout: "stacked" }), limits);
    const hp = await inkRuns(byName(h, "lockup.png")?.bytes ?? new Uint8Array());
    const sp = await inkRuns(byName(s, "lockup.png")?.bytes ?? new Uint8Array());
    expect(hp.width / hp.height).toBeGreaterThan(2);
    expect(sp.width / sp.height).toBeLessThan(1.5);
    // Horizontal: the mark, then a gap, then five letters (O, r, b, i, t) each its own run of columns.
    expect(hp.runs.length).toBe(6);
    // The name is the last path (after the mark's nested viewport); flat-5's darkest colour is its slate square.
    const nameFill = (files: AssetFile[]) =>
      /<\/svg><\/svg><path d="[^"]*" fill="(#[0-9A-F]{6})"/.exec(text(byName(files, "lockup.svg")))?.[1];
    const five = await makeAsset(
      "lockup",
      (await fixture("flat-5")).input,
      assetOptions("lockup", { text: "O" }),
      limits,
    );
    expect(nameFill(five)).toBe("#1F2937");
    const red = await makeAsset("lockup", f.input, assetOptions("lockup", { text: "Orbit", color: "#DC2626" }), limits);
    expect(nameFill(red)).toBe("#DC2626");
  }, 60_000);

  test("a light mark's name is set in a colour that reads on the logo's background, a dark mark's in its own", async () => {
    const nameFill = (files: AssetFile[]) =>
      /<\/svg><\/svg><path d="[^"]*" fill="(#[0-9A-F]{6})"/.exec(text(byName(files, "lockup.svg")))?.[1];
    const logo = (fill: string, background: string) =>
      renderPng(
        `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512"><rect width="512" height="512" fill="${background}"/><circle cx="256" cy="256" r="160" fill="${fill}"/></svg>`,
      );
    const rgb = (h: string) => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
    // A yellow disc on white: its yellow (contrast 1.5) would barely read; near-black does.
    const yellow = nameFill(
      await makeAsset("lockup", logo("#FACC15", "#FFFFFF"), assetOptions("lockup", { text: "Sol" }), limits),
    );
    expect(yellow).toBe("#111827");
    // A dim blue disc on navy (contrast 1.6): near-white.
    const pale = nameFill(
      await makeAsset("lockup", logo("#1E3A5F", "#0B1220"), assetOptions("lockup", { text: "Sol" }), limits),
    );
    expect(pale).toBe("#F9FAFB");
    expect(contrastRatio(rgb(pale ?? "#000000"), [11, 18, 32])).toBeGreaterThanOrEqual(NAME_CONTRAST);
    // A deep blue disc on white keeps its own colour (contrast well above 4.5).
    const blue = nameFill(
      await makeAsset("lockup", logo("#1D4ED8", "#FFFFFF"), assetOptions("lockup", { text: "Sol" }), limits),
    );
    expect(contrastRatio(rgb(blue ?? "#FFFFFF"), [255, 255, 255])).toBeGreaterThanOrEqual(NAME_CONTRAST);
    expect(blue).not.toBe("#111827");
  }, 60_000);

  test("the name defaults to the prediction's brand name", async () => {
    const f = await fixture("ring");
    const a = await makeAsset("lockup", f.input, assetOptions("lockup", {}), limits, { brandName: "Al" });
    const b = await makeAsset("lockup", f.input, assetOptions("lockup", {}), limits, { brandName: "Albatross" });
    const ra = await inkRuns(byName(a, "lockup.png")?.bytes ?? new Uint8Array());
    const rb = await inkRuns(byName(b, "lockup.png")?.bytes ?? new Uint8Array());
    expect(ra.runs.length).toBe(3); // mark, A, l
    expect(rb.runs.length).toBe(10); // mark and nine letters
  }, 60_000);

  // The contract's "OCR of lockup.png reads the text", as the quality bench measures it (ink as black on
  // white, one block: see scripts/bench-quality.ts for why not page segmentation). A name with letters,
  // digits, `&` and `-`, every family, both layouts.
  test.skipIf(!tesseract)(
    "OCR reads the name back in every family and both layouts",
    async () => {
      const f = await fixture("ring");
      const name = "Kite & Key 42-X";
      const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9&-]/g, "");
      for (const font of FONT_FAMILIES)
        for (const layout of ["horizontal", "stacked"]) {
          const files = await makeAsset(
            "lockup",
            f.input,
            assetOptions("lockup", { font, layout, text: name }),
            limits,
          );
          const png = byName(files, "lockup.png")?.bytes ?? new Uint8Array();
          const ink = await sharp(png).extractChannel(3).negate().resize({ width: 1024 }).png().toBuffer();
          const read = ocr(new Uint8Array(ink));
          expect({ font, layout, read: norm(read).includes(norm(name)) ? name : read.trim() }).toEqual({
            font,
            layout,
            read: name,
          });
        }
    },
    120_000,
  );

  test("options: 1-40 characters, a listed font, #RRGGBB", () => {
    expect(() => assetOptions("lockup", { text: "" })).toThrow();
    expect(() => assetOptions("lockup", { text: "x".repeat(41) })).toThrow();
    expect(() => assetOptions("lockup", { font: "comic-sans" })).toThrow();
    expect(() => assetOptions("lockup", { color: "red" })).toThrow();
    expect(assetOptions("lockup", {})).toEqual({ layout: "horizontal", font: "inter", mark: "auto" });
  });
});
