import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as fontkit from "fontkit";
import type { FontFamily } from "./font-families";

export { FONT_DESCRIPTIONS, FONT_FAMILIES, type FontFamily } from "./font-families";

/**
 * The typefaces bundled for lockups and monograms (SIL Open Font Licence, from the
 * @expo-google-fonts packages, which ship TTF files): text is set with fontkit (kerning and ligatures)
 * and drawn as outlines, so an SVG needs no font and renders the same everywhere.
 */

const require = createRequire(import.meta.url);

const FILES: Record<FontFamily, [string, string]> = {
  inter: ["@expo-google-fonts/inter", "600SemiBold/Inter_600SemiBold.ttf"],
  lora: ["@expo-google-fonts/lora", "600SemiBold/Lora_600SemiBold.ttf"],
  montserrat: ["@expo-google-fonts/montserrat", "600SemiBold/Montserrat_600SemiBold.ttf"],
};

const loaded = new Map<FontFamily, fontkit.Font>();

function font(family: FontFamily): fontkit.Font {
  let f = loaded.get(family);
  if (!f) {
    const [pkg, file] = FILES[family];
    f = fontkit.openSync(join(dirname(require.resolve(`${pkg}/package.json`)), file)) as fontkit.Font;
    loaded.set(family, f);
  }
  return f;
}

export interface SetText {
  /** Path data, y down, the baseline at y = 0, starting at x = 0. */
  d: string;
  /** Advance width and the ink's vertical extent (above the baseline negative). */
  width: number;
  top: number;
  bottom: number;
  /** The font's cap height at this size. */
  capHeight: number;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Sets one line of text at `size` (em size in output units) as an SVG path. */
export function setText(text: string, family: FontFamily, size: number): SetText {
  const f = font(family);
  const k = size / f.unitsPerEm;
  const run = f.layout(text);
  const parts: string[] = [];
  let x = 0;
  let top = 0;
  let bottom = 0;
  run.glyphs.forEach((g, i) => {
    const pos = run.positions[i];
    const ox = x + (pos?.xOffset ?? 0) * k;
    const oy = -(pos?.yOffset ?? 0) * k;
    const P = (px: number, py: number) => `${r1(ox + px * k)} ${r1(oy - py * k)}`;
    for (const c of g.path.commands) {
      const a = c.args;
      switch (c.command) {
        case "moveTo":
          parts.push(`M${P(a[0] as number, a[1] as number)}`);
          break;
        case "lineTo":
          parts.push(`L${P(a[0] as number, a[1] as number)}`);
          break;
        case "quadraticCurveTo":
          parts.push(`Q${P(a[0] as number, a[1] as number)} ${P(a[2] as number, a[3] as number)}`);
          break;
        case "bezierCurveTo":
          parts.push(
            `C${P(a[0] as number, a[1] as number)} ${P(a[2] as number, a[3] as number)} ${P(a[4] as number, a[5] as number)}`,
          );
          break;
        case "closePath":
          parts.push("Z");
          break;
      }
    }
    const bb = g.path.bbox;
    if (Number.isFinite(bb.maxY)) {
      top = Math.min(top, oy - bb.maxY * k);
      bottom = Math.max(bottom, oy - bb.minY * k);
    }
    x += (pos?.xAdvance ?? g.advanceWidth) * k;
  });
  return { d: parts.join(""), width: x, top, bottom, capHeight: f.capHeight * k };
}
