import type { Raster } from "./types";

/**
 * Finds the wordmark of a mark by the shapes of its parts: the mark's opaque pixels split into connected
 * components, and a line of text is a row of several of them side by side, of similar heights, their tops
 * or bottoms aligned (cap line, x-height, baseline), with small gaps between them. Whatever is not text
 * (nor a dot, an accent or a ® beside the text) is the symbol; of several separate clusters of symbol
 * parts, the largest. A mark that is all text is a wordmark alone.
 */

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Component {
  x0: number;
  y0: number;
  x1: number; // inclusive
  y1: number;
  area: number;
  /** Pixels of it that differ from the background: the stroke of a letter whose inside is kept, all of a solid shape. */
  ink: number;
  /** Mean colour of its pixels that differ from the background (all of them when none does). */
  colour: [number, number, number];
}

export interface MarkAnalysis {
  /** Component label per pixel of the (possibly reduced) analysis grid, -1 for empty. */
  labels: Int32Array;
  /** Analysis grid size and its scale to the mark (mark px = grid px × step). */
  width: number;
  height: number;
  step: number;
  components: Component[];
  /** Indices of the components that are text, grouped by line (top to bottom). */
  lines: number[][];
  /** Indices of the symbol's components; empty when there is no text or no symbol beside it. */
  symbol: number[];
}

const MAX_GRID = 1024;

/** 8-connected components of alpha > 127, on a grid of at most MAX_GRID px a side. */
export function components(
  mark: Raster,
  background: readonly number[] = [255, 255, 255],
): Pick<MarkAnalysis, "labels" | "width" | "height" | "step" | "components"> {
  const step = Math.max(1, Math.ceil(Math.max(mark.width, mark.height) / MAX_GRID));
  const w = Math.ceil(mark.width / step);
  const h = Math.ceil(mark.height / step);
  const on = new Uint8Array(w * h);
  const d = mark.data;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      // A reduced cell is set when any of its pixels is: thin strokes survive the reduction.
      let set = 0;
      for (let yy = y * step; yy < Math.min(mark.height, (y + 1) * step) && !set; yy++)
        for (let xx = x * step; xx < Math.min(mark.width, (x + 1) * step); xx++)
          if ((d[(yy * mark.width + xx) * 4 + 3] as number) > 127) {
            set = 1;
            break;
          }
      on[y * w + x] = set;
    }
  const labels = new Int32Array(w * h).fill(-1);
  const parent: number[] = [];
  const find = (a: number) => {
    let r = a;
    while (parent[r] !== r) r = parent[r] as number;
    while (parent[a] !== r) {
      const n = parent[a] as number;
      parent[a] = r;
      a = n;
    }
    return r;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!on[p]) continue;
      let l = -1;
      const look = (q: number) => {
        const lq = labels[q] as number;
        if (lq < 0) return;
        if (l < 0) l = lq;
        else if (lq !== l) union(l, lq);
      };
      if (x > 0) look(p - 1);
      if (y > 0) {
        if (x > 0) look(p - w - 1);
        look(p - w);
        if (x + 1 < w) look(p - w + 1);
      }
      if (l < 0) {
        l = parent.length;
        parent.push(l);
      }
      labels[p] = l;
    }
  const index = new Int32Array(parent.length).fill(-1);
  const comps: Component[] = [];
  const sums: number[][] = [];
  for (let p = 0; p < w * h; p++) {
    const l = labels[p] as number;
    if (l < 0) continue;
    const root = find(l);
    let i = index[root] as number;
    if (i < 0) {
      i = comps.length;
      index[root] = i;
      comps.push({ x0: w, y0: h, x1: -1, y1: -1, area: 0, ink: 0, colour: [0, 0, 0] });
      sums.push([0, 0, 0, 0, 0, 0, 0, 0]);
    }
    labels[p] = i;
    const c = comps[i] as Component;
    const x = p % w;
    const y = (p - x) / w;
    if (x < c.x0) c.x0 = x;
    if (x > c.x1) c.x1 = x;
    if (y < c.y0) c.y0 = y;
    if (y > c.y1) c.y1 = y;
    c.area++;
    const o = (y * step * mark.width + x * step) * 4;
    const r = d[o] as number;
    const g = d[o + 1] as number;
    const b = d[o + 2] as number;
    const sum = sums[i] as number[];
    const k =
      Math.abs(r - (background[0] ?? 255)) +
        Math.abs(g - (background[1] ?? 255)) +
        Math.abs(b - (background[2] ?? 255)) >
      48
        ? 0
        : 4;
    sum[k] = (sum[k] as number) + r;
    sum[k + 1] = (sum[k + 1] as number) + g;
    sum[k + 2] = (sum[k + 2] as number) + b;
    sum[k + 3] = (sum[k + 3] as number) + 1;
  }
  comps.forEach((c, i) => {
    const s = sums[i] as number[];
    c.ink = s[3] as number;
    const k = c.ink > 0 ? 0 : 4;
    const n = (s[k + 3] as number) || 1;
    c.colour = [(s[k] as number) / n, (s[k + 1] as number) / n, (s[k + 2] as number) / n];
  });
  return { labels, width: w, height: h, step, components: comps };
}

