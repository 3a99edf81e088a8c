/**
 * The colour trace's own tracer: sub-pixel contours and Bézier fitting, no dependency.
 *
 * 1. Contours: marching squares over the pixel centres of a region (a set of palette labels). Which
 *    side a pixel is on comes from the labels (so the topology is exactly the speck-cleaned label map);
 *    where a crossing sits on the segment between two centres comes from a coverage estimate of the
 *    pixel's colour (`d_out / (d_in + d_out)`, the distances to the nearest colour inside and outside the
 *    region: exactly the blend factor on an anti-aliased edge between two colours), so a contour runs
 *    along the 50% coverage line of the source, not along pixel edges.
 * 2. Corners: points where the contour turns sharply within a short arc.
 * 3. Fitting: between corners, the longest runs that one cubic Bézier (or one line) follows within a
 *    tolerance (least squares with fixed end tangents and Newton reparameterisation, after Schneider,
 *    "An algorithm for automatically fitting digitized curves", Graphics Gems, 1990), taken greedily.
 * 4. Writing: one path per colour, relative commands, integer coordinates on a 1/GRID px grid (rounded
 *    as absolute positions, so errors never accumulate).
 * 5. Stacking: the colours are drawn in an order chosen so that each is drawn as the union of itself and
 *    everything drawn above it, which needs no holes where a colour sits inside another; the order is the
 *    one with the shortest total outline (exact over all orders by a subset DP on label adjacencies).
 */

import { TRANSPARENT } from "./quantize";
import type { Raster, RGB } from "./types";

/** Coordinates are written as integers in 1/GRID of a pixel. */
export const GRID = 10;

export interface FitOptions {
  /** Largest distance, in px, from a contour point to its fitted curve. */
  tolerance: number;
  /** A point is a corner when the contour turns by more than this (degrees) within `cornerReach` px either side. */
  cornerAngle: number;
  cornerReach: number;
}

export const FIT: FitOptions = { tolerance: 0.35, cornerAngle: 55, cornerReach: 2.5 };

// ---------------------------------------------------------------- contours

interface Workspace {
  size: number;
  g: Uint8Array;
  cov: Float32Array;
  stamp: Int32Array;
  next: Int32Array;
  gen: number;
}
let shared: Workspace | null = null;

/** Buffers reused from one contour pass to the next (`next` is left all −1 by each pass). */
function workspace(size: number): Workspace {
  if (!shared || shared.size < size) {
    shared = {
      size,
      g: new Uint8Array(size),
      cov: new Float32Array(size),
      stamp: new Int32Array(size),
      next: new Int32Array(2 * size).fill(-1),
      gen: 0,
    };
  }
  return shared;
}

/**
 * Closed contours around the pixels where `inside` is 1 (w × h, row-major), as flat [x0, y0, x1, y1, …]
 * arrays in pixel units (pixel (x, y) covers [x, x+1) × [y, y+1)). Outer contours run one way and holes
 * the other, so they fill right under the nonzero rule. `cover(p)` is the pixel's coverage estimate
 * (0..1); it places each crossing between two pixel centres, clamped to the side `inside` says.
 */
