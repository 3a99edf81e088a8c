import type { Quantized } from "./quantize";
import { TRANSPARENT } from "./quantize";
import type { RGB } from "./types";

/**
 * The one-colour version of a quantised logo: which colours are ink, and the ink map to trace.
 *
 * Boundaries are counted between pixels of the drawing's colours across at most SEAM pixels of blends: a
 * colour that is thin (few pixels whose label is the same 2 px away in the four directions) and lies between
 * two other colours is the anti-aliasing between them (a grey between black and white), which must neither
 * count as a colour of its own nor double the weight of an edge; it follows the nearest colour. Colours are few (≤ 16): every ink assignment is tried and the one keeping
 * the most boundary wins. A boundary that must stay (with the background, or between two colours whose
 * relative luminance differs by at least `contrast`) and that no assignment keeps (three colours that
 * all touch: background, pink, light pink) is drawn as a thin seam: a knocked-out line between two ink
 * colours, an ink line between two knocked-out ones.
 */

/** Widest band (px) of blends between two solid colours that still makes them neighbours. */
const SEAM = 8;

/** WCAG relative luminance, 0..1. */
export function relativeLuminance(c: RGB): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
}

interface Boundaries {
  /** Slot per pixel: a palette index, or palette.length for a transparent pixel. */
  slots: Uint8Array;
  k: number;
  /** pairs[a * k + b] (a < b): solid-to-solid crossings between slots a and b. */
  pairs: Float64Array;
  /** 1 for a colour that is a blend of two others (anti-aliasing), not a colour of the drawing. */
  blend: Uint8Array;
  /** Each crossing: from pixel, to pixel, step (1 or width), slots a and b; flat, 5 numbers each. */
  crossings: Int32Array;
  count: number;
}

/** Whether palette colour l lies on the segment between two other colours that are not thin (within 24). */
function isBlend(palette: RGB[], l: number, thin: (l: number) => boolean): boolean {
  const c = palette[l] as RGB;
  for (let a = 0; a < palette.length; a++)
    for (let b = a + 1; b < palette.length; b++) {
      if (a === l || b === l || thin(a) || thin(b)) continue;
      const pa = palette[a] as RGB;
      const pb = palette[b] as RGB;
      const v: RGB = [pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]];
      const u: RGB = [c[0] - pa[0], c[1] - pa[1], c[2] - pa[2]];
      const vv = v[0] ** 2 + v[1] ** 2 + v[2] ** 2;
      if (vv === 0) continue;
      const t = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / vv;
      if (t < 0.1 || t > 0.9) continue;
      const off = (u[0] - t * v[0]) ** 2 + (u[1] - t * v[1]) ** 2 + (u[2] - t * v[2]) ** 2;
      if (off <= 24 * 24) return true;
    }
  return false;
}

function boundaries(q: Quantized): Boundaries {
  const { labels, width: w, height: h } = q;
  const n = w * h;
  const k = q.palette.length + 1; // slot palette.length: transparent pixels
  const slots = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const l = labels[p] as number;
    slots[p] = l === TRANSPARENT ? k - 1 : l;
  }
  const isSolid = new Uint8Array(n);
  const solid = new Float64Array(k);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const s = slots[p] as number;
      let ok = true;
      for (let d = 1; d <= 2 && ok; d++)
        ok =
          (x - d < 0 || slots[p - d] === s) &&
          (x + d >= w || slots[p + d] === s) &&
          (y - d < 0 || slots[p - d * w] === s) &&
          (y + d >= h || slots[p + d * w] === s);
      if (ok) {
        isSolid[p] = 1;
        solid[s] = (solid[s] as number) + 1;
      }
    }
  // A thin colour (few solid pixels) that lies between two other colours is a blend of them: its pixels
  // are skipped; every pixel of the other colours (thin strokes included) counts.
  const thin = (l: number) => (solid[l] as number) < Math.max(16, 0.05 * (q.counts[l] as number));
  const blend = new Uint8Array(k);
  for (let l = 0; l < k; l++)
    if (thin(l) && (q.counts[l] as number) > 0) blend[l] = isBlend(q.palette, l, thin) ? 1 : 0;
  for (let p = 0; p < n; p++) isSolid[p] = blend[slots[p] as number] ? 0 : 1;
  const pairs = new Float64Array(k * k);
  let crossings = new Int32Array(5 * 4096);
  let count = 0;
  const scan = (start: number, step: number, length: number) => {
    let last = -1;
    for (let i = 0, p = start; i < length; i++, p += step) {
      if (!isSolid[p]) continue;
      if (last >= 0 && slots[last] !== slots[p] && (p - last) / step <= SEAM + 1) {
        const a = Math.min(slots[last] as number, slots[p] as number);
        const b = Math.max(slots[last] as number, slots[p] as number);
        pairs[a * k + b] = (pairs[a * k + b] as number) + 1;
        if (5 * (count + 1) > crossings.length) {
          const grown = new Int32Array(crossings.length * 2);
          grown.set(crossings);
          crossings = grown;
        }
        crossings.set([last, p, step, a, b], 5 * count++);
      }
      last = p;
    }
  };
  for (let y = 0; y < h; y++) scan(y * w, 1, w);
  for (let x = 0; x < w; x++) scan(x, w, h);
  return { slots, k, pairs, blend, crossings, count };
}

