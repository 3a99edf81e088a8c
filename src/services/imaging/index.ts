import { zipSync } from "fflate";
import { BRAND_KIT_FILES } from "../../domain/asset-files";
import { extractMark, fitScale, makeIcons, place } from "./icons";
import { svgToPdf } from "./pdf";
import { hex, parseHex } from "./quantize";
import { encodePng, loadSource, renderSvgPng, type Source } from "./source";
import { removeBackground, type TransparentMode } from "./transparent";
import type { AssetFile, AssetKind, ImagingLimits, RGB } from "./types";
import { type Analysis, analyse, type Traced, traceColor, traceMono } from "./vector";

/**
 * The pure image layer for deliverables: bytes in, files out. No I/O, no database; CPU-heavy, so the
 * server runs it in worker threads (pool.ts). Every failure caused by the source is an ImagingError.
 */

export { BRAND_KIT_FILES, ICON_FILES } from "../../domain/asset-files";
export { createImagingPool, type ImagingPool } from "./pool";
export { sanitizeSvg } from "./sanitize";
export type { AssetFile, AssetKind, ImagingErrorCode, ImagingLimits } from "./types";
export { ImagingError } from "./types";

/** Every zip entry gets this modification time, so the same input gives the same zip bytes. */
const ZIP_MTIME = new Date(Date.UTC(2026, 0, 1));
const DEFAULT_MAX_COLORS = 8;

const utf8 = (s: string) => new TextEncoder().encode(s);
const svgFile = (name: string, svg: string, width: number, height: number): AssetFile => ({
  name,
  contentType: "image/svg+xml",
  bytes: utf8(svg),
  width,
  height,
});

function num(v: unknown, def: number, min: number, max: number): number {
  return typeof v === "number" && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : def;
}

/** Lazily computed pieces shared by the kinds (the brand kit uses nearly all of them). */
class Work {
  private analysis?: Promise<Analysis>;
  private colour?: Promise<Traced>;
  constructor(
    readonly src: Source,
    readonly maxColors = DEFAULT_MAX_COLORS,
  ) {}
  get width() {
    return this.src.raster.width;
  }
  get height() {
    return this.src.raster.height;
  }
  analyse(): Promise<Analysis> {
    this.analysis ??= analyse(this.src.raster, this.maxColors);
    return this.analysis;
  }
  /** The colour master SVG: the sanitised source, or the trace of a raster. */
  async masterSvg(): Promise<{ svg: string; width: number; height: number; paths: number | null }> {
    if (this.src.svg) return { svg: this.src.svg, width: this.width, height: this.height, paths: null };
    this.colour ??= this.analyse().then(traceColor);
    const t = await this.colour;
    return { svg: t.svg, width: this.width, height: this.height, paths: t.paths };
  }
  async mono(fill?: string): Promise<Traced> {
    return traceMono(await this.analyse(), fill);
  }
}

async function vectorAsset(w: Work, options: Record<string, unknown>): Promise<AssetFile[]> {
  if (options.mode === "mono") {
    const t = await w.mono();
    return [svgFile("logo.svg", t.svg, w.width, w.height)];
  }
  const m = await w.masterSvg();
  return [svgFile("logo.svg", m.svg, m.width, m.height)];
}

async function transparentAsset(w: Work, options: Record<string, unknown>): Promise<AssetFile[]> {
  const mode: TransparentMode = options.mode === "all" ? "all" : "border";
  const out = removeBackground(w.src.raster, mode, num(options.tolerance, 10, 0, 100));
  return [
    { name: "logo.png", contentType: "image/png", bytes: await encodePng(out), width: out.width, height: out.height },
  ];
}

async function iconFiles(w: Work, background?: unknown): Promise<AssetFile[]> {
  const m = extractMark(w.src.raster);
  const bg: RGB =
    typeof background === "string" && /^#[0-9a-fA-F]{6}$/.test(background) ? parseHex(background) : m.background;
  return makeIcons(m, bg, await w.masterSvg());
}

function paletteJson(a: Analysis): string {
  const q = a.q;
  const total = q.counts.reduce((s, c) => s + c, 0) || 1;
  const colors = q.palette
    .map((c, i) => ({ hex: hex(c), share: (q.counts[i] ?? 0) / total }))
    .filter((c) => c.share > 0)
    .sort((x, y) => y.share - x.share || x.hex.localeCompare(y.hex))
    .map((c) => ({ hex: c.hex, share: Math.round(c.share * 10_000) / 10_000 }));
  return `${JSON.stringify({ colors }, null, 2)}\n`;
}