export function contours(w: number, h: number, inside: Uint8Array, cover: (p: number) => number): Float64Array[] {
  const GW = w + 2;
  const GH = h + 2;
  const ws = workspace(GW * GH);
  const { g, cov, stamp, next } = ws;
  const gen = ++ws.gen;
  g.fill(0);
  for (let y = 0; y < h; y++) g.set(inside.subarray(y * w, y * w + w), (y + 1) * GW + 1);
  const coverAt = (gp: number): number => {
    if (stamp[gp] === gen) return cov[gp] as number;
    const gx = gp % GW;
    const gy = (gp - gx) / GW;
    const raw = gx === 0 || gy === 0 || gx === GW - 1 || gy === GH - 1 ? 0 : cover((gy - 1) * w + gx - 1);
    const c = g[gp] ? Math.min(1, Math.max(0.505, raw)) : Math.max(0, Math.min(0.495, raw));
    cov[gp] = c;
    stamp[gp] = gen;
    return c;
  };
  const V = GW * GH; // vertical edge ids start here
  const starts: number[] = [];
  for (let cy = 0; cy < GH - 1; cy++) {
    const row = cy * GW;
    let b = g[row] as number;
    let c = g[row + GW] as number;
    for (let cx = 0; cx < GW - 1; cx++) {
      const tl = row + cx;
      const a = b;
      const d = c;
      b = g[tl + 1] as number;
      c = g[tl + GW + 1] as number;
      const code = (a << 3) | (b << 2) | (c << 1) | d;
      if (code === 0 || code === 15) continue;
      const top = tl;
      const right = V + tl + 1;
      const bottom = tl + GW;
      const left = V + tl;
      if (code === 10 || code === 5) {
        const centre = coverAt(tl) + coverAt(tl + 1) + coverAt(tl + GW + 1) + coverAt(tl + GW) > 2;
        if (code === 10) {
          // tl and br inside: top exits, right enters, bottom exits, left enters
          if (centre) {
            next[right] = top;
            next[left] = bottom;
          } else {
            next[left] = top;
            next[right] = bottom;
          }
          starts.push(right, left);
        } else {
          // tr and bl inside: top enters, right exits, bottom enters, left exits
          if (centre) {
            next[top] = left;
            next[bottom] = right;
          } else {
            next[top] = right;
            next[bottom] = left;
          }
          starts.push(top, bottom);
        }
        continue;
      }
      // Walking clockwise (top, right, bottom, left), one edge is entered (out → in), one exited.
      let enter = -1;
      let exit = -1;
      if (a !== b) {
        if (a) exit = top;
        else enter = top;
      }
      if (b !== c) {
        if (b) exit = right;
        else enter = right;
      }
      if (c !== d) {
        if (c) exit = bottom;
        else enter = bottom;
      }
      if (d !== a) {
        if (d) exit = left;
        else enter = left;
      }
      next[enter] = exit;
      starts.push(enter);
    }
  }
  const point = (e: number, out: number[]) => {
    let p: number;
    let q: number;
    if (e < V) {
      p = e;
      q = e + 1;
    } else {
      p = e - V;
      q = p + GW;
    }
    if (!g[p]) {
      const t = p;
      p = q;
      q = t;
    }
    const fp = coverAt(p);
    const fq = coverAt(q);
    const t = (fp - 0.5) / (fp - fq);
    const px = p % GW;
    const py = (p - px) / GW;
    const qx = q % GW;
    const qy = (q - qx) / GW;
    // grid point (gx, gy) is the centre of pixel (gx - 1, gy - 1): (gx - 0.5, gy - 0.5)
    out.push(px - 0.5 + t * (qx - px), py - 0.5 + t * (qy - py));
  };
  const loops: Float64Array[] = [];
  for (const e0 of starts) {
    if ((next[e0] as number) < 0) continue;
    const pts: number[] = [];
    let e = e0;
    while (e >= 0) {
      point(e, pts);
      const n = next[e] as number;
      next[e] = -1;
      e = n;
    }
    loops.push(Float64Array.from(pts));
  }
  return loops;
}

// ---------------------------------------------------------------- fitting

/** A line to (x, y), with the least-squares line of the points it stands for (a point on it, unit direction); or a cubic. */
export type Seg =
  | { line: true; x: number; y: number; fit?: [number, number, number, number] }
  | { line: false; c: [number, number, number, number, number, number] };

export interface Fitted {
  x0: number;
  y0: number;
  segs: Seg[];
}

/** Math.hypot is several times slower and needs no overflow care here. */
const hypot = (x: number, y: number) => Math.sqrt(x * x + y * y);

/** Index reached walking `dist` px of arc from i (dir ±1), on a closed loop of n points or an open run. */
function reach(cum: Float64Array, i: number, dist: number, dir: 1 | -1, n: number, closed: boolean, total: number) {
  let j = i;
  for (let steps = 0; steps < n; steps++) {
    const k = j + dir;
    if (!closed && (k < 0 || k >= n)) return j;
    const kk = (k + n) % n;
    let d = dir > 0 ? (cum[kk] as number) - (cum[i] as number) : (cum[i] as number) - (cum[kk] as number);
    if (closed && d < 0) d += total;
    j = kk;
    if (d >= dist) return j;
  }
  return j;
}

