import { describe, expect, test } from "bun:test";
import { assetOptions } from "../../src/services/deliverables";
import { makeAsset } from "../../src/services/deliverables/make";
import { setText } from "../../src/services/imaging/lockup-fonts";
import { analyseMark, components } from "../../src/services/imaging/wordmark";
import { onWhitePage, raw, renderPng, renderSvgRaw } from "./fixtures";

/**
 * Icons from the mark: logos drawn with real type (the bundled fonts' outlines) beside or under a symbol;
 * the icon must hold the symbol and no letter, and a wordmark alone must give a monogram.
 */

const limits = { maxPixels: 25_000_000 };

/** `text` set in `font` with its baseline at (x, y), cap height about `cap` px. */
function words(text: string, font: "inter" | "lora" | "montserrat", x: number, y: number, cap: number, fill: string) {
  const size = cap / 0.73;
  const t = setText(text, font, size);
  return { svg: `<path transform="translate(${x} ${y})" d="${t.d}" fill="${fill}"/>`, width: t.width };
}

/** Non-background pixels of an icon (differing from its corner colour by > 32), as an RGBA raster's alpha. */
function ink(r: { data: Uint8Array; width: number; height: number }) {
  const d = new Uint8Array(r.data);
  for (let p = 0; p < r.width * r.height; p++) {
    const o = p * 4;
    let off = false;
    for (let c = 0; c < 3; c++) if (Math.abs((d[o + c] as number) - (d[c] as number)) > 32) off = true;
    d[o + 3] = off ? 255 : 0;
  }
  return { data: d, width: r.width, height: r.height };
}

/** The icon-512 of a logo: its drawn parts (connected components that matter) and their bounding box. */
async function icon(svg: string, options: Record<string, unknown> = {}, brandName: string | null = null) {
  const files = await makeAsset("icons", renderPng(svg), assetOptions("icons", options), limits, { brandName });
  const r = ink(await raw(files.find((f) => f.name === "icon-512.png")?.bytes ?? new Uint8Array()));
  const all = components(r).components;
  const total = all.reduce((s, c) => s + c.area, 0);
  const parts = all.filter((c) => c.area > 0.002 * total);
  const x0 = Math.min(...parts.map((c) => c.x0));
  const x1 = Math.max(...parts.map((c) => c.x1));
  const y0 = Math.min(...parts.map((c) => c.y0));
  const y1 = Math.max(...parts.map((c) => c.y1));
  // The ink's median colour (anti-aliased edges aside).
  const channel = (c: number) => {
    const v: number[] = [];
    for (let p = 0; p < 512 * 512; p++) if (r.data[p * 4 + 3]) v.push(r.data[p * 4 + c] as number);
    return v.sort((a, b) => a - b)[v.length >> 1] ?? 0;
  };
  const colour = [channel(0), channel(1), channel(2)];
  return { parts: parts.length, w: x1 - x0 + 1, h: y1 - y0 + 1, colour, files };
}

