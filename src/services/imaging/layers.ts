/**
 * The colour trace's own tracer, no dependency: each colour of a labelled image as one path of sub-pixel
 * contours (contours.ts) fitted with curves (curves.ts).
 *
 * The colours are drawn in an order chosen so that each is drawn as the union of itself and everything drawn
 * above it, which needs no holes where a colour sits inside another; the order is the one with the shortest
 * total outline (exact over all orders by a subset DP on label adjacencies). Anti-aliasing seams that became a
 * palette colour are given back to their two sides, and a colour reaches one pixel under the colour above it.
 */

import { contours } from "./contours";
import { FIT, type FitOptions, fitLoop, pathData } from "./curves";
import { TRANSPARENT } from "./quantize";
import type { Raster, RGB } from "./types";

/**
 * The region drawn for colour `c` when the colours `above` are drawn after it: c itself plus those of them
 * whose taking in shortens the outline (a colour inside c fills c's hole; a colour elsewhere stays out),
 * added greedily, best gain first. `adj[a * k + b]` counts 4-neighbour pixel pairs between labels a and b.
 */
export function stackRegion(
  c: number,
  above: number[],
  adj: Float64Array,
  k: number,
): { members: number[]; cost: number } {
  const inR = new Uint8Array(k);
  inR[c] = 1;
  const members = [c];
  const outline = () => {
    let n = 0;
    for (const a of members) for (let b = 0; b < k; b++) if (!inR[b]) n += adj[a * k + b] as number;
    return n;
  };
  for (;;) {
    let best = -1;
    let bestGain = 0;
    for (const d of above) {
      if (inR[d]) continue;
      let gain = 0;
      for (let b = 0; b < k; b++) {
        if (b === d) continue;
        gain += inR[b] ? (adj[d * k + b] as number) : -(adj[d * k + b] as number);
      }
      if (gain > bestGain) {
        bestGain = gain;
        best = d;
      }
    }
    if (best < 0) break;
    inR[best] = 1;
    members.push(best);
  }
  return { members, cost: outline() };
}

export interface Stacked {
  /** The colour of this layer. */
  colour: number;
  /** The labels its region covers: the colour and some of those drawn after it. */
  members: number[];
}

/** Up to this many colours the drawing order is the best of all orders; beyond, the most used colour goes first. */
const EXACT_ORDER = 10;

/**
 * The drawing order of the colours `ids` (bottom first), each drawn as its stackRegion, with the shortest
 * total outline: exact over all orders (a DP over the sets of colours still to draw) up to EXACT_ORDER
 * colours. `counts[label]` breaks the order of larger palettes (most pixels at the bottom).
 */
export function stackOrder(ids: number[], adj: Float64Array, k: number, counts?: number[]): Stacked[] {
  const n = ids.length;
  if (n === 0) return [];
  if (n > EXACT_ORDER) {
    const order = [...ids].sort((a, b) => (counts?.[b] ?? 0) - (counts?.[a] ?? 0) || a - b);
    return order.map((c, i) => ({ colour: c, members: stackRegion(c, order.slice(i + 1), adj, k).members }));
  }
  const full = (1 << n) - 1;
  // best[s]: the cheapest way to draw the colours of set s (in some order); pick[s]: its bottom colour
  const best = new Float64Array(full + 1);
  const pick = new Int8Array(full + 1).fill(-1);
  const bits = (s: number) => ids.filter((_, i) => s & (1 << i));
  for (let s = 1; s <= full; s++) {
    best[s] = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      if (!(s & (1 << i))) continue;
      const rest = s & ~(1 << i);
      const v = stackRegion(ids[i] as number, bits(rest), adj, k).cost + (best[rest] as number);
      if (v < (best[s] as number)) {
        best[s] = v;
        pick[s] = i;
      }
    }
  }
  const out: Stacked[] = [];
  let s = full;
  while (s) {
    const i = pick[s] as number;
    s &= ~(1 << i);
    out.push({ colour: ids[i] as number, members: stackRegion(ids[i] as number, bits(s), adj, k).members });
  }
  return out;
}