export function corners(xs: Float64Array, ys: Float64Array, cum: Float64Array, total: number, o: FitOptions): number[] {
  const n = xs.length;
  const turn = new Float64Array(n);
  const limit = Math.cos((o.cornerAngle * Math.PI) / 180);
  for (let i = 0; i < n; i++) {
    const a = reach(cum, i, o.cornerReach, -1, n, true, total);
    const b = reach(cum, i, o.cornerReach, 1, n, true, total);
    const x = xs[i] as number;
    const y = ys[i] as number;
    const ux = x - (xs[a] as number);
    const uy = y - (ys[a] as number);
    const vx = (xs[b] as number) - x;
    const vy = (ys[b] as number) - y;
    const lu = hypot(ux, uy);
    const lv = hypot(vx, vy);
    turn[i] = lu > 0 && lv > 0 ? (ux * vx + uy * vy) / (lu * lv) : 1; // cosine: lower turns more
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = turn[i] as number;
    if (t > limit) continue;
    // a local extreme within the reach (ties: the first)
    let best = true;
    const a = reach(cum, i, o.cornerReach, -1, n, true, total);
    const b = reach(cum, i, o.cornerReach, 1, n, true, total);
    for (let j = a; j !== b; j = (j + 1) % n) {
      if (j === i) continue;
      const u = turn[j] as number;
      if (u < t || (u === t && (j - a + n) % n < (i - a + n) % n)) {
        best = false;
        break;
      }
    }
    if (best) out.push(i);
  }
  return out;
}

interface Run {
  xs: Float64Array;
  ys: Float64Array;
}

const B0 = (t: number) => (1 - t) ** 3;
const B1 = (t: number) => 3 * t * (1 - t) ** 2;
const B2 = (t: number) => 3 * t * t * (1 - t);
const B3 = (t: number) => t ** 3;

type Cubic = [number, number, number, number, number, number, number, number];

type Tangent = [number, number] | null;

/**
 * The least-squares cubic through run[s..e] at parameters u, its ends fixed. A given end tangent fixes the
 * direction of that control point (only its distance is fitted); a null one leaves the control point free.
 * Null when the fit degenerates (a control point behind its end, or far beyond the chord).
 */
