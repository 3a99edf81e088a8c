/**
 * `npm run bench:quality`: the deliverables measured on real logos, beside the anchors, in one run.
 *
 *   npm run bench:quality                      the full sample (docs/quality.md has its figures)
 *   npm run bench:quality -- --small --check   the CI sample; exit 1 when a goal is missed
 *   npm run bench:quality -- --only=transparent --population
 *                                              every flat, visible devicon logo (no degraded copies), not a sample:
 *                                              how the transparent modes fare beyond the 64 (docs/quality.md)
 *   npm run bench:quality -- --only=icons,lockup --logos=dart,hadoop-wordmark
 *                                              while working on one kind: only those measures (vector, mono,
 *                                              transparent, icons, lockup, time), only logos whose name
 *                                              contains one of the words; goals of skipped measures are not judged
 *
 * Logos: @iconify-json/devicon (pinned), flat ones only (no gradient, mask, clip path, filter, pattern or
 * image), a fixed sample chosen by name order: wordmark logos (`x-wordmark`, whose symbol alone `x` is the
 * truth for the icon's mark) and plain ones. Each is rendered by resvg at 1024² with a margin, on white (the
 * source) and on a transparent canvas (the truth for alpha); every third also as a degraded copy (blur σ 0.7,
 * JPEG quality 70), judged against the clean renders.
 *
 * Per logo and kind: vector pixels off (any channel > 32, composited on the source's background), bytes and
 * paths, beside the anchors (potrace, Debian's, for monochrome logos; the vectorizer with its default
 * settings, what vtracer gives, for colour ones); mono boundary recall (source colour-boundary pixels within
 * 2 px of a boundary of the one-colour rendering); transparent mask IoU (alpha > 127) for border, all and
 * auto, leaving out parts of the logo invisible in the source (white, joined to the white outside); icon mark IoU against the symbol alone at 64 px; lockup legibility (Debian's tesseract reads the
 * text of lockup.png); each kind's p50 time on a 1024² logo, in this process.
 *
 * Writes artifacts/quality/results.json, the worst five vector logos side by side (source, ours, anchor) as
 * artifacts/quality/worst-N.png, and (full sample) bench/results-quality.json. Needs the `potrace` and
 * `tesseract` commands (Debian: apt-get install potrace tesseract-ocr).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vectorize } from "@neplex/vectorizer";
import { Resvg } from "@resvg/resvg-js";
import sharp from "sharp";
import { makeAsset } from "../src/services/deliverables/make";
import { FONT_FAMILIES } from "../src/services/imaging/font-families";
import { resvgFont } from "../src/services/imaging/fonts";
import { quantize } from "../src/services/imaging/quantize";
import { floodFromEdge } from "../src/services/imaging/transparent";
import type { Raster } from "../src/services/imaging/types";

const args = new Set(process.argv.slice(2));
const SMALL = args.has("--small");
const POPULATION = args.has("--population");
const CHECK = args.has("--check");
const listArg = (flag: string) =>
  [...args]
    .find((a) => a.startsWith(`--${flag}=`))
    ?.slice(flag.length + 3)
    .split(",")
    .filter(Boolean) ?? null;
const ONLY = listArg("only");
const LOGOS = listArg("logos");
const runs = (measure: "vector" | "mono" | "transparent" | "icons" | "lockup" | "time") =>
  ONLY === null || ONLY.includes(measure);
const PARTIAL = ONLY !== null || LOGOS !== null || POPULATION;
const OUT = join(import.meta.dir, "..", "artifacts", "quality");
mkdirSync(OUT, { recursive: true });
const SIDE = 1024;
const limits = { maxPixels: 25_000_000 };
const require = createRequire(import.meta.url);
const devicon = require("@iconify-json/devicon/icons.json") as {
  icons: Record<string, { body: string; width?: number; height?: number }>;
  width: number;
  height: number;
};
const deviconVersion = (require("@iconify-json/devicon/package.json") as { version: string }).version;

// ---------------------------------------------------------------- the sample

const FLAT_BAD = /Gradient|<mask|<clipPath|<filter|<pattern|<image|opacity|<use|<text/;
const flat = (name: string) => {
  const i = devicon.icons[name];
  return !!i && !FLAT_BAD.test(i.body);
};

function svgOf(name: string, background: string | null): string {
  const i = devicon.icons[name];
  if (!i) throw new Error(`no icon ${name}`);
  const w = i.width ?? devicon.width;
  const h = i.height ?? devicon.height;
  const side = Math.max(w, h) * 1.2; // a margin of 10% on the longest side, as generated logos have
  const x = (w - side) / 2;
  const y = (h - side) / 2;
  const bg = background ? `<rect x="${x}" y="${y}" width="${side}" height="${side}" fill="${background}"/>` : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SIDE}" height="${SIDE}" viewBox="${x} ${y} ${side} ${side}">${bg}${i.body}</svg>`;
}

function render(svg: string, width = SIDE): Raster {
  const img = new Resvg(svg, { font: resvgFont, fitTo: { mode: "width", value: width } }).render();
  return { data: new Uint8Array(img.pixels), width: img.width, height: img.height };
}

async function png(r: Raster, channels: 3 | 4 = 4): Promise<Uint8Array> {
  let s = sharp(r.data, { raw: { width: r.width, height: r.height, channels: 4 } });
  if (channels === 3) s = s.removeAlpha();
  return new Uint8Array(await s.png().toBuffer());
}

async function decode(bytes: Uint8Array): Promise<Raster> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** Share of pixels differing from white by more than 32 in a channel (an invisible logo is skipped). */
function inkShare(r: Raster): number {
  let ink = 0;
  for (let o = 0; o < r.data.length; o += 4)
    if ((r.data[o] as number) < 223 || (r.data[o + 1] as number) < 223 || (r.data[o + 2] as number) < 223) ink++;
  return ink / (r.width * r.height);
}

