import { describe, expect, test } from "bun:test";
import { assetOptions } from "../../src/services/deliverables";
import { makeAsset } from "../../src/services/deliverables/make";
import type { AssetFile } from "../../src/services/imaging";
import { alphaAt, onWhitePage, raw, renderPng, renderSvgRaw } from "./fixtures";

/** transparent `auto` (which enclosed white regions are holes of the mark) and the one-colour version
 * (which colours are ink, anti-aliasing blends, seams), on drawn logos. */

const limits = { maxPixels: 25_000_000 };
const text = (f: AssetFile | undefined) => new TextDecoder().decode(f?.bytes ?? new Uint8Array());

async function auto(svg: string) {
  const [f] = await makeAsset("transparent", renderPng(svg), assetOptions("transparent", { mode: "auto" }), limits);
  return raw(f?.bytes ?? new Uint8Array());
}

async function mono(svg: string) {
  const [f] = await makeAsset("vector", renderPng(svg), assetOptions("vector", { mode: "mono" }), limits);
  return renderSvgRaw(text(f), 1024);
}

/** x positions along row y where the rendering's alpha crosses 128. */
function edgesOnRow(r: { data: Uint8Array; width: number }, y: number): number[] {
  const out: number[] = [];
  for (let x = 1; x < r.width; x++) if (alphaAt(r, x - 1, y) > 127 !== alphaAt(r, x, y) > 127) out.push(x);
  return out;
}

describe("transparent auto: holes of the mark go, shapes drawn on a field stay", () => {
  test("the counter of a thick ring (an O: stroke as wide as the counter) is a hole", async () => {
    const r = await auto(
      onWhitePage(
        `<circle cx="512" cy="512" r="300" fill="#F97316"/><circle cx="512" cy="512" r="150" fill="#FFFFFF"/>`,
      ),
    );
    expect(alphaAt(r, 512, 512)).toBe(0); // the counter
    expect(alphaAt(r, 512, 290)).toBe(255); // the stroke
    expect(alphaAt(r, 5, 5)).toBe(0);
  }, 60_000);

  test("white letters on a filled badge stay opaque, while the counter of a letter drawn in ink goes", async () => {
    // A teal badge with three white bars (letters) and, beside it, a dark "o" on the page.
    const r = await auto(
      onWhitePage(
        `<circle cx="380" cy="512" r="330" fill="#00A3A3"/>` +
          `<rect x="230" y="400" width="40" height="220" fill="#FFFFFF"/><rect x="360" y="400" width="40" height="220" fill="#FFFFFF"/><rect x="490" y="400" width="40" height="220" fill="#FFFFFF"/>` +
          `<circle cx="860" cy="512" r="90" fill="#111827"/><circle cx="860" cy="512" r="50" fill="#FFFFFF"/>`,
      ),
    );
    expect(alphaAt(r, 250, 510)).toBe(255); // a white letter on the badge
    expect(alphaAt(r, 510, 510)).toBe(255);
    expect(alphaAt(r, 860, 512)).toBe(0); // the counter of the o
    expect(alphaAt(r, 380, 250)).toBe(255); // the badge
  }, 60_000);

  test("a thick white C across a field of two shades stays; a white ring's inside in one colour goes", async () => {
    // A badge split into a light and a dark half with a white C crossing both, thick enough that its
    // surround alone (about 3x its half-stroke) would call it a counter; beside it a one-colour ring.
    const r = await auto(
      onWhitePage(
        `<rect x="20" y="150" width="680" height="724" fill="#5B9BD5"/><rect x="20" y="512" width="680" height="362" fill="#1F4E79"/>` +
          `<path d="M 500 330 A 200 200 0 1 0 500 694" fill="none" stroke="#FFFFFF" stroke-width="90"/>` +
          `<circle cx="850" cy="512" r="120" fill="#7C3AED"/><circle cx="850" cy="512" r="60" fill="#FFFFFF"/>`,
      ),
    );
    expect(alphaAt(r, 207, 512)).toBe(255); // the C's stroke, on the boundary of the two shades
    expect(alphaAt(r, 215, 420)).toBe(255);
    expect(alphaAt(r, 850, 512)).toBe(0); // the ring's inside
  }, 60_000);
});

describe("one colour keeps the drawing", () => {
  test("two colours whose luminance differs by 0.2 or more keep their boundary", async () => {
    // A navy square (luminance 0.04) with a sky-blue square (0.36) on it.
    const r = await mono(
      onWhitePage(
        `<rect x="200" y="200" width="624" height="624" fill="#1E3A5F"/><rect x="400" y="400" width="224" height="224" fill="#60A5FA"/>`,
      ),
    );
    expect(alphaAt(r, 300, 512)).not.toBe(alphaAt(r, 512, 512)); // one side ink, the other knocked out
    const edges = edgesOnRow(r, 512);
    for (const x of [200, 400, 624, 824]) expect(edges.some((e) => Math.abs(e - x) <= 2)).toBe(true);
    expect(alphaAt(r, 5, 5)).toBe(0);
  }, 60_000);

  test("anti-aliasing greys are not colours: the black frame is the ink, not its grey edges", async () => {
    // Edges at quarter pixels give long bands of one grey on each side of every black stroke.
    const r = await mono(
      onWhitePage(
        `<rect x="150.25" y="250.25" width="724" height="524" fill="none" stroke="#000000" stroke-width="48"/>` +
          `<rect x="300.75" y="380.75" width="80" height="264" fill="#000000"/><rect x="600.75" y="380.75" width="80" height="264" fill="#000000"/>`,
      ),
    );
    expect(alphaAt(r, 150, 512)).toBe(255); // the middle of the frame's stroke
    expect(alphaAt(r, 340, 512)).toBe(255); // a bar
    expect(alphaAt(r, 500, 512)).toBe(0); // inside the frame
    const edges = edgesOnRow(r, 512);
    for (const x of [126, 174, 301, 381]) expect(edges.some((e) => Math.abs(e - x) <= 2)).toBe(true);
  }, 60_000);

  test("three colours that all touch (page, pink, light pink) keep every boundary: a seam between the two", async () => {
    const r = await mono(
      onWhitePage(
        `<rect x="200" y="300" width="312" height="424" fill="#FF7A9A"/><rect x="512" y="300" width="312" height="424" fill="#FFC1EE"/>`,
      ),
    );
    const edges = edgesOnRow(r, 512);
    for (const x of [200, 512, 824]) expect(edges.some((e) => Math.abs(e - x) <= 2)).toBe(true);
  }, 60_000);
});
