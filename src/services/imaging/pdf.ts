import PDFDocument from "pdfkit";
import SVGtoPDF from "svg-to-pdfkit";

/** Fixed dates make pdfkit's /ID (an md5 of the info dictionary) and the file byte-identical per input. */
const FIXED_DATE = new Date(Date.UTC(2026, 0, 1));
const MAX_SIDE_PT = 1024;

/**
 * A vector PDF of a sanitised SVG (shapes only, so svg-to-pdfkit draws paths and never embeds an
 * image). Uncompressed streams: zlib output may differ between runtimes; the zip compresses it anyway.
 */
export function svgToPdf(svg: string, width: number, height: number): Promise<Uint8Array> {
  const k = Math.min(1, MAX_SIDE_PT / Math.max(width, height));
  const w = Math.max(1, Math.round(width * k));
  const h = Math.max(1, Math.round(height * k));
  const doc = new PDFDocument({
    size: [w, h],
    margin: 0,
    compress: false,
    info: { Title: "Logo", Producer: "Logo API", Creator: "Logo API", CreationDate: FIXED_DATE, ModDate: FIXED_DATE },
  });
  const chunks: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    doc.on("data", (c: Uint8Array) => chunks.push(c));
    doc.on("error", reject);
    doc.on("end", () => {
      const total = chunks.reduce((s, c) => s + c.byteLength, 0);
      const out = new Uint8Array(total);
      let off = 0;
      for (const c of chunks) {
        out.set(c, off);
        off += c.byteLength;
      }
      resolve(out);
    });
    try {
      SVGtoPDF(doc, svg, 0, 0, { width: w, height: h, assumePt: false, preserveAspectRatio: "xMidYMid meet" });
      doc.end();
    } catch (e) {
      reject(e);
    }
  });
}
