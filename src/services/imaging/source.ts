import { Resvg } from "@resvg/resvg-js";
import sharp, { type Metadata } from "sharp";
import { resvgFont } from "./fonts";
import { parseSvg, type SvgNode, serializeSvg } from "./sanitize";
import { badDimensions, ImagingError, type ImagingLimits, type Raster } from "./types";

/**
 * Turning the caller's bytes into pixels: detect SVG by content (never by a name or a content type),
 * refuse anything over the pixel limit, the side limit or the aspect ratio limit from the header alone (an
 * extreme shape is slow in every later step), and map every decoder failure to `source_invalid`.
 */

export interface Source {
  /** The sanitised SVG when the source is an SVG (kept, never traced), otherwise null. */
  svg: string | null;
  svgTree: SvgNode | null;
  /** RGBA pixels at the source size (an SVG source is rasterised, its longest side at least MIN_SVG_SIDE). */
  raster: Raster;
}

/** An SVG source is rasterised at its own size, but never smaller than this on its longest side. */
export const MIN_SVG_SIDE = 1024;
const RASTER_FORMATS = new Set(["png", "jpeg", "webp", "gif", "avif", "heif", "tiff"]);

export function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(0, 4096));
  const t = head.replace(/^\uFEFF/, "").trimStart();
  if (!t.startsWith("<")) return false;
  return /<svg[\s>/]/.test(t);
}

export function resvgOptions(fit?: { width: number } | { height: number }) {
  return {
    font: resvgFont,
    fitTo: fit
      ? "width" in fit
        ? { mode: "width" as const, value: fit.width }
        : { mode: "height" as const, value: fit.height }
      : undefined,
  };
}

/** Renders an SVG (already sanitised) to RGBA with its longest side `side` (or its own size). */
export function renderSvg(svg: string, side?: number): Raster {
  const probe = new Resvg(svg, { font: resvgFont });
  const w0 = probe.width;
  const h0 = probe.height;
  const fit = side === undefined ? undefined : w0 >= h0 ? { width: side } : { height: side };
  const r = fit ? new Resvg(svg, { ...resvgOptions(fit) }) : probe;
  const img = r.render();
  return {
    data: new Uint8Array(img.pixels.buffer, img.pixels.byteOffset, img.pixels.byteLength),
    width: img.width,
    height: img.height,
  };
}

export function renderSvgPng(svg: string, side: number): Uint8Array {
  const probe = new Resvg(svg, { font: resvgFont });
  const fit = probe.width >= probe.height ? { width: side } : { height: side };
  return new Uint8Array(new Resvg(svg, resvgOptions(fit)).render().asPng());
}

function loadSvg(bytes: Uint8Array, limits: ImagingLimits): Source {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ImagingError("source_invalid", "SVG source is not valid UTF-8");
  }
  const tree = parseSvg(text);
  const svg = serializeSvg(tree);
  let resvg: Resvg;
  try {
    resvg = new Resvg(svg, { font: resvgFont });
  } catch (e) {
    throw new ImagingError("source_invalid", `SVG source cannot be rendered: ${(e as Error).message}`);
  }
  const w = Math.ceil(resvg.width);
  const h = Math.ceil(resvg.height);
  if (!(w > 0 && h > 0)) throw new ImagingError("source_invalid", "SVG source has no size");
  const shape = badDimensions(w, h, limits);
  if (shape) throw new ImagingError("source_too_large", `SVG source: ${shape}`);
  if (w * h > limits.maxPixels)
    throw new ImagingError("source_too_large", `SVG source is ${w}×${h}, over ${limits.maxPixels} pixels`);
  const longest = Math.max(w, h);
  const side = Math.max(longest, MIN_SVG_SIDE);
  // Guard against an extreme aspect ratio growing past the limit when the longest side is raised.
  const scale = side / longest;
  if (Math.ceil(w * scale) * Math.ceil(h * scale) > Math.max(limits.maxPixels, MIN_SVG_SIDE * MIN_SVG_SIDE))
    throw new ImagingError("source_too_large", "SVG source is too large once rasterised");
  let raster: Raster;
  try {
    raster = renderSvg(svg, side);
  } catch (e) {
    throw new ImagingError("source_invalid", `SVG source cannot be rendered: ${(e as Error).message}`);
  }
  return { svg, svgTree: tree, raster };
}

async function loadRaster(bytes: Uint8Array, limits: ImagingLimits): Promise<Source> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImagingError("source_invalid", `Not a readable image: ${(e as Error).message}`);
  }
  if (!meta.format || !RASTER_FORMATS.has(meta.format))
    throw new ImagingError("source_invalid", `Unsupported image format ${meta.format ?? "unknown"}`);
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (!(w > 0 && h > 0)) throw new ImagingError("source_invalid", "Image has no size");
  const shape = badDimensions(w, h, limits);
  if (shape) throw new ImagingError("source_too_large", shape);
  if (w * h > limits.maxPixels)
    throw new ImagingError("source_too_large", `Image is ${w}×${h}, over ${limits.maxPixels} pixels`);
  // libjpeg only warns about missing scan data ("premature end of data segment") and fills the rest
  // with grey, so a JPEG cut short and closed by an end marker would decode "successfully": for JPEG
  // every decoder warning is a failure. Other formats report truncation as an error.
  const failOn = meta.format === "jpeg" ? ("warning" as const) : ("error" as const);
  const opts = { limitInputPixels: limits.maxPixels, failOn, sequentialRead: true };
  try {
    const { data, info } = await sharp(bytes, opts)
      .rotate()
      .toColourspace("srgb")
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      svg: null,
      svgTree: null,
      raster: {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        width: info.width,
        height: info.height,
      },
    };
  } catch (e) {
    const msg = (e as Error).message;
    if (/pixel limit/i.test(msg)) throw new ImagingError("source_too_large", msg);
    throw new ImagingError("source_invalid", `Image cannot be decoded: ${msg}`);
  }
}

export async function loadSource(bytes: Uint8Array, limits: ImagingLimits): Promise<Source> {
  if (bytes.byteLength === 0) throw new ImagingError("source_invalid", "The source is empty");
  if (looksLikeSvg(bytes)) return loadSvg(bytes, limits);
  return loadRaster(bytes, limits);
}

/** Encodes RGBA as PNG, deterministically (same libvips on every runtime). */
export async function encodePng(r: Raster, channels: 3 | 4 = 4): Promise<Uint8Array> {
  let img = sharp(r.data, { raw: { width: r.width, height: r.height, channels: 4 } });
  if (channels === 3) img = img.removeAlpha();
  const buf = await img.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
