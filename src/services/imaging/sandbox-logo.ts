import { Resvg } from "@resvg/resvg-js";
import { renderMonogramSvg } from "../providers/sandbox";
import { resvgFont } from "./fonts";

/**
 * The sandbox provider's output as a PNG (512×512), so every deliverable kind works offline on a real
 * raster. Drawn from the sandbox monogram SVG by resvg with the bundled DejaVu fonts: with system fonts
 * off (and on a server without fonts) text would otherwise render as nothing. ~30–45 ms per image, on
 * the calling thread; callers cache.
 */
export function renderSandboxLogoPng(opts: {
  brandName: string;
  colors: string[];
  n: number;
}): Uint8Array<ArrayBuffer> {
  const svg = renderMonogramSvg(opts);
  const png = new Resvg(svg, { font: resvgFont, fitTo: { mode: "width", value: 512 } }).render().asPng();
  return new Uint8Array(png);
}

/** A small LRU of rendered sandbox images by key (e.g. `${id}/${n}`): the same image is fetched repeatedly. */
export function createPngCache(max = 64) {
  const map = new Map<string, Uint8Array<ArrayBuffer>>();
  return {
    get(key: string, render: () => Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
      const hit = map.get(key);
      if (hit) {
        map.delete(key);
        map.set(key, hit);
        return hit;
      }
      const value = render();
      map.set(key, value);
      if (map.size > max) {
        const oldest = map.keys().next().value;
        if (oldest !== undefined) map.delete(oldest);
      }
      return value;
    },
    get size() {
      return map.size;
    },
  };
}