describe("icons from the mark", () => {
  test("a symbol a little taller than the letters beside it, same colour, close: the icon is the symbol alone", async () => {
    // A violet disc 1.27× the cap height, centred on the capitals, then "Brandly" (descender included).
    const t = words("Brandly", "inter", 300, 560, 110, "#5B21B6");
    const i = await icon(onWhitePage(`<circle cx="200" cy="505" r="70" fill="#5B21B6"/>${t.svg}`));
    expect(i.parts).toBe(1);
    expect(Math.abs(i.w / i.h - 1)).toBeLessThan(0.05);
    expect(Math.max(i.w, i.h)).toBeGreaterThanOrEqual(0.7 * 512);
  }, 60_000);

  test("a symbol in another colour, the text in a serif beside it", async () => {
    const t = words("Harbour", "lora", 360, 560, 120, "#111827");
    const i = await icon(
      onWhitePage(`<rect x="120" y="400" width="190" height="190" rx="40" fill="#0EA5E9"/>${t.svg}`),
    );
    expect(i.parts).toBe(1);
    expect(Math.abs(i.w / i.h - 1)).toBeLessThan(0.05);
    expect(i.colour[2]).toBeGreaterThan(150); // sky blue, not the near-black text
  }, 60_000);

  test("text under the symbol (stacked), and a wide symbol that is not text stays whole", async () => {
    // A wide lozenge (3:1, one shape) over a line of text.
    const t = words("Ferrous", "montserrat", 330, 760, 90, "#334155");
    const i = await icon(onWhitePage(`<ellipse cx="512" cy="430" rx="300" ry="100" fill="#DC2626"/>${t.svg}`));
    expect(i.parts).toBe(1);
    expect(i.w / i.h).toBeGreaterThan(2.7);
    expect(i.w / i.h).toBeLessThan(3.3);
  }, 60_000);

  test("a word whose letters are joined (a script, a rule under the letters) is text too; a row of drawn shapes is not", async () => {
    // A blue bow tie, centred on and shorter than "Wave let", each word one shape (its letters stand on a rule, as a
    // script's are joined): two parts beside the symbol, too few for a line of separate letters.
    const a = setText("Wave", "lora", 110 / 0.73);
    const b = setText("let", "lora", 110 / 0.73);
    const bx = 380 + a.width + 24;
    const word =
      `<g fill="#1F2937"><path transform="translate(380 560)" d="${a.d}"/><rect x="384" y="552" width="${a.width - 8}" height="10"/>` +
      `<path transform="translate(${bx} 560)" d="${b.d}"/><rect x="${bx + 4}" y="552" width="${b.width - 8}" height="10"/></g>`;
    const bowTie = (x: number, fill: string) =>
      `<path transform="translate(${x} 0)" d="M90 470 L210 495 L330 470 L330 540 L210 515 L90 540 Z" fill="${fill}"/>`;
    const logo = onWhitePage(`${bowTie(0, "#3B82F6")}${word}`);
    const r = renderSvgRaw(logo, 1024);
    for (let p = 0; p < r.width * r.height; p++)
      if ((r.data[p * 4] as number) > 240 && (r.data[p * 4 + 1] as number) > 240) r.data[p * 4 + 3] = 0;
    const analysis = analyseMark(r);
    expect(analysis.lines.map((l) => l.length)).toEqual([2]);
    expect(analysis.symbol.map((i) => analysis.components[i]?.x1)).toEqual([329]);
    const i = await icon(logo);
    expect(i.parts).toBe(1);
    expect(i.w / i.h).toBeGreaterThan(3);
    expect(i.colour[2]).toBeGreaterThan(200); // the blue tie, not the near-black word
    expect(i.colour[0]).toBeLessThan(100);
    // Two bow ties side by side, one colour: wide and aligned, but crossed once each through the middle.
    const ties = await icon(onWhitePage(`${bowTie(0, "#1F2937")}${bowTie(300, "#1F2937")}`));
    expect(ties.parts).toBe(2);
  }, 60_000);

  test("letters joined into one heavy part at the start of a line stay text: the icon is the disc beside them", async () => {
    // A crimson disc, then "Wav" as one part (its letters stand on a rule) and "elet" in separate letters, all one
    // colour: the joined part has far more ink than a letter, as a symbol would.
    const joined = setText("Wav", "inter", 110 / 0.73);
    const rest = words("elet", "inter", 330 + joined.width + 10, 560, 110, "#E11D48");
    const logo = onWhitePage(
      `<circle cx="200" cy="505" r="75" fill="#E11D48"/><g fill="#E11D48"><path transform="translate(330 560)" d="${joined.d}"/>` +
        `<rect x="334" y="552" width="${joined.width - 8}" height="10"/></g>${rest.svg}`,
    );
    const i = await icon(logo);
    expect(i.parts).toBe(1);
    expect(Math.abs(i.w / i.h - 1)).toBeLessThan(0.05);
  }, 60_000);

  test("a wordmark of two colours is text in both: the icon is the thin symbol, not the letters of the other colour", async () => {
    // "My" in blue, "SQL" in amber (as MySQL's), and a thin blue arc over the end of the name: "My"'s letters do not
    // line up with the capitals by themselves (the y hangs below them), and together they outweigh the arc.
    const my = words("My", "inter", 120, 560, 110, "#00618A");
    const base = words("SQL", "inter", 120 + my.width + 4, 560, 110, "#E48E00");
    const arc = `<path d="M640 400 Q780 300 900 420" stroke="#00618A" stroke-width="14" fill="none"/>`;
    const i = await icon(onWhitePage(`${my.svg}${base.svg}${arc}`));
    expect(i.parts).toBe(1);
    expect(i.w / i.h).toBeGreaterThan(1.8); // the arc, wide and low; not "My"
    expect(i.colour[2]).toBeGreaterThan(100); // blue
  }, 60_000);

  test("mark: whole keeps the wordmark", async () => {
    const t = words("Brandly", "inter", 300, 560, 110, "#5B21B6");
    const i = await icon(onWhitePage(`<circle cx="200" cy="505" r="70" fill="#5B21B6"/>${t.svg}`), { mark: "whole" });
    expect(i.parts).toBeGreaterThan(5);
  }, 60_000);

  test("a wordmark alone gives a monogram: the name's first letter in the bundled font and the mark's colour", async () => {
    const t = words("kolibri", "lora", 200, 560, 150, "#0F766E");
    const i = await icon(onWhitePage(t.svg), {}, "Kolibri Labs");
    expect(i.parts).toBe(1);
    expect(Math.max(i.w, i.h)).toBeGreaterThanOrEqual(0.7 * 512);
    // Inter's capital K: taller than wide, in the teal of the text.
    expect(i.h / i.w).toBeGreaterThan(1.1);
    for (const [c, v] of [0x0f, 0x76, 0x6e].entries()) expect(Math.abs((i.colour[c] as number) - v)).toBeLessThan(40);
    const favicon = new TextDecoder().decode(i.files.find((f) => f.name === "favicon.svg")?.bytes);
    const rendered = renderSvgRaw(favicon, 256);
    const drawn = components(rendered).components.filter((c) => c.area > 50);
    expect(drawn.length).toBe(1); // the letter, not the word
  }, 60_000);

  test("a wordmark alone and no name known: the wordmark's own first letter", async () => {
    const t = words("kolibri", "lora", 200, 560, 150, "#0F766E");
    const i = await icon(onWhitePage(t.svg));
    expect(i.parts).toBe(1);
    // Lora's lowercase k as drawn in the logo: taller than wide, with its ascender.
    expect(i.h / i.w).toBeGreaterThan(1.2);
    expect(Math.max(i.w, i.h)).toBeGreaterThanOrEqual(0.7 * 512);
  }, 60_000);

  test("the analysis finds the line of text and the symbol", () => {
    const t = words("Brandly", "inter", 300, 560, 110, "#5B21B6");
    expect(300 + t.width).toBeLessThan(1000);
    const r = renderSvgRaw(onWhitePage(`<circle cx="200" cy="505" r="70" fill="#5B21B6"/>${t.svg}`), 1024);
    // Key out white as the cut does, so the analysis sees the drawing.
    for (let p = 0; p < r.width * r.height; p++)
      if ((r.data[p * 4] as number) > 240 && (r.data[p * 4 + 1] as number) > 240) r.data[p * 4 + 3] = 0;
    const a = analyseMark(r);
    expect(a.lines.length).toBe(1);
    expect(a.symbol.length).toBe(1);
    const s = a.components[a.symbol[0] as number];
    expect(s && s.x1 < 300).toBe(true);
  });
});

