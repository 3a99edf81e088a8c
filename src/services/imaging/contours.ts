/**
 * Sub-pixel contours of a region of a labelled image, for the colour trace (layers.ts): marching squares over
 * the pixel centres of a region (a set of palette labels). Which side a pixel is on comes from the labels (so
 * the topology is exactly the speck-cleaned label map); where a crossing sits on the segment between two
 * centres comes from a coverage estimate of the pixel's colour (`d_out / (d_in + d_out)`, the distances to the
 * nearest colour inside and outside the region: exactly the blend factor on an anti-aliased edge between two
 * colours), so a contour runs along the 50% coverage line of the source, not along pixel edges.
 */

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
