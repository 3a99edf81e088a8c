import { describe, expect, test } from "bun:test";
import { makeAsset } from "../../src/services/deliverables/make";
import { sanitizeSvg } from "../../src/services/imaging";
import { countPaths, FIXTURES, fidelity, fixture, raw, renderSvgRaw } from "./fixtures";

const limits = { maxPixels: 25_000_000 };
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const ALLOWED = new Set(["svg", "g", "path", "rect", "circle", "ellipse", "polygon", "polyline", "title", "desc"]);

function expectShapesOnly(svg: string) {
  for (const m of svg.matchAll(/<([A-Za-z][\w:.-]*)/g)) expect(ALLOWED.has(m[1] ?? "")).toBe(true);
  expect(svg).not.toMatch(/\son\w+=|href|url\(|<script|<style|<image|foreignObject/i);
  expect(sanitizeSvg(svg)).toBe(svg);
}

describe("vector", () => {
  for (const name of FIXTURES) {
    test(`${name}: re-rendered trace matches the clean source (≤ 2% of pixels off by > 32)`, async () => {
      const f = await fixture(name);
      const files = await makeAsset("vector", f.input, { mode: "color", maxColors: 8 }, limits);
      expect(files.map((x) => x.name)).toEqual(["logo.svg"]);
      const file = files[0];
      if (!file) throw new Error("no file");
      expect(file.contentType).toBe("image/svg+xml");
      expect([file.width, file.height]).toEqual([f.width, f.height]);
      const svg = text(file.bytes);
      expect(svg).toContain(`viewBox="0 0 ${f.width} ${f.height}"`);
      expectShapesOnly(svg);
      expect(await fidelity(f, svg)).toBeLessThanOrEqual(0.02);
      // A generated-looking (noisy) logo still gives a small SVG of few paths.
      if (name === "noisy-jpeg") {
        expect(countPaths(svg)).toBeLessThanOrEqual(12);
        expect(file.bytes.byteLength).toBeLessThan(20_000);
      }
    }, 20_000);
  }

  test("mono: one fill colour, background transparent, holes kept", async () => {
    const f = await fixture("ring");
    const [file] = await makeAsset("vector", f.input, { mode: "mono", maxColors: 8 }, limits);
    const svg = text(file?.bytes ?? new Uint8Array());
    expectShapesOnly(svg);
    const fills = new Set([...svg.matchAll(/fill="([^"]+)"/g)].map((m) => m[1]));
    expect(fills.size).toBe(1);
    const img = renderSvgRaw(svg, f.width);
    const at = (x: number, y: number) =>
      Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
    expect(at(5, 5)[3]).toBe(0); // background corner
    expect(at(512, 512 - 250)[3]).toBe(255); // the ring
    expect(at(512, 512 - 120)[3]).toBe(0); // the enclosed hole (background colour) is not filled
    expect(at(512, 512)[3]).toBe(255); // the centre dot
  }, 20_000);

  test("maxColors bounds the palette", async () => {
    const f = await fixture("flat-8");
    const [file] = await makeAsset("vector", f.input, { mode: "color", maxColors: 3 }, limits);
    const fills = new Set([...text(file?.bytes ?? new Uint8Array()).matchAll(/fill="([^"]+)"/g)].map((m) => m[1]));
    expect(fills.size).toBeLessThanOrEqual(3);
  }, 20_000);

  test("an SVG source is sanitised and kept, not traced", async () => {
    const src = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100" onload="alert(1)"><script>alert(1)</script><rect width="200" height="100" fill="#FFFFFF"/><circle cx="100" cy="50" r="40" fill="#FF0000"/></svg>`;
    const [file] = await makeAsset("vector", new TextEncoder().encode(src), { mode: "color", maxColors: 8 }, limits);
    const svg = text(file?.bytes ?? new Uint8Array());
    expectShapesOnly(svg);
    expect(svg).toContain('<circle cx="100" cy="50" r="40" fill="#FF0000"/>');
    expect([file?.width, file?.height]).toEqual([1024, 512]);
  });

  test("same input, same bytes", async () => {
    const f = await fixture("text");
    const a = await makeAsset("vector", f.input, { mode: "color", maxColors: 8 }, limits);
    const b = await makeAsset("vector", f.input, { mode: "color", maxColors: 8 }, limits);
    expect(Buffer.from(a[0]?.bytes ?? []).equals(Buffer.from(b[0]?.bytes ?? []))).toBe(true);
  }, 20_000);

  test("the fidelity check can fail: a wrong SVG is far off", async () => {
    const f = await fixture("ring");
    const wrong = `<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 1024 1024"><rect width="1024" height="1024" fill="#F8FAFC"/><circle cx="512" cy="512" r="340" fill="#0EA5E9"/></svg>`;
    expect(await fidelity(f, wrong)).toBeGreaterThan(0.02);
    expect((await raw(f.png)).width).toBe(1024);
  });
});
