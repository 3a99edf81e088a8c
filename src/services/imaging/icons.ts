import sharp from "sharp";
import { setText } from "./lockup-fonts";
import { hex } from "./quantize";
import { element, masterViewport, serializeSvg } from "./sanitize";
import { renderSvg } from "./source";
import { alphaBox, edgeColour, removeBackground } from "./transparent";
import type { AssetFile, Raster, RGB } from "./types";
import { analyseMark, boxOf, cutOut, firstLetter, type MarkAnalysis } from "./wordmark";

/**
 * Icon files from a source: the mark is the source with its edge-connected background removed,
 * cropped to its bounding box, then placed on a square of the background colour at each size.
 */

export interface Mark {
  /** The mark alone (transparent around it), cropped to its bounding box. */
  mark: Raster;
  /** The mark's bounding box in the source's pixels. */
  box: Box;
  /** The source's background colour (the median of its edge). */
  background: RGB;
  /** The SVG the mark was drawn from when it is not the source's (a monogram); `box` is in its pixels. */
  master?: { svg: string; width: number; height: number };
  /**
   * Ink of the logo that is not this mark (a wordmark's letters) lies inside `box` or the square favicon.svg
   * shows around it: a window onto the source's vector would show it, so the mark's SVG is traced from `mark`
   * (where it is cut out) instead.
   */
  stray?: boolean;
}

export type MarkRule = "auto" | "whole";

/** The share of favicon.svg's square the mark's larger side fills (the rest is the window around it). */
const WINDOW_FILL = 0.9;

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The part of a raster inside `box`. */
export function crop(img: Raster, box: Box): Raster {
  const data = new Uint8Array(box.width * box.height * 4);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * img.width + box.left) * 4;
    data.set(img.data.subarray(from, from + box.width * 4), y * box.width * 4);
  }
  return { data, width: box.width, height: box.height };
}

export function extractMark(source: Raster, transparent?: Raster): Mark {
  const edge = edgeColour(source);
  // A source that is already transparent at its edge has no background colour: icons default to white.
  const background: RGB = edge.alpha < 128 ? [255, 255, 255] : edge.colour;
  const cut = transparent ?? removeBackground(source, "border", 10);
  const box = alphaBox(cut);
  if (!box) return { mark: cut, box: { left: 0, top: 0, width: cut.width, height: cut.height }, background };
  return { mark: crop(cut, box), box, background };
}

/** The components `keep` of an analysed mark, cropped to their box, every other part left out. */
function part(m: Mark, a: MarkAnalysis, keep: number[]): Mark {
  const s = boxOf(a, keep, m.mark.width, m.mark.height);
  const kept = new Set(keep);
  const ink = a.components.reduce((t, c) => t + c.area, 0);
  const text = new Set(a.lines.flat());
  const drop = new Set<number>();
  a.components.forEach((c, i) => {
    if (!kept.has(i) && (text.has(i) || c.area >= 0.0002 * ink)) drop.add(i);
  });
  // The largest window shown onto the vector: favicon.svg's square around the box (croppedSvg).
  const side = Math.max(s.width, s.height) / WINDOW_FILL;
  const wx = s.left - (side - s.width) / 2;
  const wy = s.top - (side - s.height) / 2;
  const step = a.step;
  const stray = [...drop].some((i) => {
    const c = a.components[i];
    return (
      c !== undefined &&
      (c.x1 + 1) * step > wx &&
      c.x0 * step < wx + side &&
      (c.y1 + 1) * step > wy &&
      c.y0 * step < wy + side
    );
  });
  return {
    mark: cutOut(m.mark, a, s, drop),
    box: { left: m.box.left + s.left, top: m.box.top + s.top, width: s.width, height: s.height },
    background: m.background,
    ...(stray ? { stray } : {}),
  };
}

/** The first letter (or digit) of a name, as written; null when it has none. */
export function monogramLetter(name: string): string | null {
  return name.match(/[\p{L}\p{N}]/u)?.[0] ?? null;
}

