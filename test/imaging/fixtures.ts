import { Resvg } from "@resvg/resvg-js";
import sharp from "sharp";
import { resvgFont } from "../../src/services/imaging/fonts";

/** Test fixtures drawn in code: flat logos rendered by resvg with the bundled font, encoded by sharp. */

export interface Fixture {
  name: string;
  /** The clean logo, PNG. */
  png: Uint8Array;
  /** The bytes handed to the image layer (the clean PNG, or a degraded JPEG of it). */
  input: Uint8Array;
  width: number;
  height: number;
  svg: string;
}

const svgDoc = (w: number, h: number, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${body}</svg>`;

export const SOURCES: Record<string, { w: number; h: number; body: string }> = {
  "two-colour": {
    w: 1024,
    h: 1024,
    body: `<rect width="1024" height="1024" fill="#FFFFFF"/><path d="M262 262h500v500h-500z M412 412v200h200v-200z" fill-rule="evenodd" fill="#111827" transform="rotate(15 512 512)"/>`,
  },
  ring: {
    w: 1024,
    h: 1024,
    body: `<rect width="1024" height="1024" fill="#F8FAFC"/><circle cx="512" cy="512" r="340" fill="#0EA5E9"/><circle cx="512" cy="512" r="170" fill="#F8FAFC"/><circle cx="512" cy="512" r="70" fill="#F97316"/>`,
  },
  "flat-5": {
    w: 1024,
    h: 1024,
    body: `<rect width="1024" height="1024" fill="#FFFFFF"/><rect x="112" y="112" width="360" height="360" rx="60" fill="#7C3AED"/><circle cx="712" cy="292" r="180" fill="#059669"/><polygon points="292,552 472,912 112,912" fill="#DC2626"/><rect x="552" y="552" width="360" height="360" fill="#1F2937"/>`,
  },
  "flat-8": {
    w: 1024,
    h: 1024,
    body: `<rect width="1024" height="1024" fill="#FFFFFF"/>${[
      "#EF4444",
      "#F59E0B",
      "#10B981",
      "#3B82F6",
      "#8B5CF6",
      "#EC4899",
      "#111827",
    ]
      .map(
        (c, i) =>
          `<circle cx="${512 + 300 * Math.cos((i * 2 * Math.PI) / 7)}" cy="${512 + 300 * Math.sin((i * 2 * Math.PI) / 7)}" r="120" fill="${c}"/>`,
      )
      .join("")}`,
  },
  "thin-strokes": {
    w: 1024,
    h: 1024,
    body: `<rect width="1024" height="1024" fill="#FFFFFF"/><g fill="none" stroke="#1E3A8A" stroke-width="6"><circle cx="512" cy="512" r="380"/><circle cx="512" cy="512" r="300"/><path d="M212 512h600M512 212v600M300 300l424 424M724 300l-424 424"/></g>`,
  },
  text: {
    w: 1024,
    h: 1024,
    body: `<rect width="1024" height="1024" fill="#FEF3C7"/><circle cx="512" cy="380" r="200" fill="#B45309"/><text x="512" y="450" font-family="DejaVu Sans" font-weight="bold" font-size="200" text-anchor="middle" fill="#FEF3C7">AC</text><text x="512" y="800" font-family="DejaVu Sans" font-weight="bold" font-size="110" text-anchor="middle" fill="#1F2937">Acme Co</text>`,
  },
  "wide-2048": {
    w: 2048,
    h: 1024,
    body: `<rect width="2048" height="1024" fill="#FFFFFF"/><circle cx="512" cy="512" r="300" fill="#2563EB"/><circle cx="512" cy="512" r="140" fill="#FFFFFF"/><text x="900" y="600" font-family="DejaVu Sans" font-weight="bold" font-size="260" fill="#111827">Orbit</text>`,
  },
};

export function renderSvgRaw(svg: string, width: number): { data: Uint8Array; width: number; height: number } {
  const img = new Resvg(svg, { font: resvgFont, fitTo: { mode: "width", value: width } }).render();
  return { data: new Uint8Array(img.pixels), width: img.width, height: img.height };
}

export function renderPng(svg: string): Uint8Array {
  return new Uint8Array(new Resvg(svg, { font: resvgFont }).render().asPng());
}

export async function raw(bytes: Uint8Array): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** mulberry32: a seeded PRNG so the noisy fixture is the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generated-looking version of a flat logo: slight blur, gaussian noise (σ≈6), JPEG quality 75. */
export async function noisyJpeg(png: Uint8Array, seed = 42): Promise<Uint8Array> {
  const { data, info } = await sharp(png).removeAlpha().blur(0.8).raw().toBuffer({ resolveWithObject: true });
  const rand = prng(seed);
  for (let i = 0; i < data.length; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    data[i] = Math.max(0, Math.min(255, Math.round((data[i] as number) + 6 * g)));
  }
  const jpeg = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .jpeg({ quality: 75 })
    .toBuffer();
  return new Uint8Array(jpeg);
}

export async function fixture(name: string): Promise<Fixture> {
  const base = name === "noisy-jpeg" ? "flat-5" : name;
  const s = SOURCES[base];
  if (!s) throw new Error(`no fixture ${name}`);
  const svg = svgDoc(s.w, s.h, s.body);
  const png = renderPng(svg);
  const input = name === "noisy-jpeg" ? await noisyJpeg(png) : png;
  return { name, png, input, width: s.w, height: s.h, svg };
}

export const FIXTURES = [...Object.keys(SOURCES), "noisy-jpeg"];

/** Fraction of pixels where any channel (RGBA) differs by more than `threshold`. */
export function diffFraction(
  a: { data: Uint8Array; width: number; height: number },
  b: { data: Uint8Array; width: number; height: number },
  threshold = 32,
): number {
  if (a.width !== b.width || a.height !== b.height)
    throw new Error(`size ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let off = 0;
  const n = a.width * a.height;
  for (let p = 0; p < n; p++) {
    const o = p * 4;
    for (let c = 0; c < 4; c++)
      if (Math.abs((a.data[o + c] as number) - (b.data[o + c] as number)) > threshold) {
        off++;
        break;
      }
  }
  return off / n;
}

/**
 * Fidelity of a vector result against the clean source: re-rendered by resvg at the source size and
 * composited on the source's background colour (its top-left pixel), since an SVG draws no backdrop.
 */
export async function fidelity(f: Fixture, svg: string): Promise<number> {
  const clean = await raw(f.png);
  const rendered = renderSvgRaw(svg, f.width);
  const d = rendered.data;
  for (let o = 0; o < d.length; o += 4) {
    const a = (d[o + 3] as number) / 255;
    // resvg's pixels are premultiplied: the background shows through as bg × (1 − alpha), added
    for (let c = 0; c < 3; c++) d[o + c] = Math.round((d[o + c] as number) + (clean.data[c] as number) * (1 - a));
    d[o + 3] = 255;
  }
  return diffFraction(clean, rendered);
}

export const countPaths = (svg: string) => (svg.match(/<(path|rect|circle|ellipse|polygon|polyline)\b/g) ?? []).length;

/** A 1024² logo drawn on a white page: `body` is the drawing. */
export const onWhitePage = (body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 1024 1024"><rect width="1024" height="1024" fill="#FFFFFF"/>${body}</svg>`;

/** The alpha of pixel (x, y) of an RGBA raster. */
export const alphaAt = (r: { data: Uint8Array; width: number }, x: number, y: number) =>
  r.data[(y * r.width + x) * 4 + 3] as number;