const hOf = (c: Component) => c.y1 - c.y0 + 1;
const wOf = (c: Component) => c.x1 - c.x0 + 1;

/** Could a and b be neighbouring letters of one line? */
function letterPair(a: Component, b: Component): boolean {
  const ha = hOf(a);
  const hb = hOf(b);
  const hmax = Math.max(ha, hb);
  const hmin = Math.min(ha, hb);
  const ratio = hmax / hmin;
  const tops = Math.abs(a.y0 - b.y0) <= 0.1 * hmax;
  const bottoms = Math.abs(a.y1 - b.y1) <= 0.1 * hmax;
  const centred = Math.abs(a.y0 + a.y1 - b.y0 - b.y1) / 2 <= 0.12 * hmax;
  if (!(((tops || bottoms) && ratio <= 2.3) || (centred && ratio <= 1.25))) return false;
  // Side by side: little horizontal overlap (kerning), a gap below a letter's height.
  const overlap = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) + 1;
  if (overlap > 0.4 * Math.min(wOf(a), wOf(b))) return false;
  return -overlap <= 1.2 * hmax;
}

const median = (v: number[]) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length === 0 ? 0 : (s[s.length >> 1] as number);
};

/** The box around some components (grid px, inclusive). */
function extentOf(cs: Component[]): { x0: number; x1: number; y0: number; y1: number } {
  return {
    x0: Math.min(...cs.map((c) => c.x0)),
    x1: Math.max(...cs.map((c) => c.x1)),
    y0: Math.min(...cs.map((c) => c.y0)),
    y1: Math.max(...cs.map((c) => c.y1)),
  };
}

/** Two colours this close (RGB, Euclidean) are one colour here. */
const ONE_COLOUR = 60;

/** Are two colours one colour (within ONE_COLOUR)? */
const sameColour = (a: readonly number[], b: readonly number[]) =>
  Math.hypot(...a.map((v, k) => v - (b[k] as number))) <= ONE_COLOUR;

/** The per-channel median colour of some components. */
const medianColour = (cs: { colour: readonly number[] }[]) =>
  [0, 1, 2].map((k) => median(cs.map((c) => c.colour[k] as number)));

/** Is this row of components (sorted by x) a line of text? */
function isTextLine(cs: Component[]): boolean {
  if (cs.length < 3) return false;
  const hs = cs.map(hOf);
  const hm = median(hs);
  const similar = hs.filter((h) => h >= 0.55 * hm && h <= 1.6 * hm).length;
  if (similar < 0.7 * cs.length) return false;
  // Letters sit on a baseline (or hang from a cap line): most bottoms, or most tops, in line.
  const bottom = median(cs.map((c) => c.y1));
  const top = median(cs.map((c) => c.y0));
  const onBase = cs.filter((c) => Math.abs(c.y1 - bottom) <= 0.08 * hm).length;
  const onTop = cs.filter((c) => Math.abs(c.y0 - top) <= 0.08 * hm).length;
  if (Math.max(onBase, onTop) < 0.5 * cs.length) return false;
  const { x0, x1, y0, y1 } = extentOf(cs);
  return x1 - x0 + 1 >= 1.5 * (y1 - y0 + 1);
}

