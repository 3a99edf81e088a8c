import {
  extractMark,
  fitScale,
  type IconOptions,
  iconMark,
  type Mark,
  type MarkRule,
  makeIcons,
  monogramLetter,
  place,
} from "./icons";
import { type LockupLayout, lockupFiles, lockupNameColour } from "./lockup";
import type { FontFamily } from "./lockup-fonts";
import { svgToPdf } from "./pdf";
import { hex, parseHex, TRANSPARENT } from "./quantize";
import { encodePng, renderSvgPng, type Source } from "./source";
import { removeBackground, type TransparentMode } from "./transparent";
import type { AssetFile, Raster, RGB } from "./types";
import { type Analysis, analyse, type BackgroundRule, type Traced, traceColor, traceMono } from "./vector";

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
  rgb: [number, number, number];
  /** Percent, 0–100: the plain conversion, k = 1 − max(r,g,b)/255. */
  cmyk: [number, number, number, number];
  /** Share of the mark's pixels. */
  share: number;
}

export interface Palette {
  /** The background colour, or null when the source has none (transparent). */
  background: string | null;
  /** The colours of the mark, most used first. */
  colors: PaletteColor[];
}

export function cmyk(rgb: readonly [number, number, number]): [number, number, number, number] {
  const [r, g, b] = rgb.map((v) => v / 255) as [number, number, number];
  const k = 1 - Math.max(r, g, b);
  if (k >= 1) return [0, 0, 0, 100];
  const pc = (v: number) => Math.round(v * 100);
  return [pc((1 - r - k) / (1 - k)), pc((1 - g - k) / (1 - k)), pc((1 - b - k) / (1 - k)), pc(k)];
}

/** palette.css: the mark's colours as custom properties, --brand-1 … and --brand-background. */
export function paletteCss(p: Palette): string {
  const lines = p.colors.map((c, i) => `  --brand-${i + 1}: ${c.hex};`);
  lines.push(`  --brand-background: ${p.background ?? "transparent"};`);
  return `:root {\n${lines.join("\n")}\n}\n`;
}

export class Work {
  private readonly analyses = new Map<number, Promise<Analysis>>();
  private readonly traces = new Map<number, Promise<Traced>>();
  private readonly shown = new WeakMap<Mark, Map<string, Promise<Mark>>>();
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

  /** The colour master SVG: the sanitised source, or the trace of a raster (the background dropped or kept). */
  async masterSvg(maxColors = DEFAULT_MAX_COLORS, background: BackgroundRule = "drop"): Promise<MasterSvg> {
    if (this.src.svg) return { svg: this.src.svg, width: this.width, height: this.height, paths: null };
    const key = background === "keep" ? -maxColors : maxColors;
    let trace = this.traces.get(key);
    if (!trace) {
      trace = this.analyse(maxColors).then((a) => traceColor(a, background));
      this.traces.set(key, trace);
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

  /** The icon set for a mark (its symbol alone under `rule: auto`), on `background` (default: the source's). */
  async icons(
    mark: Mark,
    background?: string,
    opts: { rule?: MarkRule; name?: string | null } = {},
  ): Promise<AssetFile[]> {
    const bg: RGB = background ? parseHex(background) : mark.background;
    const palette = await this.palette();
    const iconOpts: IconOptions = { name: opts.name ?? undefined, theme: palette.colors[0]?.hex };
    const icon = await this.shownMark(mark, opts.rule ?? "auto", opts.name ?? undefined);
    return makeIcons(icon, bg, await this.masterSvg(), iconOpts);
  }

  /**
   * What icons and lockups show of `mark` under `rule` (iconMark: the symbol alone, or a monogram of `name` in the
   * logo's dominant colour), with a vector of its own where needed (withOwnVector). Made once per mark, rule and
   * monogram letter: a brand kit's icons and its two lockups share one.
   */
  private shownMark(mark: Mark, rule: MarkRule, name: string | undefined): Promise<Mark> {
    let byKey = this.shown.get(mark);
    if (!byKey) {
      byKey = new Map();
      this.shown.set(mark, byKey);
    }
    const key = `${rule}:${(name && monogramLetter(name)) ?? ""}`;
    let shown = byKey.get(key);
    if (!shown) {
      shown = this.palette().then((p) =>
        this.withOwnVector(iconMark(mark, rule, { name, colour: p.colors[0]?.rgb ?? [0, 0, 0] })),
      );
      byKey.set(key, shown);
    }
    return shown;
  }

  /**
   * A mark whose window onto the source's vector would show other ink (`stray`: letters reaching into the
   * symbol's box) gets a vector of its own, traced from its cut-out raster; any other mark is returned as it is.
   */
  private async withOwnVector(m: Mark): Promise<Mark> {
    if (!m.stray) return m;
    const { width, height } = m.mark;
    const traced = await traceColor(await analyse(m.mark, DEFAULT_MAX_COLORS));
    return { ...m, master: { svg: traced.svg, width, height }, box: { left: 0, top: 0, width, height }, stray: false };
  }

  /**
   * lockup.svg and lockup.png (or `prefix`.svg/png): the mark and `text` set in `font`. Under `rule: auto` (the
   * default) the mark is the symbol without its wordmark, as on the icons: a logo that already spells its name
   * would show it twice; a wordmark alone gives the name's monogram.
   */
  async lockup(
    mark: Mark,
    opts: { layout: LockupLayout; text: string; font: FontFamily; color?: string; rule?: MarkRule },
    prefix = "lockup",
  ): Promise<AssetFile[]> {
    const master = await this.masterSvg();
    const color = opts.color ?? lockupNameColour((await this.analyse()).q, mark.background);
    const shown = await this.shownMark(mark, opts.rule ?? "auto", opts.text);
    return lockupFiles(
      { master: shown.master ?? master, box: shown.box, text: opts.text, font: opts.font, layout: opts.layout, color },
      prefix,
    );
  }

  /** The mark centred on a `width`×`height` canvas of the background colour, its larger side `fill` of the canvas. */
  placeMark(mark: Mark, width: number, height: number, fill: number): Promise<Uint8Array> {
    return place(mark.mark, mark.background, width, height, fitScale(mark.mark, width, height, fill));
  }

  /** The colours of the mark (the background excluded), most used first, with their share of the mark's pixels. */
  async palette(): Promise<Palette> {
    const q = (await this.analyse()).q;
    const bg = q.background === TRANSPARENT ? null : q.palette[q.background];
    const total = q.counts.reduce((s, c, i) => (i === q.background ? s : s + c), 0) || 1;
    const colors = q.palette
      .map((c, i) => ({ c, share: i === q.background ? 0 : (q.counts[i] ?? 0) / total }))
      .filter((x) => x.share > 0)
      .sort((x, y) => y.share - x.share || hex(x.c).localeCompare(hex(y.c)))
      .map(({ c, share }) => ({
        hex: hex(c),
        rgb: [c[0], c[1], c[2]] as [number, number, number],
        cmyk: cmyk([c[0], c[1], c[2]]),
        share: Math.round(share * 10_000) / 10_000,
      }));
    return { background: bg ? hex(bg) : null, colors };
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
