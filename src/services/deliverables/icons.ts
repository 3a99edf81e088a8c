import { z } from "@hono/zod-openapi";
import { ICON_FILES } from "../../domain/asset-files";
import { HEX_COLOR } from "../../domain/patterns";
import { defineDeliverable } from "./define";

export const icons = defineDeliverable({
  kind: "icons",
  name: "Favicons and app icons",
  description:
    "favicon.ico (16, 32, 48 px), favicon.svg, a 180 px opaque apple-touch icon, 192/512 px icons, a maskable 512 px icon, a web manifest and the HTML `<link>` tags for all of them.",
  files: ICON_FILES,
  credits: 1,
  options: z
    .strictObject({
      background: z.string().regex(HEX_COLOR).max(7).optional().meta({
        description:
          "The background of the opaque and maskable icons, `#RRGGBB`; default: the source's background colour.",
        example: "#FFFFFF",
      }),
    })
    .openapi("IconsOptions", { example: { background: "#FFFFFF" } }),
  make: (w, { background }) => w.icons(w.mark(), background),
});