/** What the tests below read of an analysis: the components and the label grid. */
type Parts = Pick<MarkAnalysis, "labels" | "width" | "components">;

/** A joined word crosses a line through its middle at least this many times per letter height of its width. */
const SCRIPT_CROSSINGS = 1.5;

/**
 * Is this row of two or more components (sorted by x) a line of joined letters, a script or a word whose letters
 * touch, where too few separate letters make a text line? Of one colour, wide, and ridged: a line through its
 * middle crosses ink again and again (the strokes of letters), where a drawn shape of that width is crossed once or
 * twice (a bow tie, a swoosh, a bar).
 */
function isJoinedLine(row: number[], a: Parts): boolean {
  if (row.length < 2) return false;
  const cs = row.map((i) => a.components[i] as Component);
  const { x0, x1, y0, y1 } = extentOf(cs);
  if (x1 - x0 + 1 < 2 * (y1 - y0 + 1)) return false;
  const colour = medianColour(cs);
  if (cs.some((c) => !sameColour(c.colour, colour))) return false;
  return ridged(row, a);
}

/**
 * Does a line through the middle of these parts cross ink at least SCRIPT_CROSSINGS times per height of width (and
 * at least `least` times)?
 */
function ridged(parts: number[], a: Parts, least = 0): boolean {
  const { x0, x1, y0, y1 } = extentOf(parts.map((i) => a.components[i] as Component));
  const h = y1 - y0 + 1;
  const members = new Set(parts);
  const crossings: number[] = [];
  // Five lines across the middle band (letters' x-height sits in it, whatever their ascenders and descenders).
  for (let k = 0; k < 5; k++) {
    const y = Math.round(y0 + h * (0.35 + 0.075 * k));
    let runs = 0;
    let inside = false;
    for (let x = x0; x <= x1; x++) {
      const on = members.has(a.labels[y * a.width + x] as number);
      if (on && !inside) runs++;
      inside = on;
    }
    crossings.push(runs);
  }
  const crossed = median(crossings);
  return crossed >= least && crossed >= (SCRIPT_CROSSINGS * (x1 - x0 + 1)) / h;
}

/** Splits a row (sorted by x) where a gap is far wider than the gaps between its letters (a symbol set apart). */
function breakAtGaps(row: number[], comps: Component[]): number[][] {
  if (row.length < 2) return [row];
  const gaps: number[] = [];
  let right = (comps[row[0] as number] as Component).x1;
  for (let k = 1; k < row.length; k++) {
    const c = comps[row[k] as number] as Component;
    gaps.push(Math.max(0, c.x0 - right - 1));
    right = Math.max(right, c.x1);
  }
  const hm = median(row.map((i) => hOf(comps[i] as Component)));
  const limit = Math.max(3 * median(gaps), 0.3 * hm, 2);
  const out: number[][] = [[row[0] as number]];
  gaps.forEach((g, k) => {
    if (g > limit) out.push([]);
    (out[out.length - 1] as number[]).push(row[k + 1] as number);
  });
  return out;
}

/**
 * A symbol aligned with the letters joins their row: the row's columns (members overlapping in x) are
 * taken off either end while the end one is far bigger than the row's typical letter (4× its area or 3.5× its
 * ink), far taller than the others (1.4× the tallest fifth), reaches from the cap line to well below the
 * baseline, or has another colour than its neighbour and the row.
 */
