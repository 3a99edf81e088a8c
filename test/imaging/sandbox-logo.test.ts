import { describe, expect, test } from "bun:test";
import { assetOptions } from "../../src/services/deliverables";
import { makeAsset } from "../../src/services/deliverables/make";
import { createPngCache, renderSandboxLogoPng } from "../../src/services/imaging/sandbox-logo";
import { countPaths, diffFraction, raw, renderSvgRaw } from "./fixtures";

describe("sandbox logo PNG", () => {
  test("512×512 PNG with the initials and the name actually drawn (bundled font)", async () => {
    const png = renderSandboxLogoPng({ brandName: "Acme Coffee", colors: ["#1F2937", "#F59E0B"], n: 1 });
    const img = await raw(png);
    expect([img.width, img.height]).toEqual([512, 512]);
    const count = (x0: number, y0: number, x1: number, y1: number, rgb: number[]) => {
      let n = 0;
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) {
          const o = (y * 512 + x) * 4;
          if (rgb.every((v, i) => Math.abs(v - (img.data[o + i] as number)) <= 4)) n++;
        }
      return n;
    };
    expect(count(150, 150, 362, 290, [0xf5, 0x9e, 0x0b])).toBeGreaterThan(2000); // "AC" on the badge
    expect(count(60, 410, 452, 460, [0xf5, 0x9e, 0x0b])).toBeGreaterThan(1000); // "Acme Coffee" below
    // Same input, same bytes.
    expect(
      Buffer.from(renderSandboxLogoPng({ brandName: "Acme Coffee", colors: ["#1F2937", "#F59E0B"], n: 1 })).equals(
        Buffer.from(png),
      ),
    ).toBe(true);
  });

  test("the LRU keeps at most `max` images and re-renders only on a miss", () => {
    const cache = createPngCache(2);
    let renders = 0;
    const r = () => {
      renders++;
      return new Uint8Array([renders]);
    };
    cache.get("a", r);
    cache.get("b", r);
    cache.get("a", r); // hit; a is now the newest
    cache.get("c", r); // evicts b
    expect(cache.size).toBe(2);
    expect(renders).toBe(3);
    cache.get("a", r);
    expect(renders).toBe(3);
    cache.get("b", r);
    expect(renders).toBe(4);
  });

  test("every deliverable works on the sandbox's output; its trace is faithful", async () => {
    for (let n = 1; n <= 4; n++) {
      const png = renderSandboxLogoPng({ brandName: "Acme Coffee", colors: ["#1F2937", "#F59E0B"], n });
      // The backdrop kept, so the SVG alone is compared with the opaque source.
      const [svgFile] = await makeAsset(
        "vector",
        png,
        { mode: "color", maxColors: 8, background: "keep" },
        {
          maxPixels: 25_000_000,
        },
      );
      const svg = new TextDecoder().decode(svgFile?.bytes ?? new Uint8Array());
      expect(diffFraction(await raw(png), renderSvgRaw(svg, 512))).toBeLessThanOrEqual(0.02);
      expect(countPaths(svg)).toBeLessThan(30);
    }
    const png = renderSandboxLogoPng({ brandName: "Acme Coffee", colors: ["#1F2937", "#F59E0B"], n: 2 });
    for (const kind of ["transparent", "icons", "brand-kit"] as const)
      expect((await makeAsset(kind, png, assetOptions(kind, {}), { maxPixels: 25_000_000 })).length).toBeGreaterThan(0);
  }, 30_000);
});
