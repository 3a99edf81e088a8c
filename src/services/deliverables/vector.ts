import { z } from "@hono/zod-openapi";
import { svgFile } from "../imaging/files";
import { defineDeliverable } from "./define";

export const vector = defineDeliverable({
  kind: "vector",
  name: "Vector logo (SVG)",
  description:
    "The logo traced to an SVG of few flat-colour paths (palette reduced to `maxColors`, specks dropped), with a viewBox of the source's size and no backdrop unless `background: keep`; `mode: mono` gives one colour, keeping every boundary between colours of different lightness (one side ink, the other knocked out). An SVG output is sanitised and kept, not traced.",
  files: ["logo.svg"],
  credits: 1,
  options: z
    .strictObject({
      mode: z.enum(["color", "mono"]).default("color").meta({
        description: "`color` keeps the palette; `mono` gives one fill colour plus transparency.",
      }),
      maxColors: z.int().min(2).max(16).default(8).meta({
        description: "The palette is reduced to at most this many colours (background included) before tracing.",
      }),
      background: z.enum(["drop", "keep"]).default("drop").meta({
        description:
          "`drop`: the background colour (the colour of the image's edge) is left transparent, so the SVG has no backdrop; `keep`: it is drawn as one rect under the shapes.",
      }),
    })
    .openapi("VectorOptions", { example: { mode: "color", maxColors: 8, background: "drop" } }),
  async make(w, { mode, maxColors, background }) {
    if (mode === "mono") {
      const t = await w.mono(undefined, maxColors);
      return [svgFile("logo.svg", t.svg, w.width, w.height)];
    }
    const m = await w.masterSvg(maxColors, background);
    return [svgFile("logo.svg", m.svg, m.width, m.height)];
  },
});