function peelSymbols(row: number[], a: Parts): number[] {
  const comps = a.components;
  type Col = {
    members: number[];
    x0: number;
    x1: number;
    y0: number;
    y1: number;
    area: number;
    ink: number;
    colour: number[];
  };
  const cols: Col[] = [];
  for (const i of row) {
    const c = comps[i] as Component;
    const last = cols[cols.length - 1];
    const overlap = last ? Math.min(last.x1, c.x1) - Math.max(last.x0, c.x0) + 1 : 0;
    if (last && overlap > 0.3 * Math.min(last.x1 - last.x0 + 1, wOf(c))) {
      const n = last.area + c.area;
      last.colour = last.colour.map((v, k) => (v * last.area + (c.colour[k] as number) * c.area) / n);
      last.members.push(i);
      last.x1 = Math.max(last.x1, c.x1);
      last.y0 = Math.min(last.y0, c.y0);
      last.y1 = Math.max(last.y1, c.y1);
      last.area = n;
      last.ink += c.ink;
    } else
      cols.push({
        members: [i],
        x0: c.x0,
        x1: c.x1,
        y0: c.y0,
        y1: c.y1,
        area: c.area,
        ink: c.ink,
        colour: [...c.colour],
      });
  }
  const apart = (k: number, next: number) => {
    if (cols.length < 4) return false;
    const col = cols[k] as Col;
    const others = cols.filter((_, j) => j !== k);
    const typical = medianColour(others);
    // Several letters joined into one part (twilio's "twi", CoffeeScript's "Coff") are heavy and wide, but of the
    // letters' colour, hardly taller than they are (a capital, an ascender and a descender) and ridged like text:
    // not a symbol.
    const h0 = col.y1 - col.y0 + 1;
    if (
      col.x1 - col.x0 + 1 >= 1.2 * h0 &&
      sameColour(col.colour, typical) &&
      h0 <= 1.35 * Math.max(...others.map((o) => o.y1 - o.y0 + 1)) &&
      ridged(col.members, a)
    )
      return false;
    const hs = others.map((o) => o.y1 - o.y0 + 1).sort((x, y) => x - y);
    const h80 = hs[Math.min(hs.length - 1, Math.floor(0.8 * hs.length))] as number;
    const im = median(others.map((o) => o.ink));
    const wm = median(others.map((o) => o.x1 - o.x0 + 1));
    const h = col.y1 - col.y0 + 1;
    const tallest = hs[hs.length - 1] as number;
    // Far more ink than a letter (the counters the cut keeps do not count: they are background-coloured).
    if (col.ink >= 3.5 * im && h >= 0.8 * median(hs)) return true;
    // Far taller than most letters, and heavier or wider than one (a capital or an ascender is not).
    if (h >= 1.4 * h80 && (col.ink >= 1.5 * im || col.x1 - col.x0 + 1 >= 1.5 * wm)) return true;
    // From the cap line to well below the baseline, taller than every letter: a symbol centred on the text.
    const baseline = median(others.map((o) => o.y1));
    const capLine = Math.min(...others.map((o) => o.y0));
    const cap = baseline - capLine + 1;
    if (h >= 1.15 * tallest && col.y0 <= capLine + 0.1 * cap && col.y1 >= baseline + 0.15 * cap) return true;
    // Another colour than both its neighbour and most of the row's letters.
    const oneColour = others.filter((o) => sameColour(o.colour, typical)).length >= 0.7 * others.length;
    return oneColour && !sameColour(col.colour, (cols[next] as Col).colour) && !sameColour(col.colour, typical);
  };
  for (let changed = true; changed; ) {
    changed = false;
    if (apart(0, 1)) {
      cols.shift();
      changed = true;
    }
    if (apart(cols.length - 1, cols.length - 2)) {
      cols.pop();
      changed = true;
    }
  }
  return cols.flatMap((c) => c.members);
}

/**
 * Letters left out of a line (a descender after an ascender, a capital before lowercase): a part at either
 * end of the line, as close as its letters are to each other, across its band, no taller than its tallest
 * letter (or, before a line of x-height letters, than a capital), with a letter's ink and the line's colour.
 */
