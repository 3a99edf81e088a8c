import type { Raster, RGB } from "./types";

/**
 * Background removal for logos on a flat background: the background is the median colour of the
 * image's edge; `border` clears (alpha 0) the pixels within tolerance that are connected to the edge,
 * `all` clears every pixel within tolerance; `auto` clears what `border` does and also the enclosed regions
 * of the background colour that are holes of the mark (see holesOfMark). A soft band next to the cleared region gets partial alpha
 * from how far each pixel lies from the background towards the nearby foreground colour, and takes that
 * foreground colour (solving c = a·fg + (1−a)·bg for fg), so no halo of the old background remains.
 */

export type TransparentMode = "border" | "all" | "auto";

export function edgeColour(img: Raster): { colour: RGB; alpha: number } {
  const { width: w, height: h, data } = img;
  const rs: number[] = [];
  const gs: number[] = [];
  const bs: number[] = [];
  const as: number[] = [];
  const push = (x: number, y: number) => {
    const o = (y * w + x) * 4;
    rs.push(data[o] as number);
    gs.push(data[o + 1] as number);
    bs.push(data[o + 2] as number);
    as.push(data[o + 3] as number);
  };
  for (let x = 0; x < w; x++) {
    push(x, 0);
    if (h > 1) push(x, h - 1);
  }
  for (let y = 1; y < h - 1; y++) {
    push(0, y);
    if (w > 1) push(w - 1, y);
  }
  const median = (v: number[]) => {
    v.sort((a, b) => a - b);
    return v[v.length >> 1] ?? 0;
  };
  return { colour: [median(rs), median(gs), median(bs)], alpha: median(as) };
}