function generate(r: Run, s: number, e: number, u: Float64Array, t1: Tangent, t2: Tangent): Cubic | null {
  const x0 = r.xs[s] as number;
  const y0 = r.ys[s] as number;
  const x3 = r.xs[e] as number;
  const y3 = r.ys[e] as number;
  // unknowns: [α] or [P1x, P1y], then [β] or [P2x, P2y]; columns per point as (x, y) pairs
  const n1 = t1 ? 1 : 2;
  const m = n1 + (t2 ? 1 : 2);
  const A = new Float64Array(16);
  const v = new Float64Array(4);
  const cx = new Float64Array(4);
  const cy = new Float64Array(4);
  for (let i = s; i <= e; i++) {
    const t = u[i - s] as number;
    const b0 = B0(t);
    const b1 = B1(t);
    const b2 = B2(t);
    const b3 = B3(t);
    let rx = (r.xs[i] as number) - b0 * x0 - b3 * x3;
    let ry = (r.ys[i] as number) - b0 * y0 - b3 * y3;
    if (t1) {
      rx -= b1 * x0;
      ry -= b1 * y0;
      cx[0] = b1 * t1[0];
      cy[0] = b1 * t1[1];
    } else {
      cx[0] = b1;
      cy[0] = 0;
      cx[1] = 0;
      cy[1] = b1;
    }
    if (t2) {
      rx -= b2 * x3;
      ry -= b2 * y3;
      cx[n1] = -b2 * t2[0];
      cy[n1] = -b2 * t2[1];
    } else {
      cx[n1] = b2;
      cy[n1] = 0;
      cx[n1 + 1] = 0;
      cy[n1 + 1] = b2;
    }
    for (let j = 0; j < m; j++) {
      v[j] = (v[j] as number) + (cx[j] as number) * rx + (cy[j] as number) * ry;
      for (let k = 0; k < m; k++)
        A[j * 4 + k] =
          (A[j * 4 + k] as number) + (cx[j] as number) * (cx[k] as number) + (cy[j] as number) * (cy[k] as number);
    }
  }
  const sol = solve(A, v, m);
  if (!sol) return null;
  const seg = hypot(x3 - x0, y3 - y0);
  let p1x: number;
  let p1y: number;
  let p2x: number;
  let p2y: number;
  if (t1) {
    const al = sol[0] as number;
    if (!(al > 1e-3 * seg) || al > 2 * seg) return null;
    p1x = x0 + t1[0] * al;
    p1y = y0 + t1[1] * al;
  } else {
    p1x = sol[0] as number;
    p1y = sol[1] as number;
  }
  if (t2) {
    const be = sol[n1] as number;
    if (!(be > 1e-3 * seg) || be > 2 * seg) return null;
    p2x = x3 - t2[0] * be;
    p2y = y3 - t2[1] * be;
  } else {
    p2x = sol[n1] as number;
    p2y = sol[n1 + 1] as number;
  }
  // a free control point must lead into the curve, not behind its end or far out
  if (hypot(p1x - x0, p1y - y0) > 2 * seg || hypot(p2x - x3, p2y - y3) > 2 * seg) return null;
  if ((p1x - x0) * (x3 - x0) + (p1y - y0) * (y3 - y0) < 0) return null;
  if ((x3 - p2x) * (x3 - x0) + (y3 - p2y) * (y3 - y0) < 0) return null;
  return [x0, y0, p1x, p1y, p2x, p2y, x3, y3];
}

/** Gaussian elimination with partial pivoting on an m×m system (rows of A are 4 wide); null when singular. */
function solve(A: Float64Array, v: Float64Array, m: number): Float64Array | null {
  for (let c = 0; c < m; c++) {
    let piv = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r * 4 + c] as number) > Math.abs(A[piv * 4 + c] as number)) piv = r;
    if (Math.abs(A[piv * 4 + c] as number) < 1e-12) return null;
    if (piv !== c) {
      for (let k = 0; k < m; k++) {
        const t = A[c * 4 + k] as number;
        A[c * 4 + k] = A[piv * 4 + k] as number;
        A[piv * 4 + k] = t;
      }
      const t = v[c] as number;
      v[c] = v[piv] as number;
      v[piv] = t;
    }
    for (let r = c + 1; r < m; r++) {
      const f = (A[r * 4 + c] as number) / (A[c * 4 + c] as number);
      for (let k = c; k < m; k++) A[r * 4 + k] = (A[r * 4 + k] as number) - f * (A[c * 4 + k] as number);
      v[r] = (v[r] as number) - f * (v[c] as number);
    }
  }
  const x = new Float64Array(m);
  for (let r = m - 1; r >= 0; r--) {
    let acc = v[r] as number;
    for (let k = r + 1; k < m; k++) acc -= (A[r * 4 + k] as number) * (x[k] as number);
    x[r] = acc / (A[r * 4 + r] as number);
  }
  return x;
}

