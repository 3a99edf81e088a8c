import { z } from "@hono/zod-openapi";
import { ICON_FILES } from "../../domain/asset-files";
import { HEX_COLOR } from "../../domain/patterns";
import { defineDeliverable } from "./define";

export const icons = defineDeliverable({
  kind: "icons",
  name: "Favicons and app icons",
  description:
    "Icons of the mark (the symbol without its wordmark unless `mark: whole`; a logo that is only a wordmark gets a monogram, the brand name's first letter in the bundled font and the logo's dominant colour), its larger side at least 70% of the icon: favicon.ico (16, 32, 48 px), favicon.svg, a 180 px opaque apple-touch icon, 192/512 px icons, a maskable 512 px icon, a web manifest (name, short_name, theme and background colours) and the HTML `<link>` tags for all of them.",
  files: ICON_FILES,
  credits: 1,
  options: z
    .strictObject({
      background: z.string().regex(HEX_COLOR).max(7).optional().meta({
        description:
          "The background of the opaque and maskable icons, `#RRGGBB`; default: the source's background colour.",
        example: "#FFFFFF",
      }),
      mark: z.enum(["auto", "whole"]).default("auto").meta({
        description:
          "`auto`: a symbol with a wordmark gives icons of the symbol alone, a wordmark alone a monogram; `whole`: the icons show the whole logo.",
      }),
    })
    .openapi("IconsOptions", { example: { background: "#FFFFFF", mark: "auto" } }),
  make: (w, { background, mark }, { brandName }) => w.icons(w.mark(), background, { rule: mark, name: brandName }),
});