/** Marks (1) every pixel `near` the background that is 4-connected to the image's edge. */
export function floodFromEdge(removed: Uint8Array, near: (p: number) => boolean, w: number, h: number): void {
  const n = w * h;
  const queue = new Int32Array(n);
  let tail = 0;
  const seed = (p: number) => {
    if (!removed[p] && near(p)) {
      removed[p] = 1;
      queue[tail++] = p;
    }
  };
  for (let x = 0; x < w; x++) {
    seed(x);
    seed((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    seed(y * w);
    seed(y * w + w - 1);
  }
  for (let head = 0; head < tail; head++) {
    const p = queue[head] as number;
    const x = p % w;
    if (x > 0) seed(p - 1);
    if (x < w - 1) seed(p + 1);
    if (p >= w) seed(p - w);
    if (p + w < n) seed(p + w);
  }
}

/** An enclosed region is a hole of the mark when the mark around it is less than this many times as thick
 * as the region itself: the median distance from the region's rim to the outside background, through the
 * mark, is less than HOLE_REACH times the region's inscribed radius. A counter or the inside of a ring sits
 * one stroke from the outside (ratio about 1–3); a shape drawn on a filled field sits deep in the field
 * (white letters on a badge: 5–30). */
export const HOLE_REACH = 4;
/** The bound when the mark around the region is of several colours (see onSeveralColours): a ring of two
 * colours still holds its inside (ratio about 1), a white shape across a field of several shades (ratio 3 and
 * more, the C of a hexagon) stays. */
export const HOLE_REACH_MIXED = 2;

/**
 * `auto`: among the enclosed regions of the background colour (not connected to the edge), the holes of
 * the mark go (the counters of letters, the inside of a ring), shapes drawn on a filled field stay (see
 * HOLE_REACH). Distances are city-block, in pixels.
 */
function holesOfMark(
  removed: Uint8Array,
  near: (p: number) => boolean,
  w: number,
  h: number,
  data: Uint8Array,
  background: readonly [number, number, number],
): void {
  const n = w * h;
  // Distance from the removed outside (BFS through everything else), capped.
  const CAP = 65535;
  const dist = new Uint16Array(n).fill(CAP);
  const queue = new Int32Array(n);
  let tail = 0;
  for (let p = 0; p < n; p++)
    if (removed[p]) {
      dist[p] = 0;
      queue[tail++] = p;
    }
  for (let head = 0; head < tail; head++) {
    const p = queue[head] as number;
    const d = (dist[p] as number) + 1;
    const x = p % w;
    const visit = (q: number) => {
      if ((dist[q] as number) > d) {
        dist[q] = d;
        queue[tail++] = q;
      }
    };
    if (x > 0) visit(p - 1);
    if (x < w - 1) visit(p + 1);
    if (p >= w) visit(p - w);
    if (p + w < n) visit(p + w);
  }
  // region[p]: 1 + index of the enclosed region p belongs to (0: none yet).
  const region = new Int32Array(n);
  const inner = new Uint16Array(n); // distance from the region's rim, inside the region
  const rim: number[] = [];
  let id = 0;
  for (let start = 0; start < n; start++) {
    if (removed[start] || region[start] || !near(start)) continue;
    id++;
    tail = 0;
    queue[tail++] = start;
    region[start] = id;
    for (let head = 0; head < tail; head++) {
      const p = queue[head] as number;
      const x = p % w;
      for (let j = 0; j < 4; j++) {
        const q = j === 0 ? (x > 0 ? p - 1 : -1) : j === 1 ? (x < w - 1 ? p + 1 : -1) : j === 2 ? p - w : p + w;
        if (q < 0 || q >= n || region[q] || removed[q] || !near(q)) continue;
        region[q] = id;
        queue[tail++] = q;
      }
    }
    const area = tail;
    // Rim pixels (a 4-neighbour outside the region), their distances to the outside, and the
    // inscribed radius (BFS inwards from the rim).
    rim.length = 0;
    for (let i = 0; i < area; i++) {
      const p = queue[i] as number;
      const x = p % w;
      const onRim =
        x === 0 ||
        x === w - 1 ||
        p < w ||
        p + w >= n ||
        region[p - 1] !== id ||
        region[p + 1] !== id ||
        region[p - w] !== id ||
        region[p + w] !== id;
      inner[p] = onRim ? 1 : 0;
      if (onRim) rim.push(p);
    }
    const ring = rim.map((p) => dist[p] as number).sort((a, b) => a - b);
    const reach = ring[ring.length >> 1] ?? 0;
    let radius = 1;
    let head = 0;
    tail = 0;
    const front = new Int32Array(area);
    for (const p of rim) front[tail++] = p;
    for (; head < tail; head++) {
      const p = front[head] as number;
      const d = (inner[p] as number) + 1;
      const x = p % w;
      for (let j = 0; j < 4; j++) {
        const q = j === 0 ? (x > 0 ? p - 1 : -1) : j === 1 ? (x < w - 1 ? p + 1 : -1) : j === 2 ? p - w : p + w;
        if (q < 0 || q >= n || region[q] !== id || inner[q] !== 0) continue;
        inner[q] = d;
        if (d > radius) radius = d;
        front[tail++] = q;
      }
    }
    // A ratio of exactly HOLE_REACH counts as drawn on a field (the A of a shield, 56 px deep for a 14 px radius).
    let hole = reach <= 3 || reach < HOLE_REACH * radius;
    if (hole && reach > 3 && onSeveralColours(rim, region, id, removed, near, w, h, data, background))
      hole = reach <= HOLE_REACH_MIXED * radius;
    if (hole) for (let i = 0; i < area; i++) removed[queue[i] as number] = 1;
  }
}

/** Of the mark colours around a region, a colour counts when it holds at least this share of the rim. */
export const RIM_COLOUR_SHARE = 0.2;
/** Two rim colours are one colour within this distance (RGB, Euclidean): JPEG noise and shading stay one. */
const RIM_COLOUR_DISTANCE = 48;

/**
 * Whether the mark around an enclosed region is of two or more colours: a counter sits inside one stroke of
 * one colour (a letter, a ring), while a shape drawn on a field often crosses the field's parts (the white C of
 * a hexagon in three shades). Each rim pixel looks up to 4 px outwards and takes the pixel farthest from the
 * background colour (the stroke's own colour, past its anti-aliased edge); the colours found are grouped
 * (RIM_COLOUR_DISTANCE), and a colour counts from RIM_COLOUR_SHARE of the rim.
 */
function onSeveralColours(
  rim: number[],
  region: Int32Array,
  id: number,
  removed: Uint8Array,
  near: (p: number) => boolean,
  w: number,
  h: number,
  data: Uint8Array,
  background: readonly [number, number, number],
): boolean {
  const groups: { r: number; g: number; b: number; count: number }[] = [];
  let seen = 0;
  for (const p of rim) {
    const x = p % w;
    const y = (p - x) / w;
    // The first direction that leaves the region.
    let dx = 0;
    let dy = 0;
    if (x > 0 && region[p - 1] !== id) dx = -1;
    else if (x < w - 1 && region[p + 1] !== id) dx = 1;
    else if (y > 0 && region[p - w] !== id) dy = -1;
    else if (y < h - 1 && region[p + w] !== id) dy = 1;
    else continue;
    let best = -1;
    let bestDistance = -1;
    for (let k = 1; k <= 4; k++) {
      const qx = x + k * dx;
      const qy = y + k * dy;
      if (qx < 0 || qx >= w || qy < 0 || qy >= h) break;
      const q = qy * w + qx;
      if (removed[q] || region[q] === id) break;
      if (near(q)) continue;
      const o = q * 4;
      const d =
        ((data[o] as number) - background[0]) ** 2 +
        ((data[o + 1] as number) - background[1]) ** 2 +
        ((data[o + 2] as number) - background[2]) ** 2;
      if (d > bestDistance) {
        bestDistance = d;
        best = o;
      }
    }
    if (best < 0) continue;
    const r = data[best] as number;
    const g = data[best + 1] as number;
    const b = data[best + 2] as number;
    seen++;
    const group = groups.find((c) => (c.r - r) ** 2 + (c.g - g) ** 2 + (c.b - b) ** 2 <= RIM_COLOUR_DISTANCE ** 2);
    if (group) group.count++;
    else groups.push({ r, g, b, count: 1 });
  }
  if (seen === 0) return false;
  return groups.filter((c) => c.count >= RIM_COLOUR_SHARE * seen).length >= 2;
}

export function removeBackground(img: Raster, mode: TransparentMode, tolerance: number): Raster {
  const { width: w, height: h, data } = img;
  const n = w * h;
  const out = new Uint8Array(data);
  const edge = edgeColour(img);
  // A source whose edge is already transparent has no background to remove.
  if (edge.alpha < 128) return { data: out, width: w, height: h };
  const [br, bg, bb] = edge.colour;
  const tol = (Math.max(0, Math.min(100, tolerance)) / 100) * 255;
  const near = (p: number) => {
    const o = p * 4;
    return (
      Math.abs((data[o] as number) - br) <= tol &&
      Math.abs((data[o + 1] as number) - bg) <= tol &&
      Math.abs((data[o + 2] as number) - bb) <= tol &&
      (data[o + 3] as number) >= 128
    );
  };
  const removed = new Uint8Array(n);
  if (mode === "all") {
    for (let p = 0; p < n; p++) if (near(p)) removed[p] = 1;
  } else {
    floodFromEdge(removed, near, w, h);
    if (mode === "auto") holesOfMark(removed, near, w, h, data, [br, bg, bb]);
  }
  // Distance (Chebyshev, up to BAND+REF) of each kept pixel from the removed region.
  const BAND = 2;
  const REF = 2;
  const far = BAND + REF + 1;
  const dist = new Uint8Array(n).fill(far);
  for (let p = 0; p < n; p++) if (removed[p]) dist[p] = 0;
  for (let d = 1; d < far; d++) {
    for (let p = 0; p < n; p++) {
      if (dist[p] !== far) continue;
      const x = p % w;
      const y = (p - x) / w;
      let hit = false;
      for (let dy = -1; dy <= 1 && !hit; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          if (dist[yy * w + xx] === d - 1) {
            hit = true;
            break;
          }
        }
      }
      if (hit) dist[p] = d;
    }
  }
  for (let p = 0; p < n; p++) {
    const o = p * 4;
    if (removed[p]) {
      out[o + 3] = 0;
      continue;
    }
    const d = dist[p] as number;
    if (d > BAND) continue;
    // Foreground reference: the kept pixel within reach farthest from the background (the solid colour).
    const x = p % w;
    const y = (p - x) / w;
    const r = BAND + REF;
    let fr = data[o] as number;
    let fg = data[o + 1] as number;
    let fb = data[o + 2] as number;
    let best = (fr - br) ** 2 + (fg - bg) ** 2 + (fb - bb) ** 2;
    for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
      for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
        const q = yy * w + xx;
        if (removed[q] || (dist[q] as number) <= d) continue;
        const oq = q * 4;
        const e =
          ((data[oq] as number) - br) ** 2 +
          ((data[oq + 1] as number) - bg) ** 2 +
          ((data[oq + 2] as number) - bb) ** 2;
        if (e > best) {
          best = e;
          fr = data[oq] as number;
          fg = data[oq + 1] as number;
          fb = data[oq + 2] as number;
        }
      }
    }
    if (best <= 0) continue;
    // alpha = projection of (c − bg) on (fg − bg), clamped.
    const vr = fr - br;
    const vg = fg - bg;
    const vb = fb - bb;
    const cr = (data[o] as number) - br;
    const cg = (data[o + 1] as number) - bg;
    const cb = (data[o + 2] as number) - bb;
    const a = Math.max(0, Math.min(1, (cr * vr + cg * vg + cb * vb) / best));
    if (a >= 0.998) continue;
    // A pixel far off the bg–fg line is another colour of the mark, not a blend: keep it opaque.
    const pr = cr - a * vr;
    const pg = cg - a * vg;
    const pb = cb - a * vb;
    if (pr * pr + pg * pg + pb * pb > 48 * 48) continue;
    const alpha = Math.round(a * ((data[o + 3] as number) / 255) * 255);
    out[o] = fr;
    out[o + 1] = fg;
    out[o + 2] = fb;
    out[o + 3] = alpha;
  }
  return { data: out, width: w, height: h };
}

/** Bounding box of pixels with alpha above `threshold`, or null when everything is transparent. */
export function alphaBox(
  img: Raster,
  threshold = 16,
): { left: number; top: number; width: number; height: number } | null {
  const { width: w, height: h, data } = img;
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w * 4;
    for (let x = 0; x < w; x++) {
      if ((data[row + x * 4 + 3] as number) > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}
