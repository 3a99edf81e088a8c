import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { makeAsset } from "../../src/services/deliverables/make";
import { contours } from "../../src/services/imaging/contours";
import { type Fitted, fitLoop, pathData } from "../../src/services/imaging/curves";
import { blendColours, coverage, stackOrder, stackRegion, traceLayers } from "../../src/services/imaging/layers";
import { nearestLabels } from "../../src/services/imaging/quantize";
import type { RGB } from "../../src/services/imaging/types";
import { fidelity, fixture, renderSvgRaw } from "./fixtures";

const limits = { maxPixels: 25_000_000 };
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const doc = (w: number, h: number, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${body}</svg>`;

/** An anti-aliased drawing on white, its labels against `palette` and the contours of label 1. */
function traced(body: string, palette: RGB[], size = 256) {
  const img = renderSvgRaw(doc(size, size, `<rect width="${size}" height="${size}" fill="#FFFFFF"/>${body}`), size);
  const labels = nearestLabels(img, palette);
  const member = new Uint8Array(256);
  member[1] = 1;
  const inside = labels.map((l) => (l === 1 ? 1 : 0));
  return { img, labels, loops: contours(size, size, inside, coverage(img, palette, member)) };
}

const signedArea = (l: Float64Array) => {
  let a = 0;
  const n = l.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    a += (l[2 * i] as number) * (l[2 * j + 1] as number) - (l[2 * j] as number) * (l[2 * i + 1] as number);
  }
  return a / 2;
};

/** Points along a fitted loop (each segment sampled), in px. */
function sample(f: Fitted, per = 16): [number, number][] {
  const out: [number, number][] = [];
  let x = f.x0;
  let y = f.y0;
  for (const s of f.segs) {
    if (s.line) {
      for (let i = 1; i <= per; i++) out.push([x + ((s.x - x) * i) / per, y + ((s.y - y) * i) / per]);
      x = s.x;
      y = s.y;
    } else {
      const [x1, y1, x2, y2, x3, y3] = s.c;
      for (let i = 1; i <= per; i++) {
        const t = i / per;
        const m = 1 - t;
        out.push([
          m * m * m * x + 3 * m * m * t * x1 + 3 * m * t * t * x2 + t * t * t * x3,
          m * m * m * y + 3 * m * m * t * y1 + 3 * m * t * t * y2 + t * t * t * y3,
        ]);
      }
      x = x3;
      y = y3;
    }
  }
  return out;
}

const INK: RGB[] = [
  [255, 255, 255],
  [20, 30, 120],
];

describe("fit: contours", () => {
  test("an anti-aliased disc's contour runs on the 50% coverage line, within 0.1 px of the true circle", () => {
    const { loops } = traced(`<circle cx="128.3" cy="127.6" r="80.25" fill="#141E78"/>`, INK);
    expect(loops.length).toBe(1);
    const l = loops[0] as Float64Array;
    let worst = 0;
    let sq = 0;
    for (let i = 0; i < l.length; i += 2) {
      const e = Math.hypot((l[i] as number) - 128.3, (l[i + 1] as number) - 127.6) - 80.25;
      worst = Math.max(worst, Math.abs(e));
      sq += e * e;
    }
    // On pixel edges (a plain bitmap trace) the error reaches half a pixel, about 0.3 px rms; what is left
    // here is the renderer's own anti-aliasing, which samples coverage in steps.
    expect(Math.sqrt(sq / (l.length / 2))).toBeLessThan(0.1);
    expect(worst).toBeLessThan(0.25);
  });

  test("a hole runs the other way round, so the nonzero rule leaves it empty", () => {
    const { loops } = traced(
      `<circle cx="128" cy="128" r="90" fill="#141E78"/><circle cx="128" cy="128" r="40" fill="#FFFFFF"/>`,
      INK,
    );
    expect(loops.length).toBe(2);
    const areas = loops.map(signedArea).sort((a, b) => Math.abs(b) - Math.abs(a));
    expect(Math.sign(areas[0] as number)).toBe(-Math.sign(areas[1] as number));
    expect(Math.abs(areas[0] as number)).toBeCloseTo(Math.PI * 90 * 90, -2);
    expect(Math.abs(areas[1] as number)).toBeCloseTo(Math.PI * 40 * 40, -2);
  });

  test("an image that is all inside gives one contour along its border (marching squares cuts its corners)", () => {
    const loops = contours(4, 3, new Uint8Array(12).fill(1), () => 1);
    expect(loops.length).toBe(1);
    // the image's 12 px² less a 0.125 px² triangle at each corner
    expect(Math.abs(signedArea(loops[0] as Float64Array))).toBeCloseTo(11.5, 5);
  });
});

describe("fit: curves", () => {
  test("a circle fits with a few cubics that stay within the tolerance of it", () => {
    const { loops } = traced(`<circle cx="128" cy="128" r="100" fill="#141E78"/>`, INK);
    const f = fitLoop(loops[0] as Float64Array);
    expect(f.segs.length).toBeLessThanOrEqual(8);
    expect(f.segs.every((s) => !s.line)).toBe(true);
    for (const [x, y] of sample(f)) expect(Math.abs(Math.hypot(x - 128, y - 128) - 100)).toBeLessThan(0.4);
  });

  test("a rotated square is four lines with corners where the edges meet, not where anti-aliasing rounded them", () => {
    const { loops } = traced(
      `<rect x="68" y="68" width="120" height="120" fill="#141E78" transform="rotate(20 128 128)"/>`,
      INK,
    );
    const f = fitLoop(loops[0] as Float64Array);
    expect(f.segs.length).toBe(4);
    expect(f.segs.every((s) => s.line)).toBe(true);
    const a = (20 * Math.PI) / 180;
    const corners = [
      [-60, -60],
      [60, -60],
      [60, 60],
      [-60, 60],
    ].map(([x, y]) => [
      128 + (x as number) * Math.cos(a) - (y as number) * Math.sin(a),
      128 + (x as number) * Math.sin(a) + (y as number) * Math.cos(a),
    ]);
    for (const s of f.segs) {
      if (!s.line) continue;
      const nearest = Math.min(...corners.map(([x, y]) => Math.hypot(s.x - (x as number), s.y - (y as number))));
      expect(nearest).toBeLessThan(0.25);
    }
  });

  test("path data: relative commands, integers on a 0.1 px grid, and it draws the same disc", () => {
    const { loops } = traced(`<circle cx="128" cy="128" r="100" fill="#141E78"/>`, INK);
    const d = pathData(loops.map((l) => fitLoop(l)));
    expect(d).toMatch(/^M\d+ \d+[chlvz0-9 -]+z$/);
    expect(d).not.toContain(".");
    const img = renderSvgRaw(doc(256, 256, `<path transform="scale(0.1)" d="${d}"/>`), 256);
    let ink = 0;
    for (let p = 3; p < img.data.length; p += 4) ink += (img.data[p] as number) / 255;
    expect(ink / (Math.PI * 100 * 100)).toBeCloseTo(1, 2);
  });
});

describe("fit: stacking", () => {
  // labels: 0 background, 1 and 2 colours, slot 3 transparent (k = 4)
  const k = 4;
  const adjOf = (pairs: [number, number, number][]) => {
    const adj = new Float64Array(k * k);
    for (const [a, b, n] of pairs) {
      adj[a * k + b] = n;
      adj[b * k + a] = n;
    }
    return adj;
  };

  test("a colour inside another is drawn on top, and the one under it is drawn without the hole", () => {
    // 1 is a disc touching the background; 2 sits inside 1, touching only 1.
    const adj = adjOf([
      [0, 1, 600],
      [1, 2, 200],
    ]);
    expect(stackOrder([1, 2], adj, k)).toEqual([
      { colour: 1, members: [1, 2] },
      { colour: 2, members: [2] },
    ]);
    expect(stackRegion(1, [2], adj, k).cost).toBe(600);
  });

  test("colours apart from each other are each drawn alone", () => {
    const adj = adjOf([
      [0, 1, 300],
      [0, 2, 300],
    ]);
    const order = stackOrder([1, 2], adj, k);
    expect(order.map((s) => s.members.length)).toEqual([1, 1]);
  });

  test("a thin seam colour between two others is a blend; a solid colour between them is not", () => {
    const palette: RGB[] = [
      [255, 255, 255],
      [0, 0, 0],
      [128, 128, 128],
    ];
    // seam: 300 pixels, touching white and black along 600 pixel sides
    const seam = adjOf([
      [2, 0, 300],
      [2, 1, 300],
      [0, 1, 50],
    ]);
    expect(blendColours(palette, [1, 2], seam, [5000, 4000, 300, 0], k).get(2)).toEqual([0, 1]);
    // solid: 5,000 pixels with the same outline
    expect(blendColours(palette, [1, 2], seam, [5000, 4000, 5000, 0], k).has(2)).toBe(false);
  });

  test("a seam of blended pixels between black and white traces as one black path, not a grey sliver", () => {
    const palette: RGB[] = [
      [255, 255, 255],
      [0, 0, 0],
      [128, 128, 128],
    ];
    // a disc on a half-pixel offset, so its rim is a ring of grey pixels the palette names
    const img = renderSvgRaw(
      doc(
        128,
        128,
        `<rect width="128" height="128" fill="#FFFFFF"/><rect x="20.5" y="20.5" width="87" height="87" fill="#000000"/>`,
      ),
      128,
    );
    const labels = nearestLabels(img, palette);
    expect(labels.includes(2)).toBe(true);
    const layers = traceLayers(img, labels, palette, [1, 2]);
    expect(layers.map((l) => l.colour)).toEqual([[0, 0, 0]]);
    expect(layers[0]?.d).toBe("M205 205v870h870v-870z");
  });
});

describe("fit: the colour trace", () => {
  test("a flat two-colour logo: one path, integer coordinates, within 0.1% of the source", async () => {
    const f = await fixture("two-colour");
    const [file] = await makeAsset("vector", f.input, { mode: "color", maxColors: 8 }, limits);
    const svg = text(file?.bytes ?? new Uint8Array());
    expect(svg.match(/<path/g)?.length).toBe(1);
    expect(svg).toContain('transform="scale(0.1)"');
    expect(svg.match(/ d="([^"]*)"/)?.[1]).not.toContain(".");
    expect(await fidelity(f, svg)).toBeLessThan(0.001);
  }, 20_000);

  test("seven separate circles trace as seven outlines, not a stack of unions", async () => {
    const f = await fixture("flat-8");
    const [file] = await makeAsset("vector", f.input, { mode: "color", maxColors: 8 }, limits);
    const svg = text(file?.bytes ?? new Uint8Array());
    expect(svg.match(/<path/g)?.length).toBe(7);
    expect(svg.match(/z/g)?.length).toBe(7);
    expect(file?.bytes.byteLength).toBeLessThan(4000);
  }, 20_000);

  test("where a colour sits on a seam between two others, the one under it reaches beneath it: no dark halo on the seam", async () => {
    // brown, an orange panel on it, and a dark orange bar lying mostly on the brown and partly on the orange
    const svg = doc(
      256,
      256,
      `<rect width="256" height="256" fill="#FFFFFF"/><rect x="20" y="20" width="230" height="216" fill="#48331A"/><rect x="60" y="60" width="136" height="136" fill="#F5A900"/><rect x="180.5" y="100.5" width="56" height="50" fill="#C07000"/>`,
    );
    const src = renderSvgRaw(svg, 256);
    const png = await sharp(Buffer.from(src.data), { raw: { width: 256, height: 256, channels: 4 } })
      .png()
      .toBuffer();
    const [file] = await makeAsset("vector", new Uint8Array(png), { mode: "color", maxColors: 8 }, limits);
    const out = renderSvgRaw(text(file?.bytes ?? new Uint8Array()), 256);
    const orange = [0xf5, 0xa9, 0x00];
    const dark = [0xc0, 0x70, 0x00];
    for (let y = 105; y < 145; y++)
      for (let x = 178; x <= 183; x++) {
        const o = (y * 256 + x) * 4;
        for (let c = 0; c < 3; c++) {
          const v = out.data[o + c] as number;
          expect(v).toBeGreaterThanOrEqual(Math.min(orange[c] as number, dark[c] as number) - 8);
          expect(v).toBeLessThanOrEqual(Math.max(orange[c] as number, dark[c] as number) + 8);
        }
      }
  }, 20_000);
});