function joinLetters(line: number[], candidates: number[], text: Set<number>, a: Parts): void {
  const comps = a.components;
  for (let joined = true; joined; ) {
    joined = false;
    const cs = line.map((i) => comps[i] as Component);
    const hs = cs.map(hOf);
    const hm = median(hs);
    const hmax = Math.max(...hs);
    const im = median(cs.map((c) => c.ink));
    const am = median(cs.map((c) => c.area));
    const colour = medianColour(cs);
    const { x0, x1, y0, y1 } = extentOf(cs);
    const lowercase = hmax <= 1.2 * Math.min(...hs);
    // As close as its letters are to each other (a symbol keeps its distance).
    const xs = [...cs].sort((a, b) => a.x0 - b.x0);
    const spacing = median(xs.slice(1).map((c, k) => Math.max(0, c.x0 - (xs[k] as Component).x1 - 1)));
    const reach = Math.max(2.5 * spacing, 0.25 * hm);
    for (const i of candidates) {
      if (text.has(i)) continue;
      const c = comps[i] as Component;
      const h = hOf(c);
      if (!(h <= 1.15 * hmax || (lowercase && h <= 1.8 * hm))) continue;
      const across = Math.min(c.y1, y1) - Math.max(c.y0, y0) + 1;
      if (across < 0.5 * Math.min(h, y1 - y0 + 1)) continue;
      const gap = c.x0 > x1 ? c.x0 - x1 : x0 - c.x1;
      if (gap < -0.3 * wOf(c) || gap > reach) continue;
      // Heavier than a letter: several letters joined (twilio's "twi") still are, when ridged like text.
      if ((c.ink > 2.5 * im || c.area > 3 * am) && !(wOf(c) >= 1.2 * h && ridged([i], a))) continue;
      // Another colour: a word of a two-colour wordmark (MySQL's "My"), when its strokes cross a line through its
      // middle as letters do and at least twice; a disc, a stroke or a triangle beside the text is crossed once.
      if (!sameColour(c.colour, colour) && !ridged([i], a, 2)) continue;
      text.add(i);
      line.push(i);
      joined = true;
    }
  }
}

