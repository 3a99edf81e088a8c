import type { Raster, RGB } from "./types";

/**
 * Palette reduction for tracing: dominant colours are found as peaks of a 15-bit colour histogram
 * (greedy, most frequent first, each new colour at least MIN_DISTANCE from the chosen ones, each with a
 * minimum share so anti-aliasing blends and JPEG noise never become colours), refined by a few weighted
 * k-means steps, then every pixel is mapped to its nearest colour and specks (small connected regions)
 * are merged into their neighbours. Deterministic: no randomness anywhere.
 */

export const TRANSPARENT = 255;

export interface Quantized {
  palette: RGB[];
  /** Pixels per palette entry (transparent pixels not counted). */
  counts: number[];
  /** One label per pixel: a palette index, or TRANSPARENT. */
  labels: Uint8Array;
  width: number;
  height: number;
  /** The label most frequent on the image's edge (may be TRANSPARENT). */
  background: number;
}

const MIN_DISTANCE = 40;
const MIN_SHARE = 0.0015;

const dist2 = (a: RGB, r: number, g: number, b: number) => (a[0] - r) ** 2 + (a[1] - g) ** 2 + (a[2] - b) ** 2;

export function buildPalette(img: Raster, maxColors: number): RGB[] {
  const { data } = img;
  const n = img.width * img.height;
  const count = new Uint32Array(32768);
  const sr = new Float64Array(32768);
  const sg = new Float64Array(32768);
  const sb = new Float64Array(32768);
  let opaque = 0;
  for (let p = 0, o = 0; p < n; p++, o += 4) {
    if ((data[o + 3] as number) < 128) continue;
    const r = data[o] as number;
    const g = data[o + 1] as number;
    const b = data[o + 2] as number;
    const bin = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    count[bin] = (count[bin] as number) + 1;
    sr[bin] = (sr[bin] as number) + r;
    sg[bin] = (sg[bin] as number) + g;
    sb[bin] = (sb[bin] as number) + b;
    opaque++;
  }
  if (opaque === 0) return [[0, 0, 0]];
  const bins: number[] = [];
  for (let i = 0; i < 32768; i++) if ((count[i] as number) > 0) bins.push(i);
  bins.sort((a, b) => (count[b] as number) - (count[a] as number) || a - b);
  const mean = (bin: number): RGB => {
    const c = count[bin] as number;
    return [(sr[bin] as number) / c, (sg[bin] as number) / c, (sb[bin] as number) / c];
  };
  const minCount = Math.max(1, opaque * MIN_SHARE);
  let centres: RGB[] = [];
  for (const bin of bins) {
    if (centres.length >= maxColors || (count[bin] as number) < minCount) break;
    const m = mean(bin);
    if (centres.every((c) => dist2(c, m[0], m[1], m[2]) >= MIN_DISTANCE * MIN_DISTANCE)) centres.push(m);
  }
  if (centres.length === 0) centres.push(mean(bins[0] as number));
  // Weighted k-means over the bins near a centre (blends far from every centre do not pull them).
  const near = (MIN_DISTANCE / 2) ** 2;
  for (let iter = 0; iter < 4; iter++) {
    const acc = centres.map(() => [0, 0, 0, 0]);
    for (const bin of bins) {
      const m = mean(bin);
      let best = 0;
      let bestD = Number.POSITIVE_INFINITY;
      for (let k = 0; k < centres.length; k++) {
        const d = dist2(centres[k] as RGB, m[0], m[1], m[2]);
        if (d < bestD) {
          bestD = d;
          best = k;
        }
      }
      if (bestD > near) continue;
      const a = acc[best] as number[];
      const c = count[bin] as number;
      a[0] = (a[0] as number) + (sr[bin] as number);
      a[1] = (a[1] as number) + (sg[bin] as number);
      a[2] = (a[2] as number) + (sb[bin] as number);
      a[3] = (a[3] as number) + c;
    }
    centres = centres.map((c, k) => {
      const a = acc[k] as number[];
      const w = a[3] as number;
      return w > 0 ? [(a[0] as number) / w, (a[1] as number) / w, (a[2] as number) / w] : c;
    });
  }
  return centres.map((c) => [Math.round(c[0]), Math.round(c[1]), Math.round(c[2])] as RGB);
}