/** One Newton step per point towards the parameter of its nearest curve point. */
function reparam(r: Run, s: number, c: Cubic, u: Float64Array) {
  for (let i = 0; i < u.length; i++) {
    const t = u[i] as number;
    const px = r.xs[s + i] as number;
    const py = r.ys[s + i] as number;
    const mt = 1 - t;
    const qx = mt * mt * mt * c[0] + 3 * mt * mt * t * c[2] + 3 * mt * t * t * c[4] + t * t * t * c[6];
    const qy = mt * mt * mt * c[1] + 3 * mt * mt * t * c[3] + 3 * mt * t * t * c[5] + t * t * t * c[7];
    const d1x = 3 * (mt * mt * (c[2] - c[0]) + 2 * mt * t * (c[4] - c[2]) + t * t * (c[6] - c[4]));
    const d1y = 3 * (mt * mt * (c[3] - c[1]) + 2 * mt * t * (c[5] - c[3]) + t * t * (c[7] - c[5]));
    const d2x = 6 * (mt * (c[4] - 2 * c[2] + c[0]) + t * (c[6] - 2 * c[4] + c[2]));
    const d2y = 6 * (mt * (c[5] - 2 * c[3] + c[1]) + t * (c[7] - 2 * c[5] + c[3]));
    const num = (qx - px) * d1x + (qy - py) * d1y;
    const den = d1x * d1x + d1y * d1y + (qx - px) * d2x + (qy - py) * d2y;
    if (Math.abs(den) > 1e-12) u[i] = Math.min(1, Math.max(0, t - num / den));
  }
}

function maxError(r: Run, s: number, c: Cubic, u: Float64Array): number {
  let worst = 0;
  for (let i = 1; i < u.length - 1; i++) {
    const t = u[i] as number;
    const mt = 1 - t;
    const a = mt * mt * mt;
    const b = 3 * mt * mt * t;
    const d = 3 * mt * t * t;
    const e = t * t * t;
    const x = a * c[0] + b * c[2] + d * c[4] + e * c[6] - (r.xs[s + i] as number);
    const y = a * c[1] + b * c[3] + d * c[5] + e * c[7] - (r.ys[s + i] as number);
    const dd = x * x + y * y;
    if (dd > worst) worst = dd;
  }
  return Math.sqrt(worst);
}

/**
 * Largest distance from run[s..e] to the chord between its ends, leaving out the points within 1 px of
 * either end on runs longer than 4 px: an anti-aliased contour rounds a sharp corner a little, and the
 * corner itself is put back where the lines meet (snapJoints).
 */
function lineError(r: Run, s: number, e: number): number {
  const x0 = r.xs[s] as number;
  const y0 = r.ys[s] as number;
  const dx = (r.xs[e] as number) - x0;
  const dy = (r.ys[e] as number) - y0;
  const l = hypot(dx, dy);
  const trim = l > 4 ? 1 : 0;
  let worst = 0;
  for (let i = s + 1; i < e; i++) {
    const px = (r.xs[i] as number) - x0;
    const py = (r.ys[i] as number) - y0;
    if (trim && (hypot(px, py) < trim || hypot(px - dx, py - dy) < trim)) continue;
    const t = l > 0 ? (px * dx + py * dy) / (l * l) : 0;
    const d = t <= 0 ? hypot(px, py) : t >= 1 ? hypot(px - dx, py - dy) : Math.abs(px * dy - py * dx) / (l || 1);
    if (d > worst) worst = d;
  }
  return worst;
}

/** A cubic through run[s..e] with the given end tangents, within tol, or null. */
function fitCubic(r: Run, s: number, e: number, t1: Tangent, t2: Tangent, tol: number): Cubic | null {
  const n = e - s + 1;
  if (n < 4 && (!t1 || !t2)) return null; // too few points to place a free control point
  const u = new Float64Array(n);
  let len = 0;
  for (let i = 1; i < n; i++) {
    len += hypot(
      (r.xs[s + i] as number) - (r.xs[s + i - 1] as number),
      (r.ys[s + i] as number) - (r.ys[s + i - 1] as number),
    );
    u[i] = len;
  }
  if (len === 0) return null;
  for (let i = 1; i < n; i++) u[i] = (u[i] as number) / len;
  let c = generate(r, s, e, u, t1, t2);
  if (!c) return null;
  let err = maxError(r, s, c, u);
  for (let it = 0; it < 2 && err > tol && err < tol * 3; it++) {
    reparam(r, s, c, u);
    const next = generate(r, s, e, u, t1, t2);
    if (!next) return null;
    c = next;
    err = maxError(r, s, c, u);
  }
  return err <= tol ? c : null;
}

