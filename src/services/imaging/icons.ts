import sharp from "sharp";
import { hex } from "./quantize";
import { alphaBox, edgeColour, removeBackground } from "./transparent";
import type { AssetFile, Raster, RGB } from "./types";

/**
 * Icon files from a source: the mark is the source with its edge-connected background removed,
 * cropped to its bounding box, then placed on a square of the background colour at each size.
 */

export interface Mark {
  /** The mark alone (transparent around it), cropped to its bounding box. */
  mark: Raster;
  /** The source's background colour (the median of its edge). */
  background: RGB;
}

export function extractMark(source: Raster, transparent?: Raster): Mark {
  const edge = edgeColour(source);
  // A source that is already transparent at its edge has no background colour: icons default to white.
  const background: RGB = edge.alpha < 128 ? [255, 255, 255] : edge.colour;
  const cut = transparent ?? removeBackground(source, "border", 10);
  const box = alphaBox(cut);
  if (!box) return { mark: cut, background };
  const { left, top, width, height } = box;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * cut.width + left) * 4;
    data.set(cut.data.subarray(from, from + width * 4), y * width * 4);
  }
  return { mark: { data, width, height }, background };
}

/** The mark scaled to width×height (never distorted: the caller keeps the aspect). */
async function scaled(mark: Raster, width: number, height: number): Promise<Buffer> {
  return sharp(mark.data, { raw: { width: mark.width, height: mark.height, channels: 4 } })
    .resize({ width, height, fit: "fill", kernel: "lanczos3" })
    .raw()
    .toBuffer();
}

/** A canvas of `background`, `width`×`height`, with the mark centred and scaled by `scale`; opaque RGB PNG. */
export async function place(
  m: Raster,
  background: RGB,
  width: number,
  height: number,
  scale: number,
): Promise<Uint8Array> {
  const mw = Math.max(1, Math.round(m.width * scale));
  const mh = Math.max(1, Math.round(m.height * scale));
  const input = await scaled(m, mw, mh);
  const buf = await sharp({
    create: { width, height, channels: 3, background: { r: background[0], g: background[1], b: background[2] } },
  })
    .composite([
      {
        input,
        raw: { width: mw, height: mh, channels: 4 },
        left: Math.floor((width - mw) / 2),
        top: Math.floor((height - mh) / 2),
      },
    ])
    .removeAlpha()
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Scale so the mark fits a box of `fraction` of the canvas. */
export const fitScale = (m: Raster, width: number, height: number, fraction: number) =>
  Math.min((width * fraction) / m.width, (height * fraction) / m.height);

/** Scale so the mark's bounding box fits inside a centred circle of diameter `fraction`·size (maskable safe zone). */
export const circleScale = (m: Raster, size: number, fraction: number) =>
  (size * fraction) / Math.hypot(m.width, m.height);

/** An ICO holding PNG images (Vista+ format): 6-byte header, 16-byte entries, then the PNGs. */
export function buildIco(images: { size: number; png: Uint8Array }[]): Uint8Array {
  const headerSize = 6 + 16 * images.length;
  const total = headerSize + images.reduce((s, i) => s + i.png.byteLength, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0, true);
  v.setUint16(2, 1, true);
  v.setUint16(4, images.length, true);
  let offset = headerSize;
  images.forEach((img, i) => {
    const e = 6 + 16 * i;
    v.setUint8(e, img.size >= 256 ? 0 : img.size);
    v.setUint8(e + 1, img.size >= 256 ? 0 : img.size);
    v.setUint8(e + 2, 0);
    v.setUint8(e + 3, 0);
    v.setUint16(e + 4, 1, true);
    v.setUint16(e + 6, 32, true);
    v.setUint32(e + 8, img.png.byteLength, true);
    v.setUint32(e + 12, offset, true);
    out.set(img.png, offset);
    offset += img.png.byteLength;
  });
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export async function makeIcons(
  m: Mark,
  background: RGB,
  faviconSvg: { svg: string; width: number; height: number },
): Promise<AssetFile[]> {
  const mark = m.mark;
  const png = (name: string, bytes: Uint8Array, size: number): AssetFile => ({
    name,
    contentType: "image/png",
    bytes,
    width: size,
    height: size,
  });
  const square = (size: number, fraction: number) =>
    place(mark, background, size, size, fitScale(mark, size, size, fraction));
  const [ico16, ico32, ico48, apple, i192, i512, maskable] = await Promise.all([
    square(16, 1),
    square(32, 0.94),
    square(48, 0.92),
    square(180, 0.8),
    square(192, 0.8),
    square(512, 0.8),
    place(mark, background, 512, 512, circleScale(mark, 512, 0.78)),
  ]);
  const bg = hex(background);
  const manifest = {
    icons: [
      { src: "icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
      { src: "icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
      { src: "icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
    ],
    background_color: bg,
    theme_color: bg,
    display: "standalone",
  };
  const head = [
    '<link rel="icon" href="favicon.ico" sizes="16x16 32x32 48x48">',
    '<link rel="icon" href="favicon.svg" type="image/svg+xml">',
    '<link rel="apple-touch-icon" href="apple-touch-icon.png" sizes="180x180">',
    '<link rel="icon" href="icon-192.png" type="image/png" sizes="192x192">',
    '<link rel="icon" href="icon-512.png" type="image/png" sizes="512x512">',
    '<link rel="icon" href="icon-maskable-512.png" type="image/png" sizes="512x512">',
    '<link rel="manifest" href="site.webmanifest">',
    "",
  ].join("\n");
  return [
    {
      name: "favicon.ico",
      contentType: "image/x-icon",
      bytes: buildIco([
        { size: 16, png: ico16 },
        { size: 32, png: ico32 },
        { size: 48, png: ico48 },
      ]),
      width: null,
      height: null,
    },
    {
      name: "favicon.svg",
      contentType: "image/svg+xml",
      bytes: utf8(faviconSvg.svg),
      width: faviconSvg.width,
      height: faviconSvg.height,
    },
    png("apple-touch-icon.png", apple, 180),
    png("icon-192.png", i192, 192),
    png("icon-512.png", i512, 512),
    png("icon-maskable-512.png", maskable, 512),
    {
      name: "site.webmanifest",
      contentType: "application/manifest+json",
      bytes: utf8(`${JSON.stringify(manifest, null, 2)}\n`),
      width: null,
      height: null,
    },
    { name: "head.html", contentType: "text/html", bytes: utf8(head), width: null, height: null },
  ];
}