const README = `Brand kit

logo.svg               The logo as a vector (scales to any size; for the web and print shops).
logo.pdf               The same vector as a PDF (for print and office documents).
logo-black.svg         The mark in black only, on transparency (one-colour printing, light backgrounds).
logo-white.svg         The mark in white only, on transparency (dark backgrounds, photos).
logo-512.png           The logo as a PNG, 512 px on its longest side.
logo-1024.png          The logo as a PNG, 1024 px on its longest side.
logo-2048.png          The logo as a PNG, 2048 px on its longest side.
logo-transparent.png   The logo at its original size with the background removed.
icons/                 Website icons: favicon.ico, favicon.svg, apple-touch-icon.png,
                       icon-192.png, icon-512.png, icon-maskable-512.png (Android adaptive),
                       site.webmanifest, and head.html (the <link> tags to paste into <head>).
social/avatar-400.png  A square profile picture for social networks (400x400).
social/og-1200x630.png A link-preview image (Open Graph / Twitter card, 1200x630).
palette.json           The logo's colours, most used first, with their share of the image.
README.txt             This file.
`;

async function brandKit(w: Work): Promise<AssetFile[]> {
  const a = await w.analyse();
  const transparent = removeBackground(w.src.raster, "border", 10);
  const mark = extractMark(w.src.raster, transparent);
  const bg = mark.background;
  const master = await w.masterSvg();
  const [black, white, icons, pdf, transparentPng, avatar, og] = await Promise.all([
    w.mono("#000000"),
    w.mono("#FFFFFF"),
    makeIcons(mark, bg, master),
    svgToPdf(master.svg, master.width, master.height),
    encodePng(transparent),
    place(mark.mark, bg, 400, 400, fitScale(mark.mark, 400, 400, 0.7)),
    place(mark.mark, bg, 1200, 630, fitScale(mark.mark, 1200, 630, 0.6)),
  ]);
  const entries: Record<string, Uint8Array> = {
    "logo.svg": utf8(master.svg),
    "logo.pdf": pdf,
    "logo-black.svg": utf8(black.svg),
    "logo-white.svg": utf8(white.svg),
    "logo-512.png": renderSvgPng(master.svg, 512),
    "logo-1024.png": renderSvgPng(master.svg, 1024),
    "logo-2048.png": renderSvgPng(master.svg, 2048),
    "logo-transparent.png": transparentPng,
  };
  for (const f of icons) entries[`icons/${f.name}`] = f.bytes;
  entries["social/avatar-400.png"] = avatar;
  entries["social/og-1200x630.png"] = og;
  entries["palette.json"] = utf8(paletteJson(a));
  entries["README.txt"] = utf8(README);
  const zipInput: Record<string, [Uint8Array, { mtime: Date; level: 0 | 6 }]> = {};
  for (const name of BRAND_KIT_FILES) {
    const bytes = entries[name];
    if (!bytes) throw new Error(`brand kit: ${name} missing`);
    // PNGs are already compressed: store them; deflate the text formats.
    zipInput[name] = [bytes, { mtime: ZIP_MTIME, level: name.endsWith(".png") || name.endsWith(".ico") ? 0 : 6 }];
  }
  const zip = zipSync(zipInput);
  return [{ name: "brand-kit.zip", contentType: "application/zip", bytes: zip, width: null, height: null }];
}

/** Makes a deliverable's files from the source bytes. Options arrive validated, with defaults applied. */
export async function makeAsset(
  kind: AssetKind,
  source: Uint8Array,
  options: Record<string, unknown>,
  limits: ImagingLimits,
): Promise<AssetFile[]> {
  const src = await loadSource(source, limits);
  const maxColors = kind === "vector" ? num(options.maxColors, DEFAULT_MAX_COLORS, 2, 16) : DEFAULT_MAX_COLORS;
  const w = new Work(src, maxColors);
  switch (kind) {
    case "vector":
      return vectorAsset(w, options);
    case "transparent":
      return transparentAsset(w, options);
    case "icons":
      return iconFiles(w, options.background);
    case "brand-kit":
      return brandKit(w);
    default:
      throw new Error(`unknown asset kind ${String(kind)}`);
  }
}