/**
 * A pixel's coverage by the region of labels with `member[label]` set, from its colour: d_out / (d_in + d_out)
 * with d the distance to the nearest palette colour inside and outside the region (the blend factor of a
 * pixel on an anti-aliased edge between two colours), times its alpha. Colours not `live` are ignored.
 */
export function coverage(img: Raster, palette: RGB[], member: Uint8Array, live?: Uint8Array): (p: number) => number {
  const data = img.data;
  const ins = palette.filter((_, i) => member[i] && (!live || live[i]));
  const outs = palette.filter((_, i) => !member[i] && (!live || live[i]));
  return (p: number) => {
    const o4 = p * 4;
    const r = data[o4] as number;
    const g = data[o4 + 1] as number;
    const b = data[o4 + 2] as number;
    const alpha = (data[o4 + 3] as number) / 255;
    let dIn = Number.POSITIVE_INFINITY;
    let dOut = Number.POSITIVE_INFINITY;
    for (const c of ins) dIn = Math.min(dIn, (c[0] - r) ** 2 + (c[1] - g) ** 2 + (c[2] - b) ** 2);
    for (const c of outs) dOut = Math.min(dOut, (c[0] - r) ** 2 + (c[1] - g) ** 2 + (c[2] - b) ** 2);
    if (dOut === Number.POSITIVE_INFINITY) return alpha;
    const si = Math.sqrt(dIn);
    const so = Math.sqrt(dOut);
    return si + so > 0 ? (alpha * so) / (si + so) : 0.5;
  };
}

export interface Layer {
  colour: RGB;
  d: string;
}

/**
 * The stacked layers of a labelled image: `draw` lists the labels to draw (the others stay empty), `img` is
 * the raster the labels were made from (its colours place the contours), `palette` the labels' colours.
 */
export function traceLayers(
  img: Raster,
  labels: Uint8Array,
  palette: RGB[],
  draw: number[],
  o: FitOptions = FIT,
): Layer[] {
  const { width: w, height: h } = img;
  const k = palette.length + 1; // slot k-1: transparent
  let stats = labelStats(labels, w, h, k);
  const blends = blendColours(palette, draw, stats.adj, stats.counts, k);
  const live = new Uint8Array(k).fill(1);
  if (blends.size) {
    labels = unblend(img, labels, palette, blends);
    for (const m of blends.keys()) live[m] = 0;
    draw = draw.filter((l) => live[l]);
    stats = labelStats(labels, w, h, k);
  }
  const order = stackOrder(draw, stats.adj, k, stats.counts);
  const layers: Layer[] = [];
  const inside = new Uint8Array(w * h);
  const member = new Uint8Array(256);
  const above = new Uint8Array(256);
  for (const [n, level] of order.entries()) {
    member.fill(0);
    for (const l of level.members) member[l] = 1;
    above.fill(0);
    for (const later of order.slice(n + 1)) if (!member[later.colour]) above[later.colour] = 1;
    for (let p = 0; p < w * h; p++) inside[p] = member[labels[p] as number] as number;
    const tucked = tuckUnder(inside, labels, w, h, member, above);
    const base = coverage(img, palette, member, live);
    const cover = tucked ? (p: number) => (tucked[p] ? 1 : base(p)) : base;
    const loops = contours(w, h, inside, cover).map((l) => fitLoop(l, o));
    layers.push({ colour: palette[level.colour] as RGB, d: pathData(loops) });
  }
  return layers;
}

/**
 * Where a region meets a colour drawn later (above it), the region reaches one pixel under that colour, so
 * the two anti-aliased edges do not fall on the same line (there, whatever lies below both shows through the
 * seam). Only pixels of a later colour that touch the region and nothing else (no background, no colour
 * drawn earlier) are taken, so the region never shows past the later colour's far side. Marks them in
 * `inside` and returns them (null when there are none).
 */
function tuckUnder(
  inside: Uint8Array,
  labels: Uint8Array,
  w: number,
  h: number,
  member: Uint8Array,
  above: Uint8Array,
): Uint8Array | null {
  let out: Uint8Array | null = null;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!above[labels[p] as number]) continue;
      let touches = false;
      let clear = true;
      const look = (q: number) => {
        const l = labels[q] as number;
        if (member[l]) touches = true;
        else if (!above[l]) clear = false;
      };
      if (x > 0) look(p - 1);
      if (x + 1 < w) look(p + 1);
      if (y > 0) look(p - w);
      if (y + 1 < h) look(p + w);
      if (!touches || !clear) continue;
      out ??= new Uint8Array(w * h);
      out[p] = 1;
    }
  if (out) for (let p = 0; p < w * h; p++) if (out[p]) inside[p] = 1;
  return out;
}