/** Fits an open run (points s..e of r) with lines and cubics, the first tangent given (or free at a corner). */
function fitRun(r: Run, s: number, e: number, tol: number, start: Tangent, end: Tangent, out: Seg[]) {
  let t1 = start;
  let i = s;
  // A piece's start tangent continues the previous piece (free after a corner); its end tangent is free
  // (the next piece continues it), except at the run's end, where `end` holds.
  const piece = (a: number, b: number): Seg | null => {
    if (b - a <= 1) return { line: true, x: r.xs[b] as number, y: r.ys[b] as number };
    const fit = lineFit(r, a, b);
    if (fit ? lineFitError(r, a, b, fit, a === s, b === e, tol) <= tol : lineError(r, a, b) <= tol)
      return { line: true, x: r.xs[b] as number, y: r.ys[b] as number, fit };
    const c = fitCubic(r, a, b, t1, b === e ? end : null, tol);
    return c ? { line: false, c: [c[2], c[3], c[4], c[5], c[6], c[7]] } : null;
  };
  while (i < e) {
    // the longest run from i that one piece follows: grow by doubling, then bisect
    let j = Math.min(e, i + 1);
    let seg = piece(i, j) as Seg;
    let step = 4;
    let bad = -1;
    while (j < e) {
      const m = Math.min(e, i + step);
      const tried = piece(i, m);
      if (!tried) {
        bad = m;
        break;
      }
      j = m;
      seg = tried;
      step *= 2;
    }
    while (bad - j > 1) {
      const m = (j + bad) >> 1;
      const tried = piece(i, m);
      if (tried) {
        j = m;
        seg = tried;
      } else bad = m;
    }
    out.push(seg);
    // the next piece leaves in the direction this one arrived
    let dx: number;
    let dy: number;
    if (seg.line) {
      const x0 = r.xs[i] as number;
      const y0 = r.ys[i] as number;
      dx = seg.x - x0;
      dy = seg.y - y0;
      if (seg.fit) {
        const sign = Math.sign(dx * seg.fit[2] + dy * seg.fit[3]) || 1;
        dx = sign * seg.fit[2];
        dy = sign * seg.fit[3];
      }
    } else {
      dx = seg.c[4] - seg.c[2];
      dy = seg.c[5] - seg.c[3];
    }
    const l = hypot(dx, dy);
    t1 = l > 1e-9 ? [dx / l, dy / l] : null;
    i = j;
  }
}

/** A closed contour as lines and cubics: split at corners, each stretch fitted greedily. */
export function fitLoop(loop: Float64Array, o: FitOptions = FIT): Fitted {
  const n = loop.length / 2;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = loop[2 * i] as number;
    ys[i] = loop[2 * i + 1] as number;
  }
  const cum = new Float64Array(n);
  for (let i = 1; i < n; i++)
    cum[i] =
      (cum[i - 1] as number) +
      hypot((xs[i] as number) - (xs[i - 1] as number), (ys[i] as number) - (ys[i - 1] as number));
  const total =
    (cum[n - 1] as number) +
    hypot((xs[0] as number) - (xs[n - 1] as number), (ys[0] as number) - (ys[n - 1] as number));
  if (n < 4) {
    return {
      x0: xs[0] as number,
      y0: ys[0] as number,
      segs: Array.from({ length: n - 1 }, (_, i) => ({
        line: true as const,
        x: xs[i + 1] as number,
        y: ys[i + 1] as number,
      })),
    };
  }
  const cs = corners(xs, ys, cum, total, o);
  // Rotate so the run starts at the first corner (or anywhere on a smooth loop) and ends back there.
  const start = cs.length ? (cs[0] as number) : 0;
  const m = n + 1;
  const rx = new Float64Array(m);
  const ry = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    rx[i] = xs[(start + i) % n] as number;
    ry[i] = ys[(start + i) % n] as number;
  }
  const run: Run = { xs: rx, ys: ry };
  const segs: Seg[] = [];
  if (cs.length === 0) {
    // smooth loop: both ends share the tangent at the joint, the chord through the points ~2 px either side
    let a = m - 2;
    let b = 1;
    const x0 = rx[0] as number;
    const y0 = ry[0] as number;
    while (a > m / 2 && hypot((rx[a] as number) - x0, (ry[a] as number) - y0) < 2) a--;
    while (b < m / 2 && hypot((rx[b] as number) - x0, (ry[b] as number) - y0) < 2) b++;
    const dx = (rx[b] as number) - (rx[a] as number);
    const dy = (ry[b] as number) - (ry[a] as number);
    const l = hypot(dx, dy) || 1;
    const t: [number, number] = [dx / l, dy / l];
    fitRun(run, 0, m - 1, o.tolerance, t, t, segs);
  } else {
    const idx = cs.map((c) => (c - start + n) % n);
    idx.push(n);
    for (let k = 0; k + 1 < idx.length; k++)
      fitRun(run, idx[k] as number, idx[k + 1] as number, o.tolerance, null, null, segs);
  }
  snapJoints(segs);
  const last = segs[segs.length - 1] as Seg;
  return last.line ? { x0: last.x, y0: last.y, segs } : { x0: last.c[4], y0: last.c[5], segs };
}