interface Logo {
  id: string;
  name: string;
  /** The symbol alone, for a wordmark logo. */
  symbol: string | null;
  degraded: boolean;
  input: Uint8Array;
  clean: Raster;
  truth: Raster;
  /** Colours of the mark (the clean source, quantised), background excluded. */
  colours: number;
}

function pickSample(): { name: string; symbol: string | null }[] {
  const names = Object.keys(devicon.icons).sort();
  const visible = (n: string) => flat(n) && inkShare(render(svgOf(n, "#FFFFFF"), 128)) > 0.01;
  const pairs = names.filter((n) => n.endsWith("-wordmark") && flat(n) && flat(n.slice(0, -9)));
  const plain = names.filter((n) => !n.endsWith("-wordmark") && !names.includes(`${n}-wordmark`) && flat(n));
  if (POPULATION)
    return names
      .filter((n) => flat(n) && visible(n))
      .map((n) => ({ name: n, symbol: pairs.includes(n) ? n.slice(0, -9) : null }));
  const every = <T>(list: T[], count: number) =>
    Array.from({ length: Math.min(count, list.length) }, (_, i) => list[Math.floor((i * list.length) / count)] as T);
  const nPairs = SMALL ? 6 : 32;
  const nPlain = SMALL ? 6 : 32;
  const out: { name: string; symbol: string | null }[] = [];
  for (const n of every(pairs, nPairs * 2)) {
    if (out.length >= nPairs) break;
    if (visible(n) && visible(n.slice(0, -9))) out.push({ name: n, symbol: n.slice(0, -9) });
  }
  const before = out.length;
  for (const n of every(plain, nPlain * 2)) {
    if (out.length - before >= nPlain) break;
    if (visible(n)) out.push({ name: n, symbol: null });
  }
  return out;
}

async function degrade(clean: Raster): Promise<Uint8Array> {
  const jpeg = await sharp(clean.data, { raw: { width: clean.width, height: clean.height, channels: 4 } })
    .removeAlpha()
    .blur(0.7)
    .jpeg({ quality: 70 })
    .toBuffer();
  return new Uint8Array(jpeg);
}