/** 4-neighbour pixel pairs between labels (`adj[a * k + b]`) and pixels per label; slot k − 1 is transparent. */
function labelStats(labels: Uint8Array, w: number, h: number, k: number): { adj: Float64Array; counts: number[] } {
  const slot = (l: number) => (l === TRANSPARENT ? k - 1 : l);
  const adj = new Float64Array(k * k);
  const counts = new Array<number>(k).fill(0);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const a = slot(labels[p] as number);
      counts[a] = (counts[a] as number) + 1;
      if (x + 1 < w) {
        const b = slot(labels[p + 1] as number);
        if (a !== b) {
          adj[a * k + b] = (adj[a * k + b] as number) + 1;
          adj[b * k + a] = (adj[b * k + a] as number) + 1;
        }
      }
      if (y + 1 < h) {
        const b = slot(labels[p + w] as number);
        if (a !== b) {
          adj[a * k + b] = (adj[a * k + b] as number) + 1;
          adj[b * k + a] = (adj[b * k + a] as number) + 1;
        }
      }
    }
  return { adj, counts };
}

/**
 * Palette colours that are only the anti-aliased seam between two others: thin (at least one neighbour of
 * another label per pixel, on average) and lying on the colour segment between the two labels they touch
 * most. Tracing them would draw a sliver along every edge; the seam's pixels belong to one side or the other.
 * Returns each such colour with its two sides.
 */
export function blendColours(
  palette: RGB[],
  draw: number[],
  adj: Float64Array,
  counts: number[],
  k: number,
): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (const m of draw) {
    let touching = 0;
    const near: { l: number; n: number }[] = [];
    for (let b = 0; b < k - 1; b++) {
      const n = adj[m * k + b] as number;
      touching += n;
      if (n > 0 && b !== m) near.push({ l: b, n });
    }
    if (touching < (counts[m] as number) || near.length < 2) continue;
    near.sort((x, y) => y.n - x.n || x.l - y.l);
    const a = palette[(near[0] as { l: number }).l] as RGB;
    const b = palette[(near[1] as { l: number }).l] as RGB;
    const c = palette[m] as RGB;
    const ab: RGB = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    const len2 = ab[0] ** 2 + ab[1] ** 2 + ab[2] ** 2;
    if (len2 === 0) continue;
    const t = ((c[0] - a[0]) * ab[0] + (c[1] - a[1]) * ab[1] + (c[2] - a[2]) * ab[2]) / len2;
    const off = Math.sqrt(
      (a[0] + t * ab[0] - c[0]) ** 2 + (a[1] + t * ab[1] - c[1]) ** 2 + (a[2] + t * ab[2] - c[2]) ** 2,
    );
    if (t > 0.1 && t < 0.9 && off <= 0.2 * Math.sqrt(len2))
      out.set(m, [(near[0] as { l: number }).l, (near[1] as { l: number }).l]);
  }
  return out;
}

/** Labels with each blend colour's pixels given to the side its own colour is nearer to. */
function unblend(img: Raster, labels: Uint8Array, palette: RGB[], blends: Map<number, [number, number]>): Uint8Array {
  const out = Uint8Array.from(labels);
  const d = img.data;
  for (let p = 0; p < out.length; p++) {
    const sides = blends.get(out[p] as number);
    if (!sides) continue;
    const a = palette[sides[0]] as RGB;
    const b = palette[sides[1]] as RGB;
    const o = p * 4;
    let t = 0;
    let n = 0;
    for (let c = 0; c < 3; c++) {
      const ac = a[c] as number;
      const bc = b[c] as number;
      t += ((d[o + c] as number) - ac) * (bc - ac);
      n += (bc - ac) ** 2;
    }
    out[p] = t / n < 0.5 ? sides[0] : sides[1];
  }
  return out;
}
