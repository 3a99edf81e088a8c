import { zipSync } from "fflate";
import type { AssetFile } from "./types";

/** Building the files a deliverable returns: light (no native module), so declarations can import it anywhere. */

/** Every zip entry gets this modification time, so the same input gives the same zip bytes. */
const ZIP_MTIME = new Date(Date.UTC(2026, 0, 1));

export const textBytes = (s: string): Uint8Array => new TextEncoder().encode(s);

export const svgFile = (name: string, svg: string, width: number, height: number): AssetFile => ({
  name,
  contentType: "image/svg+xml",
  bytes: textBytes(svg),
  width,
  height,
});

export const pngFile = (name: string, bytes: Uint8Array, width: number, height: number): AssetFile => ({
  name,
  contentType: "image/png",
  bytes,
  width,
  height,
});

/**
 * A zip of `entries` in the order of `names` (each must be present), byte-identical for the same input: a fixed
 * mtime, PNGs and ICOs stored (already compressed), the text formats deflated.
 */
export function zipFiles(names: readonly string[], entries: Record<string, Uint8Array>): Uint8Array {
  const input: Record<string, [Uint8Array, { mtime: Date; level: 0 | 6 }]> = {};
  for (const name of names) {
    const bytes = entries[name];
    if (!bytes) throw new Error(`zip: ${name} missing`);
    input[name] = [bytes, { mtime: ZIP_MTIME, level: name.endsWith(".png") || name.endsWith(".ico") ? 0 : 6 }];
  }
  return zipSync(input);
}
