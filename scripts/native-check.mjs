// Loads each native image package and makes it do one small thing, on whichever runtime runs this file
// (CI runs it on Bun and on Node): a native binary that does not match the runtime or platform fails here,
// with its name, rather than in the middle of a paid job.

import { ColorMode, Hierarchical, PathSimplifyMode, vectorizeRaw } from "@neplex/vectorizer";
import { Resvg } from "@resvg/resvg-js";
import { unzipSync, zipSync } from "fflate";
import PDFDocument from "pdfkit";
import sharp from "sharp";
import SVGtoPDF from "svg-to-pdfkit";

const runtime = typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.versions.node}`;
const svg =
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect x="16" y="16" width="32" height="32" fill="#F59E0B"/></svg>';
const checks = {
  sharp: async () => {
    const { info } = await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true });
    if (info.width !== 64) throw new Error(`decoded width ${info.width}`);
    return `libvips ${sharp.versions.vips}`;
  },
  "@resvg/resvg-js": async () => {
    const png = new Resvg(svg).render().asPng();
    if (png[1] !== 0x50) throw new Error("not a PNG");
    return `${png.length} bytes of PNG`;
  },
  "@neplex/vectorizer": async () => {
    const raw = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer();
    const out = await vectorizeRaw(
      raw,
      { width: 64, height: 64 },
      {
        colorMode: ColorMode.Color,
        hierarchical: Hierarchical.Stacked,
        mode: PathSimplifyMode.Polygon,
        filterSpeckle: 4,
        colorPrecision: 6,
        layerDifference: 16,
        cornerThreshold: 60,
        lengthThreshold: 4,
        maxIterations: 10,
        spliceThreshold: 45,
        pathPrecision: 2,
      },
    );
    if (!out.includes("<path")) throw new Error("no path traced");
    return "traced";
  },
  fflate: async () => {
    const files = unzipSync(zipSync({ "a.txt": new TextEncoder().encode("ok") }));
    if (!files["a.txt"]) throw new Error("round trip lost the entry");
    return "zip round trip";
  },
  "pdfkit + svg-to-pdfkit": async () => {
    const doc = new PDFDocument({ size: [64, 64] });
    const chunks = [];
    doc.on("data", (c) => chunks.push(c));
    const done = new Promise((resolve) => doc.on("end", resolve));
    SVGtoPDF(doc, svg, 0, 0);
    doc.end();
    await done;
    return `${Buffer.concat(chunks).length} bytes of PDF`;
  },
};

let failed = 0;
for (const [name, check] of Object.entries(checks)) {
  try {
    console.log(`${runtime}: ${name}: ${await check()}`);
  } catch (err) {
    failed++;
    console.error(`${runtime}: ${name}: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  }
}
process.exit(failed ? 1 : 0);