/** The background's slot: its palette index, or the transparent slot. */
const bgSlot = (q: Quantized) => (q.background === TRANSPARENT ? q.palette.length : q.background);

/** A boundary that must stay: with the background (or transparency), or between two colours far apart in
 * relative luminance. */
const required = (q: Quantized, contrast: number, a: number, b: number) => {
  const none = (l: number) => l === bgSlot(q) || l === q.palette.length; // never ink
  if (none(a) || none(b)) return !(none(a) && none(b));
  const pa = q.palette[a];
  const pb = q.palette[b];
  return !!pa && !!pb && Math.abs(relativeLuminance(pa) - relativeLuminance(pb)) >= contrast;
};

/** Ink per palette colour (the background never is), from boundaries of solid regions (see above). */
function assign(q: Quantized, bd: Boundaries, contrast: number): boolean[] {
  const { k, pairs, blend } = bd;
  const bg = bgSlot(q);
  const isBg = (l: number) => l === bg;
  const weight: { a: number; b: number; n: number }[] = [];
  for (let a = 0; a < k; a++)
    for (let b = a + 1; b < k; b++) {
      const n = pairs[a * k + b] as number;
      if (n > 0 && required(q, contrast, a, b)) weight.push({ a, b, n });
    }
  const free = q.palette.map((_, i) => i).filter((i) => !isBg(i) && (q.counts[i] as number) > 0 && !blend[i]);
  let best: boolean[] = q.palette.map((_, i) => !isBg(i));
  let bestScore = -1;
  let bestInk = -1;
  const ink: boolean[] = q.palette.map(() => false);
  for (let mask = 0; mask < 1 << free.length; mask++) {
    free.forEach((l, j) => {
      ink[l] = (mask & (1 << j)) !== 0;
    });
    let score = 0;
    for (const e of weight) if (ink[e.a] !== ink[e.b]) score += e.n;
    let inkPixels = 0;
    for (const l of free) if (ink[l]) inkPixels += q.counts[l] as number;
    if (score > bestScore || (score === bestScore && inkPixels > bestInk)) {
      bestScore = score;
      bestInk = inkPixels;
      best = [...ink];
    }
  }
  // Blends take the state of the nearest colour that is not a blend (the background included).
  const anchors = q.palette.map((_, i) => i).filter((i) => isBg(i) || free.includes(i));
  q.palette.forEach((c, i) => {
    if (isBg(i) || free.includes(i)) return;
    let near = -1;
    let nearD = Number.POSITIVE_INFINITY;
    for (const j of anchors) {
      const o = q.palette[j] as RGB;
      const d = (c[0] - o[0]) ** 2 + (c[1] - o[1]) ** 2 + (c[2] - o[2]) ** 2;
      if (d < nearD) {
        nearD = d;
        near = j;
      }
    }
    best[i] = near >= 0 ? !!best[near] : true;
  });
  return best;
}

export interface MonoMap {
  /** Which palette colours are ink. */
  ink: boolean[];
  /** 1 where the one-colour version has ink, per pixel of the quantised image. */
  mask: Uint8Array;
  /** Seams drawn for boundaries no assignment keeps. */
  seams: number;
}

/** Ink assignment and ink map of a one-colour version; `contrast` is the luminance step that must stay an edge. */
export function monoMap(q: Quantized, contrast: number): MonoMap {
  const bd = boundaries(q);
  const ink = assign(q, bd, contrast);
  const { slots, k, pairs, crossings, count } = bd;
  const n = q.width * q.height;
  const mask = new Uint8Array(n);
  for (let p = 0; p < n; p++) mask[p] = ink[slots[p] as number] ? 1 : 0;
  // Boundaries that must stay but have ink (or no ink) on both sides, and are more than noise.
  let total = 0;
  for (let i = 0; i < k * k; i++) total += pairs[i] as number;
  const lost = new Uint8Array(k * k);
  let seams = 0;
  for (let a = 0; a < k; a++)
    for (let b = a + 1; b < k; b++)
      if (
        (pairs[a * k + b] as number) >= Math.max(24, 0.005 * total) &&
        !!ink[a] === !!ink[b] &&
        required(q, contrast, a, b)
      ) {
        lost[a * k + b] = 1;
        seams++;
      }
  if (seams === 0) return { ink, mask, seams };
  // A seam about 2 px wide (at 1024 px) centred between the two solid pixels of each crossing.
  const half = Math.max(1, Math.round(Math.max(q.width, q.height) / 1024));
  const seam = new Uint8Array(n);
  for (let i = 0; i < count; i++) {
    const o = 5 * i;
    const from = crossings[o] as number;
    const to = crossings[o + 1] as number;
    const step = crossings[o + 2] as number;
    const a = crossings[o + 3] as number;
    if (!lost[a * k + (crossings[o + 4] as number)]) continue;
    const value = ink[a] ? 1 : 2; // 1: knock out a line between two inks, 2: draw an ink line
    const steps = (to - from) / step;
    const mid = from + Math.floor(steps / 2) * step;
    for (let d = -half + 1; d <= half; d++) {
      const p = mid + d * step;
      const within = step === 1 ? Math.floor(p / q.width) === Math.floor(mid / q.width) : p >= 0 && p < n;
      if (within) seam[p] = value;
    }
  }
  for (let p = 0; p < n; p++) if (seam[p]) mask[p] = seam[p] === 2 ? 1 : 0;
  return { ink, mask, seams };
}