async function loadLogos(): Promise<Logo[]> {
  const logos: Logo[] = [];
  const picked = pickSample().filter((p) => LOGOS === null || LOGOS.some((w) => p.name.includes(w)));
  for (const [i, p] of picked.entries()) {
    const clean = render(svgOf(p.name, "#FFFFFF"));
    const truth = render(svgOf(p.name, null));
    const q = quantize(clean, 8, 0.0005);
    const total = clean.width * clean.height;
    const colours = q.palette.filter((_, k) => k !== q.background && (q.counts[k] as number) > total * 0.002).length;
    const base = { name: p.name, symbol: p.symbol, clean, truth, colours };
    logos.push({ ...base, id: p.name, degraded: false, input: await png(clean, 3) });
    if (i % 3 === 0 && !POPULATION)
      logos.push({ ...base, id: `${p.name} (degraded)`, degraded: true, input: await degrade(clean) });
  }
  return logos;
}

// ---------------------------------------------------------------- measures

const utf8 = new TextDecoder();

/**
 * Share of pixels where the SVG, composited on white, differs from the clean source by > 32 in a channel.
 * resvg's pixels are premultiplied, so white shows through as 255 × (1 − alpha) added to them.
 */
function offOnWhite(svg: string, clean: Raster): { off: number; rendered: Raster } {
  const r = render(svg, clean.width);
  let off = 0;
  const d = r.data;
  for (let o = 0; o < d.length; o += 4) {
    const a = (d[o + 3] as number) / 255;
    for (let c = 0; c < 3; c++) {
      const v = (d[o + c] as number) + 255 * (1 - a);
      d[o + c] = Math.round(v);
      if (Math.abs(v - (clean.data[o + c] as number)) > 32) {
        off++;
        break;
      }
    }
    d[o + 3] = 255;
  }
  return { off: off / (r.width * r.height), rendered: r };
}

const countPaths = (svg: string) => (svg.match(/<(path|rect|circle|ellipse|polygon|polyline)\b/g) ?? []).length;

/** WCAG relative luminance, 0..1. */
function relLum(c: readonly number[]): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c[0] as number) + 0.7152 * lin(c[1] as number) + 0.0722 * lin(c[2] as number);
}

/** Boundary pixels of the clean source: between the background and the mark, or between two mark colours
 * whose relative luminance differs by at least 0.2. */
function sourceBoundaries(clean: Raster): Uint8Array {
  const q = quantize(clean, 8, 0.0005);
  const lum = q.palette.map(relLum);
  const { width: w, height: h, labels } = q;
  const out = new Uint8Array(w * h);
  const counts = (a: number, b: number) =>
    a !== b && (a === q.background || b === q.background || Math.abs((lum[a] ?? 0) - (lum[b] ?? 0)) >= 0.2);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const l = labels[p] as number;
      if ((x + 1 < w && counts(l, labels[p + 1] as number)) || (y + 1 < h && counts(l, labels[p + w] as number)))
        out[p] = 1;
    }
  return out;
}

function maskBoundaries(mask: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if ((x + 1 < w && mask[p] !== mask[p + 1]) || (y + 1 < h && mask[p] !== mask[p + w])) out[p] = 1;
    }
  return out;
}

function dilate(m: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const tmp = new Uint8Array(w * h);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (m[y * w + x]) for (let dx = -r; dx <= r; dx++) if (x + dx >= 0 && x + dx < w) tmp[y * w + x + dx] = 1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (tmp[y * w + x]) for (let dy = -r; dy <= r; dy++) if (y + dy >= 0 && y + dy < h) out[(y + dy) * w + x] = 1;
  return out;
}

function alphaMask(r: Raster): Uint8Array {
  const m = new Uint8Array(r.width * r.height);
  for (let p = 0; p < m.length; p++) m[p] = (r.data[p * 4 + 3] as number) > 127 ? 1 : 0;
  return m;
}

function iou(a: Uint8Array, b: Uint8Array, ignore?: Uint8Array): number {
  let i = 0;
  let u = 0;
  for (let p = 0; p < a.length; p++) {
    if (ignore?.[p]) continue;
    if (a[p] && b[p]) i++;
    if (a[p] || b[p]) u++;
  }
  return u === 0 ? 1 : i / u;
}

/**
 * Parts of the logo that no one can see in the source: opaque in the transparent render, but white (within 32 of
 * the background in every channel) in the render on white and joined to the canvas edge through such white pixels
 * (a white wordmark, a white underlay touching the outside). Nothing in the source tells them from the background,
 * so they count for no mode: left out of the IoU's intersection and union alike.
 */