export function analyseMark(mark: Raster, background?: readonly number[]): MarkAnalysis {
  const base = components(mark, background);
  const comps = base.components;
  const ink = comps.reduce((s, c) => s + c.area, 0) || 1;
  // Specks (JPEG noise, a ® too small to matter) take no part in finding lines.
  const big = comps
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.area >= 0.0002 * ink && hOf(c) >= 3)
    .sort((a, b) => b.c.area - a.c.area)
    .slice(0, 600)
    .map(({ i }) => i);

  // Rows: components linked by letterPair, transitively.
  const parent = new Map<number, number>(big.map((i) => [i, i]));
  const find = (a: number): number => {
    let r = a;
    while (parent.get(r) !== r) r = parent.get(r) as number;
    return r;
  };
  for (let u = 0; u < big.length; u++)
    for (let v = u + 1; v < big.length; v++) {
      const a = big[u] as number;
      const b = big[v] as number;
      if (letterPair(comps[a] as Component, comps[b] as Component)) {
        const ra = find(a);
        const rb = find(b);
        if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb));
      }
    }
  const rows = new Map<number, number[]>();
  for (const i of big) {
    const r = find(i);
    rows.set(r, [...(rows.get(r) ?? []), i]);
  }
  const lines: number[][] = [];
  // Parts taken off a line's end as a symbol: they never rejoin it as letters.
  const peeled = new Set<number>();
  for (const row of rows.values()) {
    row.sort((a, b) => (comps[a] as Component).x0 - (comps[b] as Component).x0);
    for (const piece of breakAtGaps(row, comps)) {
      const core = peelSymbols(piece, base);
      if (isTextLine(core.map((i) => comps[i] as Component)) || isJoinedLine(core, base)) {
        lines.push(core);
        for (const i of piece) if (!core.includes(i)) peeled.add(i);
      }
    }
  }

  const text = new Set(lines.flat());
  for (const line of lines)
    joinLetters(
      line,
      big.filter((i) => !peeled.has(i)),
      text,
      base,
    );
  // Dots, accents, punctuation and marks beside a line belong to it; so does anything inside a line's box.
  for (const line of lines) {
    const cs = line.map((i) => comps[i] as Component);
    const hm = median(cs.map(hOf));
    const { x0, x1, y0, y1 } = extentOf(cs);
    comps.forEach((c, i) => {
      if (text.has(i)) return;
      const inside = c.x0 >= x0 && c.x1 <= x1 && c.y0 >= y0 && c.y1 <= y1;
      const near =
        hOf(c) <= 0.6 * hm &&
        c.x0 >= x0 - 0.6 * hm &&
        c.x1 <= x1 + 0.6 * hm &&
        c.y0 >= y0 - 0.7 * hm &&
        c.y1 <= y1 + 0.7 * hm;
      if (inside || near) {
        text.add(i);
        line.push(i);
      }
    });
  }
  lines.sort((a, b) => Math.min(...a.map((i) => comps[i]?.y0 ?? 0)) - Math.min(...b.map((i) => comps[i]?.y0 ?? 0)));

  let symbol: number[] = [];
  if (lines.length > 0) {
    // The rest, clustered by nearness; the cluster with the most ink is the symbol.
    const rest = big.filter((i) => !text.has(i));
    const cp = new Map<number, number>(rest.map((i) => [i, i]));
    const cfind = (a: number): number => {
      let r = a;
      while (cp.get(r) !== r) r = cp.get(r) as number;
      return r;
    };
    for (let u = 0; u < rest.length; u++)
      for (let v = u + 1; v < rest.length; v++) {
        const a = comps[rest[u] as number] as Component;
        const b = comps[rest[v] as number] as Component;
        const gap = Math.max(b.x0 - a.x1, a.x0 - b.x1, b.y0 - a.y1, a.y0 - b.y1, 0);
        const size = Math.max(wOf(a), hOf(a), wOf(b), hOf(b));
        if (gap <= 0.15 * size) {
          const ra = cfind(rest[u] as number);
          const rb = cfind(rest[v] as number);
          if (ra !== rb) cp.set(Math.max(ra, rb), Math.min(ra, rb));
        }
      }
    const clusters = new Map<number, number[]>();
    for (const i of rest) {
      const r = cfind(i);
      clusters.set(r, [...(clusters.get(r) ?? []), i]);
    }
    // Parts of one symbol around the text (arcs above and below it) are near each other for their size;
    // a second copy of the symbol at the far end of the text is not.
    const groups = [...clusters.values()];
    const extent = (g: number[]) => extentOf(g.map((i) => comps[i] as Component));
    for (let merged = true; merged; ) {
      merged = false;
      for (let u = 0; u < groups.length && !merged; u++)
        for (let v = u + 1; v < groups.length && !merged; v++) {
          const a = extent(groups[u] as number[]);
          const b = extent(groups[v] as number[]);
          const gap = Math.max(b.x0 - a.x1, a.x0 - b.x1, b.y0 - a.y1, a.y0 - b.y1, 0);
          const size = Math.max(a.x1 - a.x0, a.y1 - a.y0, b.x1 - b.x0, b.y1 - b.y0) + 1;
          const inkA = (groups[u] as number[]).reduce((t, i) => t + (comps[i] as Component).ink, 0);
          const inkB = (groups[v] as number[]).reduce((t, i) => t + (comps[i] as Component).ink, 0);
          // Comparable parts only: a stray letter beside the symbol stays out.
          if (gap <= 0.5 * size && Math.min(inkA, inkB) >= 0.25 * Math.max(inkA, inkB)) {
            groups[u] = [...(groups[u] as number[]), ...(groups[v] as number[])];
            groups.splice(v, 1);
            merged = true;
          }
        }
    }
    let best = 0;
    for (const cl of groups) {
      const area = cl.reduce((s, i) => s + (comps[i] as Component).area, 0);
      if (area > best) {
        best = area;
        symbol = cl;
      }
    }
    // A symbol is more than a stray piece: at least as tall as the text's letters, or a fair share of the ink.
    if (symbol.length > 0) {
      const cs = symbol.map((i) => comps[i] as Component);
      const sh = Math.max(...cs.map((c) => c.y1)) - Math.min(...cs.map((c) => c.y0)) + 1;
      const letters = median(lines.flatMap((l) => l.map((i) => hOf(comps[i] as Component))));
      if (sh < 0.9 * letters && best < 0.1 * ink) symbol = [];
    }
  }
  return { ...base, lines, symbol };
}