/**
 * The least-squares line through run[a..b] (its points more than 1 px from both ends, when there are
 * enough: the contour rounds a sharp corner a little, which would tilt or shift the line), or undefined.
 */
function lineFit(r: Run, a: number, b: number): [number, number, number, number] | undefined {
  const ax = r.xs[a] as number;
  const ay = r.ys[a] as number;
  const bx = r.xs[b] as number;
  const by = r.ys[b] as number;
  if (hypot(bx - ax, by - ay) < 4) return undefined;
  let n = 0;
  let sx = 0;
  let sy = 0;
  const inner: number[] = [];
  for (let i = a; i <= b; i++) {
    const x = r.xs[i] as number;
    const y = r.ys[i] as number;
    if (hypot(x - ax, y - ay) < 1 || hypot(x - bx, y - by) < 1) continue;
    inner.push(i);
    sx += x;
    sy += y;
    n++;
  }
  if (n < 3) return undefined;
  const mx = sx / n;
  const my = sy / n;
  let xx = 0;
  let xy = 0;
  let yy = 0;
  for (const i of inner) {
    const dx = (r.xs[i] as number) - mx;
    const dy = (r.ys[i] as number) - my;
    xx += dx * dx;
    xy += dx * dy;
    yy += dy * dy;
  }
  const angle = 0.5 * Math.atan2(2 * xy, xx - yy);
  return [mx, my, Math.cos(angle), Math.sin(angle)];
}

/**
 * Largest distance from run[a..b] to a fitted line, the points within 1 px of the ends left out. An end
 * may be up to 1 px off the line where it is a corner (`loose`: the contour rounds corners, and
 * snapJoints puts them back on the line), within the tolerance elsewhere.
 */
function lineFitError(
  r: Run,
  a: number,
  b: number,
  f: [number, number, number, number],
  looseA: boolean,
  looseB: boolean,
  tol: number,
): number {
  const ax = r.xs[a] as number;
  const ay = r.ys[a] as number;
  const bx = r.xs[b] as number;
  const by = r.ys[b] as number;
  const dist = (x: number, y: number) => Math.abs((x - f[0]) * f[3] - (y - f[1]) * f[2]);
  if (dist(ax, ay) > (looseA ? 1 : tol) || dist(bx, by) > (looseB ? 1 : tol)) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = a + 1; i < b; i++) {
    const x = r.xs[i] as number;
    const y = r.ys[i] as number;
    if (hypot(x - ax, y - ay) < 1 || hypot(x - bx, y - by) < 1) continue;
    worst = Math.max(worst, dist(x, y));
  }
  return worst;
}

/**
 * Moves each joint next to a fitted line onto that line: between two lines, to their intersection (the
 * sharp corner the anti-aliased contour rounded off); beside one line, to its nearest point. A cubic
 * keeps its tangent: its control point next to the joint moves with it.
 */
