import { expect, test } from "bun:test";
import sharp from "sharp";
import { MAX_IMAGE_BLOCK_BYTES, pngAtMost } from "../../src/mcp/images";

/** An image block is a PNG of at most 1 MiB: one that fits goes as it is, anything else is converted and shrunk. */

/** Random pixels: PNG cannot compress them, so 1024² RGB is about 3 MiB. */
async function noise(width: number, height: number, format: "png" | "jpeg" = "png") {
  const raw = new Uint8Array(width * height * 3);
  crypto.getRandomValues(raw.subarray(0, 65536));
  for (let i = 65536; i < raw.length; i += 65536) raw.set(raw.subarray(0, Math.min(65536, raw.length - i)), i);
  // Each row shifted so rows do not repeat (deflate would find them).
  for (let y = 0; y < height; y++) raw[y * width * 3] = y & 255;
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  return format === "png" ? img.png({ compressionLevel: 0 }).toBuffer() : img.jpeg().toBuffer();
}

test("a PNG over 1 MiB is scaled down, aspect kept, until it fits", async () => {
  const big = await noise(1200, 800);
  expect(big.byteLength).toBeGreaterThan(MAX_IMAGE_BLOCK_BYTES);
  const png = await pngAtMost(big);
  if (!png) throw new Error("no image");
  expect(png.byteLength).toBeLessThanOrEqual(MAX_IMAGE_BLOCK_BYTES);
  const meta = await sharp(png).metadata();
  expect(meta.format).toBe("png");
  expect(meta.width).toBeLessThan(1200);
  expect(Math.abs((meta.width ?? 0) / (meta.height ?? 1) - 1.5)).toBeLessThan(0.01);
});

test("a PNG that fits goes byte for byte; another format is converted to PNG", async () => {
  const small = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#1f2937" } })
    .png()
    .toBuffer();
  expect((await pngAtMost(small))?.equals(small)).toBe(true);
  const jpeg = await noise(256, 256, "jpeg");
  const converted = await pngAtMost(jpeg);
  expect(converted && (await sharp(converted).metadata())).toMatchObject({ format: "png", width: 256, height: 256 });
});

test("what cannot be decoded, or has more pixels than allowed, gives no image", async () => {
  expect(await pngAtMost(new TextEncoder().encode("not an image"))).toBeNull();
  expect(await pngAtMost(await noise(300, 300), MAX_IMAGE_BLOCK_BYTES, 300 * 300 - 1)).toBeNull();
});
