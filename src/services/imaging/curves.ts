/**
 * Closed contours as curves, for the colour trace (layers.ts), no dependency:
 *
 * 1. Corners: points where the contour turns sharply within a short arc.
 * 2. Fitting: between corners, the longest runs that one cubic Bézier (or one line) follows within a
 *    tolerance (least squares with fixed end tangents and Newton reparameterisation, after Schneider,
 *    "An algorithm for automatically fitting digitized curves", Graphics Gems, 1990), taken greedily.
 * 3. Writing: relative commands, integer coordinates on a 1/GRID px grid (rounded as absolute positions, so
 *    errors never accumulate).
 */

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