/** A monogram: `letter` set in the bundled sans, filled with `colour`, as a mark with its own master SVG. */
export function monogramMark(letter: string, colour: RGB, background: RGB): Mark {
  const t = setText(letter, "inter", 800);
  const pad = 200;
  const w = Math.ceil(t.width + 2 * pad);
  const h = Math.ceil(t.bottom - t.top + 2 * pad);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="${-pad} ${Math.floor(t.top - pad)} ${w} ${h}"><path d="${t.d}" fill="${hex(colour)}"/></svg>`;
  const r = renderSvg(svg);
  const box = alphaBox(r) ?? { left: 0, top: 0, width: r.width, height: r.height };
  return { mark: crop(r, box), box, background, master: { svg, width: r.width, height: r.height } };
}

export interface MonogramSource {
  /** The brand's name: its first letter is the monogram; without it, the wordmark's own first letter. */
  name?: string;
  /** The logo's dominant colour. */
  colour: RGB;
}

/**
 * The icon's mark: the symbol without its wordmark (`auto`), or the whole mark. A mark that is only a
 * wordmark gives a monogram: the name's first letter in the bundled font, or (no name known) the
 * wordmark's first drawn letter.
 */
export function iconMark(m: Mark, rule: MarkRule, monogram?: MonogramSource): Mark {
  if (rule === "whole") return m;
  const a = analyseMark(m.mark, m.background);
  if (a.lines.length === 0) return m;
  if (a.symbol.length > 0) return part(m, a, a.symbol);
  const letter = monogram?.name ? monogramLetter(monogram.name) : null;
  if (letter && monogram) return monogramMark(letter, monogram.colour, m.background);
  const first = firstLetter(a);
  return first.length > 0 ? part(m, a, first) : m;
}

/** The mark scaled to width×height (never distorted: the caller keeps the aspect). */
async function scaled(mark: Raster, width: number, height: number): Promise<Buffer> {
  return sharp(mark.data, { raw: { width: mark.width, height: mark.height, channels: 4 } })
    .resize({ width, height, fit: "fill", kernel: "lanczos3" })
    .raw()
    .toBuffer();
}

/** A canvas of `background`, `width`×`height`, with the mark centred and scaled by `scale`; opaque RGB PNG. */
export async function place(
  m: Raster,
  background: RGB,
  width: number,
  height: number,
  scale: number,
): Promise<Uint8Array> {
  const mw = Math.max(1, Math.round(m.width * scale));
  const mh = Math.max(1, Math.round(m.height * scale));
  const input = await scaled(m, mw, mh);
  const buf = await sharp({
    create: { width, height, channels: 3, background: { r: background[0], g: background[1], b: background[2] } },
  })
    .composite([
      {
        input,
        raw: { width: mw, height: mh, channels: 4 },
        left: Math.floor((width - mw) / 2),
        top: Math.floor((height - mh) / 2),
      },
    ])
    .removeAlpha()
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Scale so the mark fits a box of `fraction` of the canvas. */
export const fitScale = (m: Raster, width: number, height: number, fraction: number) =>
  Math.min((width * fraction) / m.width, (height * fraction) / m.height);

/**
 * Scale so every drawn pixel of the mark (alpha > 16), centred, lies inside a centred circle of diameter
 * `fraction`·size (the maskable safe zone), less `margin` px for resampling; a round mark fills the circle,
 * where its bounding box would leave it at 71% of it. Never above `fraction` of the side.
 */
export function circleScale(m: Raster, size: number, fraction: number, margin = 3): number {
  const cx = m.width / 2;
  const cy = m.height / 2;
  let r2 = 0;
  for (let y = 0; y < m.height; y++) {
    const dy = Math.abs(y + 0.5 - cy) + 0.5;
    for (let x = 0; x < m.width; x++) {
      if ((m.data[(y * m.width + x) * 4 + 3] as number) <= 16) continue;
      const dx = Math.abs(x + 0.5 - cx) + 0.5;
      if (dx * dx + dy * dy > r2) r2 = dx * dx + dy * dy;
    }
  }
  const r = Math.sqrt(r2) || Math.hypot(m.width, m.height) / 2;
  return ((size * fraction) / 2 - margin) / r;
}

/** An ICO holding PNG images (Vista+ format): 6-byte header, 16-byte entries, then the PNGs. */
export function buildIco(images: { size: number; png: Uint8Array }[]): Uint8Array {
  const headerSize = 6 + 16 * images.length;
  const total = headerSize + images.reduce((s, i) => s + i.png.byteLength, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0, true);
  v.setUint16(2, 1, true);
  v.setUint16(4, images.length, true);
  let offset = headerSize;
  images.forEach((img, i) => {
    const e = 6 + 16 * i;
    v.setUint8(e, img.size >= 256 ? 0 : img.size);
    v.setUint8(e + 1, img.size >= 256 ? 0 : img.size);
    v.setUint8(e + 2, 0);
    v.setUint8(e + 3, 0);
    v.setUint16(e + 4, 1, true);
    v.setUint16(e + 6, 32, true);
    v.setUint32(e + 8, img.png.byteLength, true);
    v.setUint32(e + 12, offset, true);
    out.set(img.png, offset);
    offset += img.png.byteLength;
  });
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** `name` cut to at most `max` characters, at a word boundary where one exists. */
export function shortName(name: string, max = 12): string {
  const n = name.trim().replace(/\s+/g, " ");
  if (n.length <= max) return n;
  const cut = n.slice(0, max + 1);
  const space = cut.lastIndexOf(" ");
  return (space > 0 ? cut.slice(0, space) : n.slice(0, max)).trim();
}

const f1 = (v: number) => String(Math.round(v * 10) / 10);

/**
 * A square SVG showing only `box` (raster pixels of a `width`×`height` raster) of the vector master,
 * centred, its larger side `fill` of the square: nested viewports, so the master's paths are kept as they are.
 */
export function croppedSvg(
  master: { svg: string; width: number; height: number },
  box: Box,
  fill = WINDOW_FILL,
): string {
  const side = Math.max(box.width, box.height) / fill;
  const x = box.left - (side - box.width) / 2;
  const y = box.top - (side - box.height) / 2;
  const root = element(
    "svg",
    [
      ["version", "1.1"],
      ["width", "512"],
      ["height", "512"],
      ["viewBox", `${f1(x)} ${f1(y)} ${f1(side)} ${f1(side)}`],
    ],
    [masterViewport(master)],
  );
  return serializeSvg(root);
}

export interface IconOptions {
  /** The brand's name for site.webmanifest (`name`; `short_name` is it cut to 12 characters). */
  name?: string;
  /** "#RRGGBB" for theme_color (default: the background). */
  theme?: string;
}

export async function makeIcons(
  m: Mark,
  background: RGB,
  master: { svg: string; width: number; height: number },
  opts: IconOptions = {},
): Promise<AssetFile[]> {
  const mark = m.mark;
  const faviconSvg = { svg: croppedSvg(m.master ?? master, m.box), width: 512, height: 512 };
  const png = (name: string, bytes: Uint8Array, size: number): AssetFile => ({
    name,
    contentType: "image/png",
    bytes,
    width: size,
    height: size,
  });
  const square = (size: number, fraction: number) =>
    place(mark, background, size, size, fitScale(mark, size, size, fraction));
  const [ico16, ico32, ico48, apple, i192, i512, maskable] = await Promise.all([
    square(16, 1),
    square(32, 0.96),
    square(48, 0.94),
    square(180, 0.8),
    square(192, 0.8),
    square(512, 0.8),
    place(mark, background, 512, 512, Math.min(circleScale(mark, 512, 0.8), fitScale(mark, 512, 512, 0.8))),
  ]);
  const bg = hex(background);
  const name = opts.name?.trim() || "Logo";
  const manifest = {
    name,
    short_name: shortName(name),
    icons: [
      { src: "icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
      { src: "icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
      { src: "icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
    ],
    background_color: bg,
    theme_color: opts.theme ?? bg,
    display: "standalone",
  };
  const head = [
    '<link rel="icon" href="favicon.ico" sizes="16x16 32x32 48x48">',
    '<link rel="icon" href="favicon.svg" type="image/svg+xml">',
    '<link rel="apple-touch-icon" href="apple-touch-icon.png" sizes="180x180">',
    '<link rel="icon" href="icon-192.png" type="image/png" sizes="192x192">',
    '<link rel="icon" href="icon-512.png" type="image/png" sizes="512x512">',
    '<link rel="icon" href="icon-maskable-512.png" type="image/png" sizes="512x512">',
    '<link rel="manifest" href="site.webmanifest">',
    "",
  ].join("\n");
  return [
    {
      name: "favicon.ico",
      contentType: "image/x-icon",
      bytes: buildIco([
        { size: 16, png: ico16 },
        { size: 32, png: ico32 },
        { size: 48, png: ico48 },
      ]),
      width: null,
      height: null,
    },
    {
      name: "favicon.svg",
      contentType: "image/svg+xml",
      bytes: utf8(faviconSvg.svg),
      width: faviconSvg.width,
      height: faviconSvg.height,
    },
    png("apple-touch-icon.png", apple, 180),
    png("icon-192.png", i192, 192),
    png("icon-512.png", i512, 512),
    png("icon-maskable-512.png", maskable, 512),
    {
      name: "site.webmanifest",
      contentType: "application/manifest+json",
      bytes: utf8(`${JSON.stringify(manifest, null, 2)}\n`),
      width: null,
      height: null,
    },
    { name: "head.html", contentType: "text/html", bytes: utf8(head), width: null, height: null },
  ];
}
