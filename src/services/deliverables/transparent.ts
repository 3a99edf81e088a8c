import { z } from "@hono/zod-openapi";
import { pngFile } from "../imaging/files";
import { defineDeliverable } from "./define";

export const transparent = defineDeliverable({
  kind: "transparent",
  name: "Transparent PNG",
  description:
    "The logo with its background removed: `auto` (the default) clears the outside and the holes of the mark, `border` clears the background connected to the image's edge (enclosed regions stay), `all` clears every pixel within `tolerance` of it. Anti-aliased edges, no halo.",
  files: ["logo.png"],
  credits: 1,
  options: z
    .strictObject({
      mode: z.enum(["auto", "border", "all"]).default("auto").meta({
        description:
          "`auto`: the background touching the image's edge goes, and so do the holes of the mark (the counters of letters, the inside of rings), while background-coloured shapes drawn on a filled field stay; `border`: only the background touching the edge goes (enclosed regions stay opaque); `all`: every pixel within `tolerance` of the background colour goes. A source on a flat background cannot say whether white enclosed by the mark was drawn (a face, a page) or cut out (letters knocked out of a badge); `auto` decides by how deep the region sits in the mark; where it guesses wrong, `border` (keep every enclosed region) or `all` (clear them all) is almost always right.",
      }),
      tolerance: z.int().min(0).max(100).default(10).meta({
        description:
          "How far a pixel may be from the background colour and still count as background: % of 255 per channel.",
      }),
    })
    .openapi("TransparentOptions", { example: { mode: "auto", tolerance: 10 } }),
  async make(w, { mode, tolerance }) {
    const out = w.transparent(mode, tolerance);
    return [pngFile("logo.png", await w.encodePng(out), out.width, out.height)];
  },
});
