import { z } from "@hono/zod-openapi";
import { HEX_COLOR } from "../../domain/patterns";
import { FONT_DESCRIPTIONS, FONT_FAMILIES } from "../imaging/font-families";
import { defineDeliverable } from "./define";

export const lockup = defineDeliverable({
  kind: "lockup",
  name: "Lockup (mark and name)",
  description: `The mark (the symbol without its wordmark unless \`mark: whole\`, as on the icons: a logo that already spells a name would show it twice; a logo that is only a wordmark gets a monogram, the name's first letter) with the brand name set in a bundled open-licence typeface, beside it (\`horizontal\`) or under it (\`stacked\`): lockup.svg (the name as outlines: no text element, no font reference) and lockup.png (2048 px wide, transparent). Typefaces: ${FONT_FAMILIES.map((f) => `\`${f}\` ${FONT_DESCRIPTIONS[f]}`).join(", ")}.`,
  files: ["lockup.svg", "lockup.png"],
  credits: 1,
  options: z
    .strictObject({
      layout: z.enum(["horizontal", "stacked"]).default("horizontal").meta({
        description: "`horizontal`: the name beside the mark; `stacked`: the name under it.",
      }),
      text: z
        .string()
        .trim()
        .min(1)
        .max(40)
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
        .regex(/^[^\u0000-\u001f\u007f]+$/)
        .optional()
        .meta({
          description: "The name to set, 1–40 characters; default: the prediction's brand name.",
          example: "Northwind",
        }),
      font: z
        .enum(FONT_FAMILIES)
        .default("inter")
        .meta({
          description: `The typeface: ${FONT_FAMILIES.map((f) => `\`${f}\` ${FONT_DESCRIPTIONS[f]}`).join(", ")}.`,
        }),
      mark: z.enum(["auto", "whole"]).default("auto").meta({
        description:
          "`auto`: a symbol with a wordmark is set with the name alone, a wordmark alone as a monogram (the name's first letter); `whole`: the whole logo beside the name.",
      }),
      color: z.string().regex(HEX_COLOR).max(7).optional().meta({
        description:
          "The name's colour, `#RRGGBB`; default: the mark's darkest colour when it reads as text on the logo's background (WCAG contrast at least 4.5:1), else near-black `#111827` or near-white `#F9FAFB`, whichever reads better there.",
        example: "#1F2937",
      }),
    })
    .openapi("LockupOptions", { example: { layout: "horizontal", font: "inter", text: "Northwind", mark: "auto" } }),
  make: (w, { layout, text, font, color, mark }, { brandName }) =>
    w.lockup(w.mark(), { layout, font, color, rule: mark, text: text ?? (brandName?.trim() || "Brand") }),
});