function invisibleParts(clean: Raster, truth: Uint8Array): Uint8Array {
  const { width: w, height: h, data } = clean;
  const white = (p: number) =>
    (data[p * 4] as number) >= 223 && (data[p * 4 + 1] as number) >= 223 && (data[p * 4 + 2] as number) >= 223;
  const out = new Uint8Array(w * h);
  floodFromEdge(out, white, w, h);
  for (let p = 0; p < out.length; p++) out[p] = out[p] && truth[p] ? 1 : 0;
  return out;
}

/** A mask cropped to its bounding box and fitted (aspect kept, centred) into size². */
async function fitMask(mask: Uint8Array, w: number, h: number, size: number): Promise<Uint8Array> {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (mask[y * w + x]) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  if (x1 < 0) return new Uint8Array(size * size);
  const grey = Buffer.alloc(w * h);
  for (let p = 0; p < w * h; p++) grey[p] = mask[p] ? 255 : 0;
  const out = await sharp(grey, { raw: { width: w, height: h, channels: 1 } })
    .extract({ left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 })
    .resize({ width: size, height: size, fit: "contain", background: { r: 0, g: 0, b: 0, alpha: 1 } })
    .extractChannel(0)
    .raw()
    .toBuffer();
  const m = new Uint8Array(size * size);
  for (let p = 0; p < m.length; p++) m[p] = (out[p] as number) > 127 ? 1 : 0;
  return m;
}

/** Mark pixels of an icon: alpha > 127 and differing from the icon's corner colour by more than 32. */
function iconMask(r: Raster): Uint8Array {
  const d = r.data;
  const bg = [d[0] as number, d[1] as number, d[2] as number, d[3] as number];
  const m = new Uint8Array(r.width * r.height);
  for (let p = 0; p < m.length; p++) {
    const o = p * 4;
    if ((d[o + 3] as number) <= 127) continue;
    if ((bg[3] as number) <= 127) m[p] = 1;
    else for (let c = 0; c < 3; c++) if (Math.abs((d[o + c] as number) - (bg[c] as number)) > 32) m[p] = 1;
  }
  return m;
}

