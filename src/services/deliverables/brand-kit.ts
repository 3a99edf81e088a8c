import { z } from "@hono/zod-openapi";
import { BRAND_KIT_FILES } from "../../domain/asset-files";
import { textBytes, zipFiles } from "../imaging/files";
import { paletteCss } from "../imaging/work";
import { defineDeliverable } from "./define";

const README = `Brand kit

logo.svg               The logo as a vector (scales to any size; for the web and print shops).
logo.pdf               The same vector as a PDF (for print and office documents).
logo-black.svg         The mark in black only, on transparency (one-colour printing, light backgrounds).
logo-white.svg         The mark in white only, on transparency (dark backgrounds, photos).
logo-512.png           The logo as a PNG, 512 px on its longest side.
logo-1024.png          The logo as a PNG, 1024 px on its longest side.
logo-2048.png          The logo as a PNG, 2048 px on its longest side.
logo-transparent.png   The logo at its original size with the background removed.
icons/                 Website icons: favicon.ico, favicon.svg, apple-touch-icon.png,
                       icon-192.png, icon-512.png, icon-maskable-512.png (Android adaptive),
                       site.webmanifest, and head.html (the <link> tags to paste into <head>).
social/avatar-400.png  A square profile picture for social networks (400x400).
social/og-1200x630.png A link-preview image (Open Graph / Twitter card, 1200x630).
lockup-horizontal.svg  The mark with the brand name beside it, as a vector (the name as outlines).
lockup-horizontal.png  The same, 2048 px wide, on transparency.
lockup-stacked.svg     The mark with the brand name under it, as a vector.
lockup-stacked.png     The same, 2048 px wide, on transparency.
palette.json           The mark's colours, most used first: hex, RGB, CMYK and share of the mark.
palette.css            The same colours as CSS custom properties (--brand-1 …, --brand-background).
README.txt             This file.
`;

export const brandKit = defineDeliverable({
  kind: "brand-kit",
  name: "Brand kit (zip)",
  description:
    "Everything a designer or printer needs in one zip: SVG and vector PDF masters, one-colour black and white SVGs, PNGs at 512/1024/2048 px, a transparent PNG, the icon set, horizontal and stacked lockups of the mark with the brand name, social images, the palette (JSON and CSS) and a README.",
  files: ["brand-kit.zip"],
  credits: 3,
  options: z.strictObject({}).openapi("BrandKitOptions", { example: {} }),
  async make(w, _options, { brandName }) {
    const cut = w.transparent("auto", 10);
    const mark = w.mark(cut);
    const master = await w.masterSvg();
    const name = brandName?.trim() || "Brand";
    const [black, white, icons, pdf, transparentPng, avatar, og, palette, horizontal, stacked] = await Promise.all([
      w.mono("#000000"),
      w.mono("#FFFFFF"),
      w.icons(mark, undefined, { rule: "auto", name: brandName }),
      w.pdf(master),
      w.encodePng(cut),
      w.placeMark(mark, 400, 400, 0.7),
      w.placeMark(mark, 1200, 630, 0.6),
      w.palette(),
      w.lockup(mark, { layout: "horizontal", text: name, font: "inter" }, "lockup-horizontal"),
      w.lockup(mark, { layout: "stacked", text: name, font: "inter" }, "lockup-stacked"),
    ]);
    const entries: Record<string, Uint8Array> = {
      "logo.svg": textBytes(master.svg),
      "logo.pdf": pdf,
      "logo-black.svg": textBytes(black.svg),
      "logo-white.svg": textBytes(white.svg),
      "logo-512.png": w.png(master.svg, 512),
      "logo-1024.png": w.png(master.svg, 1024),
      "logo-2048.png": w.png(master.svg, 2048),
      "logo-transparent.png": transparentPng,
      "social/avatar-400.png": avatar,
      "social/og-1200x630.png": og,
      "palette.json": textBytes(`${JSON.stringify(palette, null, 2)}\n`),
      "palette.css": textBytes(paletteCss(palette)),
      "README.txt": textBytes(README),
    };
    for (const f of icons) entries[`icons/${f.name}`] = f.bytes;
    for (const f of [...horizontal, ...stacked]) entries[f.name] = f.bytes;
    return [
      {
        name: "brand-kit.zip",
        contentType: "application/zip",
        bytes: zipFiles(BRAND_KIT_FILES, entries),
        width: null,
        height: null,
      },
    ];
  },
});
