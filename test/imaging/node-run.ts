/**
 * Runs one imaging job on whatever runtime executes this file and prints the files' hashes as JSON, so a
 * test under Bun can compare with Node (`node --import tsx test/imaging/node-run.ts direct|pool KIND FIXTURE`).
 */
import { createHash } from "node:crypto";
import { makeAsset } from "../../src/services/deliverables/make";
import { createImagingPool } from "../../src/services/deliverables/pool";
import { fixture } from "./fixtures";

const [mode, kind, name, optionsJson] = process.argv.slice(2) as [
  string,
  "vector" | "transparent" | "icons" | "brand-kit",
  string,
  string?,
];
const f = name === "garbage" ? null : await fixture(name);
const input = f ? f.input : new TextEncoder().encode("not an image");
const options = optionsJson ? JSON.parse(optionsJson) : {};
const limits = { maxPixels: 25_000_000 };
const summarise = (files: Awaited<ReturnType<typeof makeAsset>>) =>
  files.map((x) => ({
    name: x.name,
    bytes: x.bytes.byteLength,
    sha256: createHash("sha256").update(x.bytes).digest("hex"),
  }));
if (mode === "pool") {
  const pool = createImagingPool({ size: 1 });
  const out: unknown[] = [];
  try {
    await pool.run(kind, new TextEncoder().encode("not an image"), options, limits);
  } catch (e) {
    out.push({ error: (e as { code?: string }).code ?? null, type: (e as Error).name });
  }
  out.push(summarise(await pool.run(kind, input, options, limits)));
  await pool.close();
  console.log(JSON.stringify(out));
} else {
  console.log(JSON.stringify(summarise(await makeAsset(kind, input, options, limits))));
}