/** Bounding box (mark pixels) of a set of components. */
export function boxOf(a: MarkAnalysis, indices: number[], markW: number, markH: number): Box {
  const cs = indices.map((i) => a.components[i] as Component);
  const x0 = Math.min(...cs.map((c) => c.x0)) * a.step;
  const y0 = Math.min(...cs.map((c) => c.y0)) * a.step;
  const x1 = Math.min(markW, (Math.max(...cs.map((c) => c.x1)) + 1) * a.step);
  const y1 = Math.min(markH, (Math.max(...cs.map((c) => c.y1)) + 1) * a.step);
  return { left: x0, top: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * The part of `mark` inside `box` with every pixel of the components in `drop` (and the pixels beside them,
 * their anti-aliased edge) made transparent: text that reaches into the symbol's box is left out.
 */
export function cutOut(mark: Raster, a: MarkAnalysis, box: Box, drop: Set<number>): Raster {
  const out = new Uint8Array(box.width * box.height * 4);
  const { step, width: gw, height: gh, labels } = a;
  for (let y = 0; y < box.height; y++) {
    const my = box.top + y;
    const from = (my * mark.width + box.left) * 4;
    out.set(mark.data.subarray(from, from + box.width * 4), y * box.width * 4);
    const gy = Math.floor(my / step);
    for (let x = 0; x < box.width; x++) {
      const gx = Math.floor((box.left + x) / step);
      const own = labels[gy * gw + gx] as number;
      if (own >= 0 && !drop.has(own)) continue;
      let clear = own >= 0;
      for (let dy = -1; dy <= 1 && !clear; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const qx = gx + dx;
          const qy = gy + dy;
          if (qx < 0 || qy < 0 || qx >= gw || qy >= gh) continue;
          const l = labels[qy * gw + qx] as number;
          if (l >= 0 && drop.has(l)) {
            clear = true;
            break;
          }
        }
      if (clear) out[(y * box.width + x) * 4 + 3] = 0;
    }
  }
  return { data: out, width: box.width, height: box.height };
}

/** A part this many times wider than tall is several letters joined, not one (W and M are about 1.2). */
const JOINED_WIDTH = 1.4;

/** The first letter of the wordmark: the left-most part of its main line (the tallest), with its dots and accents. */
export function firstLetter(a: MarkAnalysis): number[] {
  let main: number[] | null = null;
  let best = 0;
  for (const line of a.lines) {
    const hm = median(line.map((i) => hOf(a.components[i] as Component)));
    if (hm > best) {
      best = hm;
      main = line;
    }
  }
  if (!main || main.length === 0) return [];
  const first = a.components[main[0] as number] as Component;
  // Far wider than tall: letters joined into one shape (a script), no single letter to take.
  if (wOf(first) > JOINED_WIDTH * hOf(first)) return [];
  return main.filter((i) => {
    const c = a.components[i] as Component;
    const overlap = Math.min(c.x1, first.x1) - Math.max(c.x0, first.x0) + 1;
    return overlap > 0.5 * wOf(c);
  });
}
