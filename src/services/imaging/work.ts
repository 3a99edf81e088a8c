import { extractMark, fitScale, type Mark, makeIcons, place } from "./icons";
import { svgToPdf } from "./pdf";
import { hex, parseHex } from "./quantize";
import { encodePng, renderSvgPng, type Source } from "./source";
import { removeBackground, type TransparentMode } from "./transparent";
import type { AssetFile, Raster, RGB } from "./types";
import { type Analysis, analyse, type Traced, traceColor, traceMono } from "./vector";

/**
 * One decoded source and the image operations a deliverable is made of. The pieces that several files
 * share (the palette analysis, the colour trace, the mark) are computed once, when first asked for, so the
 * brand kit pays for each only once. A deliverable's declaration receives this and returns its files.
 */

export const DEFAULT_MAX_COLORS = 8;

export interface MasterSvg {
  svg: string;
  width: number;
  height: number;
  /** Paths of a trace; null when the source was an SVG, kept as it was sanitised. */
  paths: number | null;
}

export interface PaletteColor {
  hex: string;
  share: number;
}

export class Work {
  private readonly analyses = new Map<number, Promise<Analysis>>();
  private readonly traces = new Map<number, Promise<Traced>>();
  constructor(readonly src: Source) {}

  get width() {
    return this.src.raster.width;
  }
  get height() {
    return this.src.raster.height;
  }
  get raster(): Raster {
    return this.src.raster;
  }

  analyse(maxColors = DEFAULT_MAX_COLORS): Promise<Analysis> {
    let a = this.analyses.get(maxColors);
    if (!a) {
      a = analyse(this.src.raster, maxColors);
      this.analyses.set(maxColors, a);
    }
    return a;
  }

  /** The colour master SVG: the sanitised source, or the trace of a raster. */
  async masterSvg(maxColors = DEFAULT_MAX_COLORS): Promise<MasterSvg> {
    if (this.src.svg) return { svg: this.src.svg, width: this.width, height: this.height, paths: null };
    let trace = this.traces.get(maxColors);
    if (!trace) {
      trace = this.analyse(maxColors).then(traceColor);
      this.traces.set(maxColors, trace);
    }
    const t = await trace;
    return { svg: t.svg, width: this.width, height: this.height, paths: t.paths };
  }

  /** The one-colour trace, filled with `fill` (default black). */
  async mono(fill?: string, maxColors = DEFAULT_MAX_COLORS): Promise<Traced> {
    return traceMono(await this.analyse(maxColors), fill);
  }

  /** The source with its background keyed out. */
  transparent(mode: TransparentMode, tolerance: number): Raster {
    return removeBackground(this.src.raster, mode, tolerance);
  }

  /** The mark (the logo cropped to its drawing) and the background it sat on; `cut` is a keyed-out copy. */
  mark(cut?: Raster): Mark {
    return extractMark(this.src.raster, cut);
  }

  /** The icon set for a mark, on `background` (default: the source's background colour). */
  async icons(mark: Mark, background?: string): Promise<AssetFile[]> {
    const bg: RGB = background ? parseHex(background) : mark.background;
    return makeIcons(mark, bg, await this.masterSvg());
  }

  /** The mark centred on a `width`×`height` canvas of the background colour, its larger side `fill` of the canvas. */
  placeMark(mark: Mark, width: number, height: number, fill: number): Promise<Uint8Array> {
    return place(mark.mark, mark.background, width, height, fitScale(mark.mark, width, height, fill));
  }

  /** The dominant colours of the source, most used first, shares rounded to 4 places. */
  async palette(): Promise<PaletteColor[]> {
    const q = (await this.analyse()).q;
    const total = q.counts.reduce((s, c) => s + c, 0) || 1;
    return q.palette
      .map((c, i) => ({ hex: hex(c), share: (q.counts[i] ?? 0) / total }))
      .filter((c) => c.share > 0)
      .sort((x, y) => y.share - x.share || x.hex.localeCompare(y.hex))
      .map((c) => ({ hex: c.hex, share: Math.round(c.share * 10_000) / 10_000 }));
  }

  pdf(master: MasterSvg): Promise<Uint8Array> {
    return svgToPdf(master.svg, master.width, master.height);
  }

  /** An SVG rendered to PNG, `size` px on its longest side. */
  png(svg: string, size: number): Uint8Array {
    return renderSvgPng(svg, size);
  }

  encodePng(raster: Raster): Promise<Uint8Array> {
    return encodePng(raster);
  }
}
