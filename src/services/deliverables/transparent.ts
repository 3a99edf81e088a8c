import { z } from "@hono/zod-openapi";
import { pngFile } from "../imaging/files";
import { defineDeliverable } from "./define";

export const transparent = defineDeliverable({
  kind: "transparent",
  name: "Transparent PNG",
  description:
    "The logo with its background removed: `border` clears the background connected to the image's edge (enclosed regions stay), `all` clears every pixel within `tolerance` of it. Anti-aliased edges, no halo.",
  files: ["logo.png"],
  credits: 1,
  options: z
    .strictObject({
      mode: z.enum(["border", "all"]).default("border").meta({
        description:
          "`border`: remove the background where it touches the image's edge (enclosed regions stay opaque); `all`: remove every pixel within `tolerance` of the background colour.",
      }),
      tolerance: z.int().min(0).max(100).default(10).meta({
        description:
          "How far a pixel may be from the background colour and still count as background: % of 255 per channel.",
      }),
    })
    .openapi("TransparentOptions", { example: { mode: "border", tolerance: 10 } }),
  async make(w, { mode, tolerance }) {
    const out = w.transparent(mode, tolerance);
    return [pngFile("logo.png", await w.encodePng(out), out.width, out.height)];
  },
});