function potraceAnchor(input: Raster, ink: readonly number[]): string {
  const { width: w, height: h, data } = input;
  const dir = mkdtempSync(join(tmpdir(), "quality-"));
  try {
    const rowBytes = Math.ceil(w / 8);
    const body = Buffer.alloc(rowBytes * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 4;
        const dInk = Math.hypot(
          (data[o] as number) - (ink[0] as number),
          (data[o + 1] as number) - (ink[1] as number),
          (data[o + 2] as number) - (ink[2] as number),
        );
        const dBg = Math.hypot(255 - (data[o] as number), 255 - (data[o + 1] as number), 255 - (data[o + 2] as number));
        if (dInk < dBg) body[y * rowBytes + (x >> 3)] = (body[y * rowBytes + (x >> 3)] as number) | (0x80 >> (x & 7));
      }
    const pbm = Buffer.concat([Buffer.from(`P4\n${w} ${h}\n`), body]);
    writeFileSync(join(dir, "in.pbm"), pbm);
    execFileSync("potrace", ["-s", "-o", join(dir, "out.svg"), join(dir, "in.pbm")]);
    const hex = `#${ink.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
    return readFileSync(join(dir, "out.svg"), "utf8").replace(/fill="#000000"/g, `fill="${hex}"`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Tesseract's reading of a lockup, taken as one block of text (`--psm 6`). Not `--psm 3` (automatic page
 * segmentation): its layout analysis drops a line of text that stands beside a graphic more than about 2.2×
 * its cap height as not text ("Empty page!!"), whatever the letters: at the bench's size (caps ~90 px), a plain
 * black disc beside the same rendered "Northwind" gives "" at a diameter of 2.5 cap heights and "@ Northwind"
 * at 2.2 (how far it goes depends on the mark's shape and size: a ring is read beside). That measures
 * the page-layout heuristics for documents, not whether the name is legible: 57 of the 60 horizontal lockups
 * (cap height 40% of the mark's, a usual proportion) read as "". Taken as one block, the mark comes out as a few
 * stray characters before the name, which the check (the name contained in the reading) ignores; the
 * reading still fails where the letters do (names set with their advances at 0.65 come out "Nathwind",
 * "GO Poa Faye").
 */
function ocr(pngBytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "quality-ocr-"));
  try {
    writeFileSync(join(dir, "in.png"), pngBytes);
    return execFileSync("tesseract", [join(dir, "in.png"), "-", "--psm", "6"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / (v.length || 1);

// ---------------------------------------------------------------- the run

interface Row {
  id: string;
  degraded: boolean;
  colours: number;
  vector: { off: number; bytes: number; paths: number } | null;
  anchor: { tool: "potrace" | "vectorizer"; off: number; bytes: number; paths: number } | null;
  monoRecall: number | null;
  iou: { border: number; all: number; auto: number } | null;
  icon: { iou: number } | null;
}

const t0 = performance.now();
const logos = await loadLogos();
const rows: Row[] = [];
const renders = new Map<string, { ours: Raster; anchor: Raster }>();
for (const logo of logos) {
  let vector: Row["vector"] = null;
  let anchorRow: Row["anchor"] = null;
  if (runs("vector")) {
    const [vec] = await makeAsset("vector", logo.input, { mode: "color", maxColors: 8, background: "drop" }, limits);
    const svg = utf8.decode(vec?.bytes);
    const ours = offOnWhite(svg, logo.clean);
    const inputRaster = await decode(logo.input);
    let anchorSvg: string;
    let tool: "potrace" | "vectorizer";
    if (logo.colours <= 1) {
      const q = quantize(logo.clean, 8, 0.0005);
      const ink = q.palette.find((_, k) => k !== q.background) ?? [0, 0, 0];
      anchorSvg = potraceAnchor(inputRaster, ink);
      tool = "potrace";
    } else {
      anchorSvg = await vectorize(Buffer.from(await png(inputRaster)));
      tool = "vectorizer";
    }
    const anchor = offOnWhite(anchorSvg, logo.clean);
    renders.set(logo.id, { ours: ours.rendered, anchor: anchor.rendered });
    vector = { off: ours.off, bytes: svg.length, paths: countPaths(svg) };
    anchorRow = { tool, off: anchor.off, bytes: anchorSvg.length, paths: countPaths(anchorSvg) };
  }

  let monoRecall: number | null = null;
  if (logo.colours >= 2 && runs("mono")) {
    const [mono] = await makeAsset("vector", logo.input, { mode: "mono", maxColors: 8 }, limits);
    const r = render(utf8.decode(mono?.bytes), logo.clean.width);
    const near = dilate(maskBoundaries(alphaMask(r), r.width, r.height), r.width, r.height, 2);
    const src = sourceBoundaries(logo.clean);
    let hit = 0;
    let all = 0;
    for (let p = 0; p < src.length; p++)
      if (src[p]) {
        all++;
        if (near[p]) hit++;
      }
    monoRecall = all ? hit / all : 1;
  }

  let ious: Row["iou"] = null;
  if (runs("transparent")) {
    const truth = alphaMask(logo.truth);
    const unseen = invisibleParts(logo.clean, truth);
    const iouOf = async (mode: string) => {
      const [f] = await makeAsset("transparent", logo.input, { mode, tolerance: 10 }, limits);
      return iou(alphaMask(await decode(f?.bytes ?? new Uint8Array())), truth, unseen);
    };
    ious = { border: await iouOf("border"), all: await iouOf("all"), auto: await iouOf("auto") };
  }

  let icon: Row["icon"] = null;
  if (logo.symbol && runs("icons")) {
    const files = await makeAsset("icons", logo.input, { mark: "auto" }, limits);
    const f = files.find((x) => x.name === "icon-512.png");
    const r = await decode(f?.bytes ?? new Uint8Array());
    const ours64 = await fitMask(iconMask(r), r.width, r.height, 64);
    const sym = render(svgOf(logo.symbol, null));
    const truth64 = await fitMask(alphaMask(sym), sym.width, sym.height, 64);
    icon = { iou: iou(ours64, truth64) };
  }
  rows.push({
    id: logo.id,
    degraded: logo.degraded,
    colours: logo.colours,
    vector,
    anchor: anchorRow,
    monoRecall,
    iou: ious,
    icon,
  });
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const vecText =
    vector && anchorRow
      ? `vec ${pct(vector.off)} ${vector.bytes}B | ${anchorRow.tool} ${pct(anchorRow.off)} ${anchorRow.bytes}B`
      : "vec -";
  const iouText = ious ? `iou b${ious.border.toFixed(3)} a${ious.all.toFixed(3)} auto${ious.auto.toFixed(3)}` : "iou -";
  console.log(
    `${logo.id.padEnd(36)} c${logo.colours} ${vecText} | mono ${monoRecall === null ? "-" : pct(monoRecall)} | ${iouText} | icon ${icon ? icon.iou.toFixed(3) : "-"}`,
  );
}

// Lockup legibility: every bundled family and both layouts, on a fixed mark.
const NAMES = [
  "Acme",
  "Northwind",
  "Blue Harbor",
  "Kite & Key",
  "Orbit 9",
  "Pixel-Forge",
  "Summit Labs",
  "Bright Oak",
  "Nova 42",
  "Lumen & Co",
  "Riverstone",
  "Cobalt-7",
  "Fable Works",
  "Atlas Print",
  "Maple 360",
  "Quartz",
  "Juniper & Sage",
  "Vertex-X",
  "Golden Hour",
  "Zephyr 21",
];
const lockupNames = SMALL ? NAMES.slice(0, 4) : NAMES;
// The mark of the lockups has no letters of its own (the OCR reads the name only).
const lockupSource = await png(render(svgOf("react", "#FFFFFF")), 3);
const lockups: { name: string; font: string; layout: string; read: string; ok: boolean }[] = [];
const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9&-]/g, "");
for (const font of runs("lockup") ? FONT_FAMILIES : [])
  for (const layout of ["horizontal", "stacked"])
    for (const name of lockupNames) {
      const files = await makeAsset("lockup", lockupSource, { layout, font, text: name }, limits);
      const f = files.find((x: { name: string }) => x.name === "lockup.png");
      // The shapes' legibility: the ink (alpha) in black on white, so a light brand colour does not decide it.
      // At 1024 wide the names' caps are 68-166 px high (20 names, 3 families, 2 layouts), big enough.
      const onWhite = await sharp(f?.bytes).extractChannel(3).negate().resize({ width: 1024 }).png().toBuffer();
      const read = ocr(new Uint8Array(onWhite));
      const ok = norm(read).includes(norm(name));
      lockups.push({ name, font, layout, read: read.trim().replace(/\s+/g, " "), ok });
      if (!ok) console.log(`lockup not read: ${font} ${layout} "${name}" -> "${read.trim()}"`);
    }

// Timings: each kind on a clean 1024² logo, in this process.
const timeSource = logos.find((l) => !l.degraded && l.colours >= 2)?.input ?? (logos[0]?.input as Uint8Array);
const RUNS = SMALL ? 3 : 7;
const timings: Record<string, number> = {};
if (runs("time")) await makeAsset("brand-kit", timeSource, {}, limits);
const timed = [
  ["vector", "vector", { mode: "color", maxColors: 8 }],
  ["transparent", "transparent", { mode: "auto", tolerance: 10 }],
  ["icons", "icons", {}],
  ["lockup", "lockup", { layout: "horizontal", font: "inter", text: "Northwind" }],
  ["brand-kit", "brand-kit", {}],
] as const;
for (const [label, kind, options] of runs("time") ? timed : []) {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await makeAsset(kind, timeSource, options, limits);
    ms.push(performance.now() - t);
  }
  timings[label] = Math.round(median(ms));
}

// ---------------------------------------------------------------- figures and goals

type Measured = Row & { vector: NonNullable<Row["vector"]>; anchor: NonNullable<Row["anchor"]> };
const vecRows = rows.filter((r): r is Measured => r.vector !== null && r.anchor !== null);
const monoRows = vecRows.filter((r) => r.colours <= 1);
const iouRows = rows.flatMap((r) => (r.iou ? [r.iou] : []));
const iconRows = rows.filter((r) => r.icon);
const oneColourRows = rows.filter((r) => r.monoRecall !== null);
const worstOf = (v: number[]) => (v.length ? Math.min(...v) : Number.NaN);
const summary = {
  devicon: deviconVersion,
  sample: { logos: logos.filter((l) => !l.degraded).length, degraded: logos.filter((l) => l.degraded).length },
  vector: {
    medianOff: median(vecRows.map((r) => r.vector.off)),
    worstOff: vecRows.length ? Math.max(...vecRows.map((r) => r.vector.off)) : Number.NaN,
    medianBytes: median(vecRows.map((r) => r.vector.bytes)),
    medianBytesVectorizer: median(vecRows.filter((r) => r.anchor.tool === "vectorizer").map((r) => r.anchor.bytes)),
    medianBytesColour: median(vecRows.filter((r) => r.anchor.tool === "vectorizer").map((r) => r.vector.bytes)),
    medianOffVectorizer: median(vecRows.filter((r) => r.anchor.tool === "vectorizer").map((r) => r.anchor.off)),
    medianOffColour: median(vecRows.filter((r) => r.anchor.tool === "vectorizer").map((r) => r.vector.off)),
  },
  monochrome: {
    logos: monoRows.length,
    medianOff: median(monoRows.map((r) => r.vector.off)),
    medianOffPotrace: median(monoRows.map((r) => r.anchor.off)),
    medianBytes: median(monoRows.map((r) => r.vector.bytes)),
    medianBytesPotrace: median(monoRows.map((r) => r.anchor.bytes)),
  },
  oneColour: {
    logos: oneColourRows.length,
    worstRecall: worstOf(oneColourRows.map((r) => r.monoRecall as number)),
    medianRecall: median(oneColourRows.map((r) => r.monoRecall as number)),
  },
  transparent: {
    meanIou: {
      border: mean(iouRows.map((r) => r.border)),
      all: mean(iouRows.map((r) => r.all)),
      auto: mean(iouRows.map((r) => r.auto)),
    },
    /** How many logos each mode leaves below the goal's 0.9. */
    belowNinety: {
      border: iouRows.filter((r) => r.border < 0.9).length,
      all: iouRows.filter((r) => r.all < 0.9).length,
      auto: iouRows.filter((r) => r.auto < 0.9).length,
    },
    worstIou: {
      border: worstOf(iouRows.map((r) => r.border)),
      all: worstOf(iouRows.map((r) => r.all)),
      auto: worstOf(iouRows.map((r) => r.auto)),
    },
  },
  icons: {
    logos: iconRows.length,
    medianIou: median(iconRows.map((r) => r.icon?.iou as number)),
    belowHalf: iconRows.filter((r) => (r.icon?.iou as number) < 0.5).map((r) => r.id),
  },
  lockup: {
    read: lockups.filter((l) => l.ok).length,
    total: lockups.length,
    // The goal holds in every bundled family and both layouts, so each pair is counted on its own.
    byFontLayout: Object.fromEntries(
      [...new Set(lockups.map((l) => `${l.font} ${l.layout}`))].map((k) => {
        const of = lockups.filter((l) => `${l.font} ${l.layout}` === k);
        return [k, { read: of.filter((l) => l.ok).length, total: of.length }];
      }),
    ) as Record<string, { read: number; total: number }>,
    missed: lockups.filter((l) => !l.ok),
  },
  timingsMs: timings,
  seconds: Math.round((performance.now() - t0) / 1000),
};

type Measure = "vector" | "mono" | "transparent" | "icons" | "lockup" | "time";
const allGoals: [Measure, string, boolean][] = [
  ["vector", "vector median off <= 0.5%", summary.vector.medianOff <= 0.005],
  ["vector", "vector worst off <= 2%", summary.vector.worstOff <= 0.02],
  [
    "vector",
    "vector median bytes <= half the vectorizer's (colour logos)",
    summary.vector.medianBytesColour <= summary.vector.medianBytesVectorizer / 2,
  ],
  [
    "vector",
    "monochrome median off <= potrace + 0.1 points",
    monoRows.length === 0 || summary.monochrome.medianOff <= summary.monochrome.medianOffPotrace + 0.001,
  ],
  [
    "vector",
    "monochrome median bytes <= 1.5x potrace",
    monoRows.length === 0 || summary.monochrome.medianBytes <= 1.5 * summary.monochrome.medianBytesPotrace,
  ],
  ["mono", "one colour recall >= 90% on every multi-colour logo", summary.oneColour.worstRecall >= 0.9],
  [
    "transparent",
    "transparent auto mean IoU above border and all",
    summary.transparent.meanIou.auto > summary.transparent.meanIou.border &&
      summary.transparent.meanIou.auto > summary.transparent.meanIou.all,
  ],
  ["transparent", "transparent auto worst IoU >= 0.9", summary.transparent.worstIou.auto >= 0.9],
  ["icons", "icons median mark IoU >= 0.8", iconRows.length === 0 || summary.icons.medianIou >= 0.8],
  [
    "lockup",
    "lockup read >= 95% in every family and layout",
    Object.values(summary.lockup.byFontLayout).every((c) => c.read >= 0.95 * c.total),
  ],
  ["time", "vector p50 <= 1.5x 133 ms", (timings.vector ?? 0) <= 1.5 * 133],
  ["time", "icons p50 <= 1.5x 372 ms", (timings.icons ?? 0) <= 1.5 * 372],
  ["time", "brand kit with lockups <= 3 s", (timings["brand-kit"] ?? 0) <= 3000],
];
const goals = allGoals.filter(([m]) => runs(m)).map(([, name, ok]) => [name, ok] as [string, boolean]);

// The worst five vector logos side by side: source, ours, anchor.
const worst = [...vecRows].sort((a, b) => b.vector.off - a.vector.off).slice(0, 5);
for (const [i, r] of worst.entries()) {
  const logo = logos.find((l) => l.id === r.id) as Logo;
  const rr = renders.get(r.id);
  if (!rr) continue;
  const tile = async (x: Raster) =>
    sharp(x.data, { raw: { width: x.width, height: x.height, channels: 4 } })
      .resize(512, 512)
      .png()
      .toBuffer();
  await sharp({ create: { width: 1536, height: 512, channels: 4, background: "#FFFFFF" } })
    .composite([
      { input: await tile(await decode(logo.input)), left: 0, top: 0 },
      { input: await tile(rr.ours), left: 512, top: 0 },
      { input: await tile(rr.anchor), left: 1024, top: 0 },
    ])
    .png()
    .toFile(join(OUT, `worst-${i + 1}.png`));
}

const result = { summary, goals: Object.fromEntries(goals), worst: worst.map((r) => r.id), rows, lockups };
writeFileSync(join(OUT, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
if (!SMALL && !PARTIAL)
  writeFileSync(join(import.meta.dir, "..", "bench", "results-quality.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
for (const [g, ok] of goals) console.log(`${ok ? "ok  " : "MISS"} ${g}`);
console.log(`worst five (source | ours | anchor): ${join(OUT, "worst-1.png")} … worst-5.png`);
// --check (CI, small sample) guards what holds today, with a margin; the other goals are reported above.
const guards = (
  [
    // Every goal the small sample can judge, at the goal's own bound: the vector ones, one colour, icons, lockups.
    ...allGoals.filter(([m]) => m !== "time" && m !== "transparent"),
    // The small sample's transparent figures: one white-on-a-field logo decides its worst, and 12 logos are too few to
    // put auto above all (the full sample does: docs/quality.md); guarded where they hold with a margin.
    [
      "transparent",
      "transparent auto mean IoU above border",
      summary.transparent.meanIou.auto > summary.transparent.meanIou.border,
    ],
    ["transparent", "transparent auto worst IoU >= 0.8", summary.transparent.worstIou.auto >= 0.8],
  ] as [Measure, string, boolean][]
)
  .filter(([m]) => runs(m))
  .map(([, name, ok]) => [name, ok] as [string, boolean]);
for (const [g, ok] of guards) console.log(`${ok ? "ok  " : "FAIL"} guard: ${g}`);
if (CHECK && guards.some(([, ok]) => !ok)) process.exit(1);
