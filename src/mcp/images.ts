import sharp from "sharp";

/** The largest image a tool result carries (an MCP `image` block, base64 in the JSON-RPC message). */
export const MAX_IMAGE_BLOCK_BYTES = 1024 * 1024;

/**
 * The image as a PNG of at most `maxBytes`: as it is when it already is one that fits, else converted and, when
 * still too large, scaled down (the aspect kept) until it fits. Null when it cannot be decoded (or has more than
 * `maxPixels`) or would have to shrink below 16 px wide.
 */
export async function pngAtMost(
  bytes: Uint8Array,
  maxBytes = MAX_IMAGE_BLOCK_BYTES,
  maxPixels = 25_000_000,
): Promise<Buffer | null> {
  const open = () => sharp(bytes, { limitInputPixels: maxPixels, failOn: "error" });
  try {
    const meta = await open().metadata();
    if (meta.format === "png" && bytes.byteLength <= maxBytes) return Buffer.from(bytes);
    let width = meta.width;
    let png = await open().png({ compressionLevel: 9 }).toBuffer();
    // PNG size grows about with the pixel count: aim a little under the bound, and shrink again if still over.
    while (png.byteLength > maxBytes) {
      width = Math.floor(width * Math.sqrt(maxBytes / png.byteLength) * 0.9);
      if (width < 16) return null;
      png = await open().resize({ width }).png({ compressionLevel: 9 }).toBuffer();
    }
    return png;
  } catch {
    return null;
  }
}