function snapJoints(segs: Seg[]) {
  const n = segs.length;
  if (n < 2) return;
  const end = (s: Seg): [number, number] => (s.line ? [s.x, s.y] : [s.c[4], s.c[5]]);
  for (let i = 0; i < n; i++) {
    const a = segs[i] as Seg;
    const b = segs[(i + 1) % n] as Seg;
    const fa = a.line ? a.fit : undefined;
    const fb = b.line ? b.fit : undefined;
    if (!fa && !fb) continue;
    const [jx, jy] = end(a);
    const onto = (f: [number, number, number, number], x: number, y: number): [number, number] => {
      const t = (x - f[0]) * f[2] + (y - f[1]) * f[3];
      return [f[0] + t * f[2], f[1] + t * f[3]];
    };
    let nx = jx;
    let ny = jy;
    let done = false;
    if (fa && fb) {
      const det = fa[2] * fb[3] - fa[3] * fb[2];
      if (Math.abs(det) > 0.2) {
        const t = ((fb[0] - fa[0]) * fb[3] - (fb[1] - fa[1]) * fb[2]) / det;
        nx = fa[0] + t * fa[2];
        ny = fa[1] + t * fa[3];
        // a sharp tip is pulled back further by the rounding: allow more there
        done = hypot(nx - jx, ny - jy) <= 3;
      }
      if (!done) {
        // nearly parallel (or too far): a point close to both lines
        [nx, ny] = onto(fa, jx, jy);
        [nx, ny] = onto(fb, nx, ny);
      }
    } else [nx, ny] = onto((fa ?? fb) as [number, number, number, number], jx, jy);
    const dx = nx - jx;
    const dy = ny - jy;
    if (hypot(dx, dy) > 3) continue;
    if (a.line) {
      a.x = nx;
      a.y = ny;
    } else {
      a.c[2] += dx;
      a.c[3] += dy;
      a.c[4] = nx;
      a.c[5] = ny;
    }
    if (!b.line) {
      b.c[0] += dx;
      b.c[1] += dy;
    }
  }
}

// ---------------------------------------------------------------- writing

/** Path data for closed fitted loops: relative commands, integers on a 1/grid px grid (px × scale first). */
export function pathData(loops: Fitted[], grid = GRID): string {
  let out = "";
  let last = "";
  let cx = 0;
  let cy = 0;
  const num = (v: number, first: boolean) => (first || v < 0 ? String(v) : ` ${v}`);
  const cmd = (c: string, vals: number[]) => {
    let s = c === last && c !== "M" && c !== "m" ? ((vals[0] as number) < 0 ? "" : " ") : c;
    vals.forEach((v, i) => {
      s += num(v, i === 0);
    });
    out += s;
    last = c;
  };
  const R = (v: number) => Math.round(v * grid);
  for (const f of loops) {
    const x0 = R(f.x0);
    const y0 = R(f.y0);
    if (out === "") cmd("M", [x0, y0]);
    else cmd("m", [x0 - cx, y0 - cy]);
    cx = x0;
    cy = y0;
    for (let k = 0; k < f.segs.length; k++) {
      const s = f.segs[k] as Seg;
      const lastSeg = k === f.segs.length - 1;
      if (s.line) {
        const x = R(s.x);
        const y = R(s.y);
        if (lastSeg && x === x0 && y === y0) break; // z closes it
        if (x === cx && y === cy) continue;
        if (y === cy) cmd("h", [x - cx]);
        else if (x === cx) cmd("v", [y - cy]);
        else cmd("l", [x - cx, y - cy]);
        cx = x;
        cy = y;
      } else {
        const c = s.c.map(R);
        cmd("c", [
          (c[0] as number) - cx,
          (c[1] as number) - cy,
          (c[2] as number) - cx,
          (c[3] as number) - cy,
          (c[4] as number) - cx,
          (c[5] as number) - cy,
        ]);
        cx = c[4] as number;
        cy = c[5] as number;
      }
    }
    out += "z";
    last = "z";
    cx = x0;
    cy = y0;
  }
  return out;
}

// ---------------------------------------------------------------- layers

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
