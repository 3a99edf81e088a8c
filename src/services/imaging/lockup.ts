import { Resvg } from "@resvg/resvg-js";
import { resvgFont } from "./fonts";
import { type FontFamily, setText } from "./lockup-fonts";
import { relativeLuminance } from "./mono";
import { hex, luminance, type Quantized } from "./quantize";
import { element, masterViewport, type SvgNode, serializeSvg } from "./sanitize";
import type { AssetFile, RGB } from "./types";

/**
 * A lockup: the mark (the vector master cropped to the mark's bounding box) beside or above the brand
 * name set in a bundled typeface as outlines. Shapes only: no text element, no font reference.
 */

export type LockupLayout = "horizontal" | "stacked";

export interface LockupInput {
  /** The vector master (background dropped) and the raster size it was measured at. */
  master: { svg: string; width: number; height: number };
  /** The mark's bounding box in raster pixels. */
  box: { left: number; top: number; width: number; height: number };
  text: string;
  font: FontFamily;
  layout: LockupLayout;
  /** "#RRGGBB" for the text. */
  color: string;
}

/** Width of lockup.png. */
export const LOCKUP_PNG_WIDTH = 2048;
/** The mark's height in lockup units. */
const MARK = 1000;

const f1 = (v: number) => String(Math.round(v * 10) / 10);

export function lockupSvg(input: LockupInput): { svg: string; width: number; height: number } {
  const { box, master } = input;
  const viewport = masterViewport(master);
  // The mark scaled so its larger side is MARK (a wide mark keeps MARK as its height at most).
  const scale = MARK / Math.max(box.height, box.width * 0.6);
  const mw = box.width * scale;
  const mh = box.height * scale;
  const markNode = (x: number, y: number) =>
    element(
      "svg",
      [
        ["x", f1(x)],
        ["y", f1(y)],
        ["width", f1(mw)],
        ["height", f1(mh)],
        ["viewBox", `${box.left} ${box.top} ${box.width} ${box.height}`],
      ],
      [viewport],
    );
  const pad = 0.12 * Math.max(mh, MARK * 0.5);
  let width: number;
  let height: number;
  let children: SvgNode[];
  if (input.layout === "stacked") {
    // The name's cap height is 22% of the mark's height; a long name is narrowed to 2.5 marks' width.
    let t = setText(input.text, input.font, 1000);
    let size = (1000 * 0.22 * mh) / (t.capHeight || 700);
    t = setText(input.text, input.font, size);
    const maxW = Math.max(mw, mh) * 2.5;
    if (t.width > maxW) {
      size *= maxW / t.width;
      t = setText(input.text, input.font, size);
    }
    const gap = 0.16 * mh;
    width = Math.max(mw, t.width) + 2 * pad;
    height = pad + mh + gap + (t.bottom - t.top) + pad;
    const tx = (width - t.width) / 2;
    const ty = pad + mh + gap - t.top;
    children = [
      markNode((width - mw) / 2, pad),
      element("path", [
        ["d", t.d],
        ["fill", input.color],
        ["transform", `translate(${f1(tx)} ${f1(ty)})`],
      ]),
    ];
  } else {
    // The name's cap height is 40% of the mark's height, centred on it.
    const probe = setText(input.text, input.font, 1000);
    const size = (1000 * 0.4 * mh) / (probe.capHeight || 700);
    const t = setText(input.text, input.font, size);
    const gap = 0.28 * mh;
    width = pad + mw + gap + t.width + pad;
    const capH = (probe.capHeight / 1000) * size;
    height = mh + 2 * pad;
    const baseline = pad + mh / 2 + capH / 2;
    // Descenders and tall accents must stay inside the canvas.
    const extraTop = Math.max(0, -(baseline + t.top));
    const extraBottom = Math.max(0, baseline + t.bottom - height);
    height += extraTop + extraBottom;
    children = [
      markNode(pad, pad + extraTop),
      element("path", [
        ["d", t.d],
        ["fill", input.color],
        ["transform", `translate(${f1(pad + mw + gap)} ${f1(baseline + extraTop)})`],
      ]),
    ];
  }
  width = Math.ceil(width);
  height = Math.ceil(height);
  const root = element(
    "svg",
    [
      ["version", "1.1"],
      ["width", String(width)],
      ["height", String(height)],
      ["viewBox", `0 0 ${width} ${height}`],
    ],
    children,
  );
  return { svg: serializeSvg(root), width, height };
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** lockup.svg and lockup.png (LOCKUP_PNG_WIDTH wide, transparent), named with `prefix`. */
export function lockupFiles(input: LockupInput, prefix = "lockup"): AssetFile[] {
  const l = lockupSvg(input);
  const r = new Resvg(l.svg, { font: resvgFont, fitTo: { mode: "width", value: LOCKUP_PNG_WIDTH } }).render();
  return [
    { name: `${prefix}.svg`, contentType: "image/svg+xml", bytes: utf8(l.svg), width: l.width, height: l.height },
    {
      name: `${prefix}.png`,
      contentType: "image/png",
      bytes: new Uint8Array(r.asPng()),
      width: r.width,
      height: r.height,
    },
  ];
}

/** WCAG's least contrast for text (AA): a name set in a colour below it does not read. */
export const NAME_CONTRAST = 4.5;
const NEAR_BLACK: RGB = [17, 24, 39];
const NEAR_WHITE: RGB = [249, 250, 251];

/** WCAG contrast ratio of two colours, 1–21. */
export function contrastRatio(a: RGB, b: RGB): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * The name's default colour: the darkest colour of the mark (colours with at least 2% of the mark's pixels), when
 * it reads as text on `background` (the logo's own, contrast ≥ NAME_CONTRAST); else near-black or near-white,
 * whichever reads better there (a yellow mark's name in its yellow was barely legible on white).
 */
export function lockupNameColour(q: Quantized, background: RGB): string {
  const fg = q.counts.reduce((s, c, i) => (i === q.background ? s : s + c), 0);
  let best: RGB = NEAR_BLACK;
  let bestL = Number.POSITIVE_INFINITY;
  q.palette.forEach((c, i) => {
    if (i === q.background || (q.counts[i] as number) < fg * 0.02) return;
    const l = luminance(c);
    if (l < bestL) {
      bestL = l;
      best = c;
    }
  });
  if (contrastRatio(best, background) >= NAME_CONTRAST) return hex(best);
  return hex(contrastRatio(NEAR_BLACK, background) >= contrastRatio(NEAR_WHITE, background) ? NEAR_BLACK : NEAR_WHITE);
}
