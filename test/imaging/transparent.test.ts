import { describe, expect, test } from "bun:test";
import { assetOptions } from "../../src/services/deliverables";
import { makeAsset } from "../../src/services/deliverables/make";
import { fixture, raw, renderSvgRaw } from "./fixtures";

const limits = { maxPixels: 25_000_000 };
const RING: [number, number, number] = [0x0e, 0xa5, 0xe9];
const DOT: [number, number, number] = [0xf9, 0x73, 0x16];
const INK: [number, number, number] = [0x11, 0x18, 0x27];

async function transparent(name: string, options: Record<string, unknown>) {
  const f = await fixture(name);
  const files = await makeAsset("transparent", f.input, options, limits);
  expect(files.map((x) => x.name)).toEqual(["logo.png"]);
  const file = files[0];
  if (!file) throw new Error("no file");
  expect(file.contentType).toBe("image/png");
  const img = await raw(file.bytes);
  expect([img.width, img.height, file.width, file.height]).toEqual([f.width, f.height, f.width, f.height]);
  const at = (x: number, y: number) =>
    Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
  return { img, at };
}

/** Every partially transparent pixel must carry a mark colour, not a blend towards the old background. */
function expectNoHalo(img: { data: Uint8Array }, colours: [number, number, number][]) {
  let partial = 0;
  let halo = 0;
  for (let o = 0; o < img.data.length; o += 4) {
    const a = img.data[o + 3] as number;
    if (a === 0 || a === 255) continue;
    partial++;
    const near = colours.some((c) => Math.max(...c.map((v, i) => Math.abs(v - (img.data[o + i] as number)))) <= 24);
    if (!near) halo++;
  }
  expect(partial).toBeGreaterThan(100); // the edge is anti-aliased (partial alpha), not jagged
  expect(halo / partial).toBeLessThan(0.01);
}

describe("transparent", () => {
  test("border: corners clear, mark opaque, an enclosed background-coloured hole stays opaque", async () => {
    const { img, at } = await transparent("ring", { mode: "border", tolerance: 10 });
    for (const [x, y] of [
      [0, 0],
      [1023, 0],
      [0, 1023],
      [1023, 1023],
      [100, 512],
    ] as const)
      expect(at(x, y)[3]).toBe(0);
    expect(at(512, 512 - 250)).toEqual([...RING, 255]);
    expect(at(512, 512)).toEqual([...DOT, 255]);
    expect(at(512, 512 - 120)).toEqual([0xf8, 0xfa, 0xfc, 255]);
    expectNoHalo(img, [RING, DOT]);
  }, 20_000);

  test("all: the enclosed hole is cleared too", async () => {
    const { img, at } = await transparent("ring", { mode: "all", tolerance: 10 });
    expect(at(0, 0)[3]).toBe(0);
    expect(at(512, 512 - 120)[3]).toBe(0);
    expect(at(512, 512 - 250)).toEqual([...RING, 255]);
    expect(at(512, 512)).toEqual([...DOT, 255]);
    expectNoHalo(img, [RING, DOT]);
  }, 20_000);

  test("dark mark on white: soft edge without a white fringe", async () => {
    const { img, at } = await transparent("two-colour", { mode: "border", tolerance: 10 });
    expect(at(0, 0)[3]).toBe(0);
    expect(at(512, 300)).toEqual([...INK, 255]);
    expect(at(512, 512)).toEqual([255, 255, 255, 255]); // the square's hole is enclosed
    expectNoHalo(img, [INK]);
  }, 20_000);

  test("a noisy JPEG still gives clear corners and an opaque mark", async () => {
    const { at } = await transparent("noisy-jpeg", { mode: "border", tolerance: 10 });
    expect(at(2, 2)[3]).toBe(0);
    expect(at(1020, 1020)[3]).toBe(0);
    expect(at(292, 292)[3]).toBe(255);
    expect(at(730, 730)[3]).toBe(255);
  }, 20_000);
});

describe("a source that is already transparent", () => {
  test("keeps its alpha; icons default to a white background", async () => {
    const f = await fixture("ring");
    const src = await raw(f.png);
    // Clear the background ourselves: corners transparent, the mark opaque.
    const cut = await makeAsset("transparent", f.input, { mode: "border", tolerance: 10 }, limits);
    const again = await makeAsset(
      "transparent",
      cut[0]?.bytes ?? new Uint8Array(),
      { mode: "border", tolerance: 10 },
      limits,
    );
    const a = await raw(again[0]?.bytes ?? new Uint8Array());
    expect(a.data[3]).toBe(0);
    expect(a.width).toBe(src.width);
    const icons = await makeAsset("icons", cut[0]?.bytes ?? new Uint8Array(), assetOptions("icons", {}), limits);
    const apple = await raw(icons.find((x) => x.name === "apple-touch-icon.png")?.bytes ?? new Uint8Array());
    expect(Array.from(apple.data.subarray(0, 4))).toEqual([255, 255, 255, 255]);
    // Its trace leaves the background out: the corner renders transparent, the ring opaque.
    const [vec] = await makeAsset("vector", cut[0]?.bytes ?? new Uint8Array(), { mode: "color", maxColors: 8 }, limits);
    const r = renderSvgRaw(new TextDecoder().decode(vec?.bytes ?? new Uint8Array()), 1024);
    expect(r.data[3]).toBe(0);
    expect(r.data[((512 - 250) * 1024 + 512) * 4 + 3]).toBe(255);
  }, 20_000);
});