describe("lockups from the mark", () => {
  /** Columns of lockup.png that hold ink, counted as runs: the mark, then one run per letter of the name. */
  async function lockupRuns(svg: string, options: Record<string, unknown>): Promise<number> {
    const files = await makeAsset("lockup", renderPng(svg), assetOptions("lockup", options), limits);
    const r = await raw(files.find((f) => f.name === "lockup.png")?.bytes ?? new Uint8Array());
    let runs = 0;
    let inside = false;
    for (let x = 0; x < r.width; x++) {
      let ink = false;
      for (let y = 0; y < r.height && !ink; y++) ink = (r.data[(y * r.width + x) * 4 + 3] as number) > 127;
      if (ink && !inside) runs++;
      inside = ink;
    }
    return runs;
  }

  test("a logo that spells its name is set with its symbol alone (mark: auto), the whole logo with mark: whole", async () => {
    const t = words("Brandly", "inter", 300, 560, 110, "#5B21B6");
    const logo = onWhitePage(`<circle cx="200" cy="505" r="70" fill="#5B21B6"/>${t.svg}`);
    // The disc, then B-r-a-n-d-l-y once.
    expect(await lockupRuns(logo, { text: "Brandly" })).toBe(8);
    // The disc and the logo's own seven letters, then the name's seven.
    expect(await lockupRuns(logo, { text: "Brandly", mark: "whole" })).toBe(15);
  }, 60_000);

  test("a wordmark alone is set as its monogram beside the name", async () => {
    const t = words("Quanta", "inter", 200, 560, 140, "#0F766E");
    // The monogram Q, then Q-u-a-n-t-a.
    expect(await lockupRuns(onWhitePage(t.svg), { text: "Quanta" })).toBe(7);
  }, 60_000);
});

describe("the mark's own vector", () => {
  test("favicon.svg and lockup.svg show no letter of a wordmark that reaches into the symbol's window", async () => {
    // A disc with the name right under it: favicon.svg's square window around the disc takes in the letters' tops.
    const t = words("Lumen", "inter", 330, 760, 120, "#1E3A8A");
    const logo = renderPng(onWhitePage(`<circle cx="512" cy="470" r="190" fill="#1E3A8A"/>${t.svg}`));
    const files = await makeAsset("icons", logo, assetOptions("icons", {}), limits, { brandName: "Lumen" });
    const svg = new TextDecoder().decode(files.find((f) => f.name === "favicon.svg")?.bytes);
    const drawn = ink(renderSvgRaw(svg, 512));
    const all = components(drawn).components;
    const total = all.reduce((s, c) => s + c.area, 0);
    // One part, the disc: no sliver of L-u-m-e-n along the bottom.
    expect(all.filter((c) => c.area > 0.002 * total).length).toBe(1);
    const lockup = await makeAsset("lockup", logo, assetOptions("lockup", { text: "Lumen" }), limits);
    const lsvg = new TextDecoder().decode(lockup.find((f) => f.name === "lockup.svg")?.bytes);
    const l = components(ink(renderSvgRaw(lsvg, 1024))).components;
    const ltotal = l.reduce((s, c) => s + c.area, 0);
    // The disc and the five letters of the name, nothing else.
    expect(l.filter((c) => c.area > 0.002 * ltotal).length).toBe(6);
  }, 60_000);
});
