import { ColorMode, type Config, Hierarchical, PathSimplifyMode, vectorizeRaw } from "@neplex/vectorizer";
import sharp from "sharp";
import { GRID } from "./curves";
import { traceLayers } from "./layers";
import { monoMap } from "./mono";
import { hex, luminance, type Quantized, quantize, TRANSPARENT } from "./quantize";
import { element, parseSvg, type SvgNode, serializeSvg } from "./sanitize";
import type { Raster, RGB } from "./types";

/**
 * Raster → SVG: downscale to at most TRACE_SIDE (tracing time grows with pixels and an abort does not
 * stop a running trace), reduce the palette, drop specks, trace (colour layers: layers.ts, on the sub-pixel 50%
 * coverage line; the one-colour ink map: vtracer's polygon mode, @neplex/vectorizer), and wrap the paths in
 * an SVG whose viewBox is the source's size.
 */

export const TRACE_SIDE = 1024;

export interface Traced {
  /** Sanitised SVG text. */
  svg: string;
  tree: SvgNode;
  paths: number;
}

/** The source resized (never enlarged) so its longest side is at most `side`. */
export async function downscale(img: Raster, side: number): Promise<Raster> {
  const longest = Math.max(img.width, img.height);
  if (longest <= side) return img;
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
    .resize({
      width: img.width >= img.height ? side : undefined,
      height: img.height > img.width ? side : undefined,
      kernel: "lanczos3",
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/** Wraps traced paths (at trace size) into an SVG with the source's viewBox. */
function wrap(traced: SvgNode, traceW: number, sourceW: number, sourceH: number, fill?: string): Traced {
  const shapes = traced.children.filter((c) => c.name !== "title" && c.name !== "desc");
  if (fill) for (const s of shapes) s.attrs.set("fill", fill);
  const k = sourceW / traceW;
  const root = element(
    "svg",
    [
      ["version", "1.1"],
      ["width", String(sourceW)],
      ["height", String(sourceH)],
      ["viewBox", `0 0 ${sourceW} ${sourceH}`],
    ],
    Math.abs(k - 1) < 1e-9 ? shapes : [element("g", [["transform", `scale(${+k.toFixed(6)})`]], shapes)],
  );
  const svg = serializeSvg(root);
  return { svg, tree: parseSvg(svg), paths: shapes.length };
}

export interface Analysis {
  source: Raster;
  trace: Raster;
  q: Quantized;
}

export async function analyse(source: Raster, maxColors: number): Promise<Analysis> {
  const small = await downscale(source, TRACE_SIDE);
  return { source, trace: small, q: quantize(small, maxColors) };
}

export type BackgroundRule = "drop" | "keep";

/**
 * The colour trace. `drop` (the default) leaves the background colour (the colour of the image's edge)
 * transparent, inside the mark too, so the SVG draws no backdrop; `keep` draws it as one rect under the shapes.
 */
export async function traceColor(a: Analysis, background: BackgroundRule = "drop"): Promise<Traced> {
  const q = a.q;
  const bg = q.background === TRANSPARENT ? null : q.palette[q.background];
  const draw = q.palette.map((_, i) => i).filter((i) => i !== q.background && (q.counts[i] as number) > 0);
  const layers = traceLayers(a.trace, q.labels, q.palette, draw);
  const tree = element("svg", []);
  for (const l of layers)
    if (l.d)
      tree.children.push(
        element("path", [
          ["d", l.d],
          ["fill", hex(l.colour)],
        ]),
      );
  if (background === "keep" && bg)
    tree.children.unshift(
      element("rect", [
        ["width", String(q.width * GRID)],
        ["height", String(q.height * GRID)],
        ["fill", hex(bg)],
      ]),
    );
  return wrap(tree, q.width * GRID, a.source.width, a.source.height);
}

/** The non-background colour that contrasts most with the background (among colours with a real share). */
export function markColour(q: Quantized): RGB {
  const bg = q.background === TRANSPARENT ? null : q.palette[q.background];
  const fgTotal = q.counts.reduce((s, c, i) => (i === q.background ? s : s + c), 0);
  let best: RGB | null = null;
  let bestScore = -1;
  q.palette.forEach((c, i) => {
    if (i === q.background || (q.counts[i] as number) < fgTotal * 0.1) return;
    const score = bg
      ? Math.abs(luminance(c) - luminance(bg)) +
        0.25 * Math.sqrt((c[0] - bg[0]) ** 2 + (c[1] - bg[1]) ** 2 + (c[2] - bg[2]) ** 2)
      : 255 - luminance(c);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  });
  return best ?? [0, 0, 0];
}

export { relativeLuminance } from "./mono";

/** Two colours whose relative luminance differs by at least this keep their boundary in one colour. */
export const MONO_CONTRAST = 0.2;

/** Which palette colours are ink in a one-colour version (the background never is): see mono.ts. */
export function monoInk(q: Quantized): boolean[] {
  return monoMap(q, MONO_CONTRAST).ink;
}

/** The one-colour trace: vtracer's binary mode (holes cut, not stacked) as polygons. Its spline fit bends
 * long thin knocked-out gaps and seams into the shapes beside them (F#'s gaps, Markdown's frame: 1.6–2%
 * of pixels off against 0.05–0.1% as polygons, with a quarter of the bytes). */
const MONO_TRACE: Config = {
  colorMode: ColorMode.Binary,
  hierarchical: Hierarchical.Stacked,
  filterSpeckle: 4,
  colorPrecision: 8,
  layerDifference: 6,
  mode: PathSimplifyMode.Polygon,
  cornerThreshold: 60,
  lengthThreshold: 4,
  maxIterations: 10,
  spliceThreshold: 45,
  pathPrecision: 1,
};

/** One colour plus transparency: the ink map (mono.ts: ink colours, seams) traced in black, then filled. */
export async function traceMono(a: Analysis, fill?: string): Promise<Traced> {
  const colour = fill ?? hex(markColour(a.q));
  const { mask } = monoMap(a.q, MONO_CONTRAST);
  const { width: w, height: h } = a.q;
  const rgba = Buffer.alloc(w * h * 4, 255); // binary mode: red < 128 is ink
  for (let p = 0; p < mask.length; p++) if (mask[p]) rgba.fill(0, p * 4, p * 4 + 3);
  const out = await vectorizeRaw(rgba, { width: w, height: h }, MONO_TRACE);
  return wrap(parseSvg(out), w, a.source.width, a.source.height, colour);
}