export function nearestLabels(img: Raster, palette: RGB[]): Uint8Array {
  const { data } = img;
  const n = img.width * img.height;
  const labels = new Uint8Array(n);
  const k = palette.length;
  const flat = new Int32Array(k * 3);
  for (let i = 0; i < k; i++) flat.set(palette[i] as RGB, i * 3);
  let lastKey = -1;
  let lastLabel = 0;
  for (let p = 0, o = 0; p < n; p++, o += 4) {
    if ((data[o + 3] as number) < 128) {
      labels[p] = TRANSPARENT;
      continue;
    }
    const r = data[o] as number;
    const g = data[o + 1] as number;
    const b = data[o + 2] as number;
    const key = (r << 16) | (g << 8) | b;
    if (key === lastKey) {
      labels[p] = lastLabel;
      continue;
    }
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    for (let i = 0; i < k; i++) {
      const dr = (flat[i * 3] as number) - r;
      const dg = (flat[i * 3 + 1] as number) - g;
      const db = (flat[i * 3 + 2] as number) - b;
      const d = dr * dr + dg * dg + db * db;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    labels[p] = best;
    lastKey = key;
    lastLabel = best;
  }
  return labels;
}

/** Merges 4-connected regions smaller than `minSize` pixels into their most common neighbouring label. */
export function removeSpecks(labels: Uint8Array, width: number, height: number, minSize: number, passes = 2): void {
  const n = width * height;
  const comp = new Int32Array(n);
  const queue = new Int32Array(n);
  for (let pass = 0; pass < passes; pass++) {
    comp.fill(-1);
    let changed = false;
    let id = 0;
    for (let start = 0; start < n; start++) {
      if ((comp[start] as number) >= 0) continue;
      const label = labels[start] as number;
      let head = 0;
      let tail = 0;
      queue[tail++] = start;
      comp[start] = id;
      while (head < tail) {
        const p = queue[head++] as number;
        const x = p % width;
        if (x > 0 && comp[p - 1] === -1 && labels[p - 1] === label) {
          comp[p - 1] = id;
          queue[tail++] = p - 1;
        }
        if (x < width - 1 && comp[p + 1] === -1 && labels[p + 1] === label) {
          comp[p + 1] = id;
          queue[tail++] = p + 1;
        }
        if (p >= width && comp[p - width] === -1 && labels[p - width] === label) {
          comp[p - width] = id;
          queue[tail++] = p - width;
        }
        if (p + width < n && comp[p + width] === -1 && labels[p + width] === label) {
          comp[p + width] = id;
          queue[tail++] = p + width;
        }
      }
      if (tail < minSize) {
        // Most common label around the region (queue[0..tail) holds its pixels).
        const votes = new Map<number, number>();
        for (let q = 0; q < tail; q++) {
          const p = queue[q] as number;
          const x = p % width;
          const around = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width];
          for (const nb of around) {
            if (nb < 0 || nb >= n || comp[nb] === id) continue;
            const l = labels[nb] as number;
            votes.set(l, (votes.get(l) ?? 0) + 1);
          }
        }
        let best = -1;
        let bestVotes = 0;
        for (const [l, v] of votes)
          if (v > bestVotes || (v === bestVotes && l < best)) {
            best = l;
            bestVotes = v;
          }
        if (best >= 0 && best !== label) {
          for (let q = 0; q < tail; q++) labels[queue[q] as number] = best;
          changed = true;
        }
      }
      id++;
    }
    if (!changed) break;
  }
}

export function edgeLabel(labels: Uint8Array, width: number, height: number): number {
  const votes = new Map<number, number>();
  const vote = (p: number) => {
    const l = labels[p] as number;
    votes.set(l, (votes.get(l) ?? 0) + 1);
  };
  for (let x = 0; x < width; x++) {
    vote(x);
    vote((height - 1) * width + x);
  }
  for (let y = 1; y < height - 1; y++) {
    vote(y * width);
    vote(y * width + width - 1);
  }
  let best = 0;
  let bestVotes = -1;
  for (const [l, v] of votes)
    if (v > bestVotes || (v === bestVotes && l < best)) {
      best = l;
      bestVotes = v;
    }
  return best;
}

export function quantize(img: Raster, maxColors: number, speckFraction = 0.00002): Quantized {
  const palette = buildPalette(img, maxColors);
  const labels = nearestLabels(img, palette);
  const minSize = Math.max(4, Math.round(img.width * img.height * speckFraction));
  removeSpecks(labels, img.width, img.height, minSize);
  const counts = palette.map(() => 0);
  for (let p = 0; p < labels.length; p++) {
    const l = labels[p] as number;
    if (l !== TRANSPARENT) counts[l] = (counts[l] as number) + 1;
  }
  return {
    palette,
    counts,
    labels,
    width: img.width,
    height: img.height,
    background: edgeLabel(labels, img.width, img.height),
  };
}

export const hex = (c: RGB) =>
  `#${c
    .map((v) =>
      Math.max(0, Math.min(255, Math.round(v)))
        .toString(16)
        .padStart(2, "0"),
    )
    .join("")
    .toUpperCase()}`;

export function parseHex(s: string): RGB {
  const n = Number.parseInt(s.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export const luminance = (c: RGB) => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
