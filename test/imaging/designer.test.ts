import { describe, expect, test } from "bun:test";
import { assetOptions } from "../../src/services/deliverables";
import { makeAsset } from "../../src/services/deliverables/make";
import type { AssetFile } from "../../src/services/imaging";
import { alphaAt, onWhitePage, raw, renderPng, renderSvgRaw } from "./fixtures";

/** The fourth wave's rules, on logos drawn for each: no backdrop, one colour keeps the drawing, auto transparency, icons of the symbol. */

const limits = { maxPixels: 25_000_000 };
const text = (f: AssetFile | undefined) => new TextDecoder().decode(f?.bytes ?? new Uint8Array());

// A navy disc with two amber bars on it (the letters of a badge).
const BADGE = onWhitePage(
  `<circle cx="512" cy="512" r="400" fill="#1E3A5F"/><rect x="340" y="360" width="120" height="300" fill="#F59E0B"/><rect x="564" y="360" width="120" height="300" fill="#F59E0B"/>`,
);
// A ring (its inside is a hole) and a filled square with a small white square drawn deep in it (a shape that
// stays: the field around it is six times as thick as the square's half-width; see HOLE_REACH).
const HOLES = onWhitePage(
  `<circle cx="300" cy="300" r="220" fill="#2563EB"/><circle cx="300" cy="300" r="140" fill="#FFFFFF"/><rect x="520" y="520" width="420" height="420" fill="#111827"/><rect x="700" y="700" width="60" height="60" fill="#FFFFFF"/>`,
);
// A symbol (a disc) with a line of "letters" beside it.
const WORDMARK = onWhitePage(
  `<circle cx="220" cy="512" r="150" fill="#7C3AED"/>${[0, 1, 2, 3, 4].map((i) => `<rect x="${440 + i * 110}" y="462" width="80" height="100" fill="#111827"/>`).join("")}`,
);

describe("the fourth wave's rules", () => {
  test("vector: no backdrop by default, one rect of the background with `background: keep`", async () => {
    const input = renderPng(BADGE);
    const [drop] = await makeAsset("vector", input, assetOptions("vector", {}), limits);
    const [keep] = await makeAsset("vector", input, assetOptions("vector", { background: "keep" }), limits);
    expect(text(drop)).not.toContain('fill="#FFFFFF"');
    expect(alphaAt(renderSvgRaw(text(drop), 1024), 5, 5)).toBe(0);
    expect(text(keep).match(/<rect [^>]*fill="#FFFFFF"/g)?.length).toBe(1);
    expect(alphaAt(renderSvgRaw(text(keep), 1024), 5, 5)).toBe(255);
  }, 60_000);

  test("mono keeps the letters: the amber bars are knocked out of the navy disc", async () => {
    const [mono] = await makeAsset("vector", renderPng(BADGE), assetOptions("vector", { mode: "mono" }), limits);
    const r = renderSvgRaw(text(mono), 1024);
    expect(alphaAt(r, 512, 200)).toBe(255); // the disc is ink
    expect(alphaAt(r, 400, 500)).toBe(0); // a bar is knocked out
    expect(alphaAt(r, 624, 500)).toBe(0);
    expect(alphaAt(r, 5, 5)).toBe(0); // the background is transparent
  }, 60_000);

  test("transparent auto: the ring's inside goes, the white square drawn on the field stays", async () => {
    const input = renderPng(HOLES);
    const at = async (mode: string) => {
      const [f] = await makeAsset("transparent", input, assetOptions("transparent", { mode }), limits);
      return raw(f?.bytes ?? new Uint8Array());
    };
    const auto = await at("auto");
    expect(alphaAt(auto, 300, 300)).toBe(0); // hole of the ring
    expect(alphaAt(auto, 730, 730)).toBe(255); // drawn shape on the field
    expect(alphaAt(auto, 5, 5)).toBe(0);
    const border = await at("border");
    expect(alphaAt(border, 300, 300)).toBe(255);
    expect(assetOptions("transparent", {}).mode).toBe("auto");
  }, 60_000);

  test("icons show the symbol without its wordmark (mark: auto), the whole logo with mark: whole", async () => {
    const input = renderPng(WORDMARK);
    const box = async (mark: string) => {
      const files = await makeAsset("icons", input, assetOptions("icons", { mark }), limits, {
        brandName: "Violet Works Studio",
      });
      const r = await raw(files.find((f) => f.name === "icon-512.png")?.bytes ?? new Uint8Array());
      let x0 = r.width;
      let x1 = -1;
      let y0 = r.height;
      let y1 = -1;
      for (let y = 0; y < r.height; y++)
        for (let x = 0; x < r.width; x++) {
          const o = (y * r.width + x) * 4;
          if ((r.data[o] as number) < 200 || (r.data[o + 1] as number) < 200) {
            x0 = Math.min(x0, x);
            x1 = Math.max(x1, x);
            y0 = Math.min(y0, y);
            y1 = Math.max(y1, y);
          }
        }
      return { w: x1 - x0 + 1, h: y1 - y0 + 1, files };
    };
    const auto = await box("auto");
    expect(Math.abs(auto.w / auto.h - 1)).toBeLessThan(0.05); // the disc alone
    expect(auto.w).toBeGreaterThanOrEqual(0.7 * 512);
    const whole = await box("whole");
    expect(whole.w / whole.h).toBeGreaterThan(2.5);
    const manifest = JSON.parse(text(auto.files.find((f) => f.name === "site.webmanifest")));
    expect(manifest).toMatchObject({
      name: "Violet Works Studio",
      short_name: "Violet Works",
      background_color: "#FFFFFF",
    });
    expect(manifest.theme_color).toMatch(/^#[0-9A-F]{6}$/);
  }, 60_000);
});
