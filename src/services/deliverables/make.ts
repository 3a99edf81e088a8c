import { loadSource } from "../imaging/source";
import type { AssetFile, ImagingLimits } from "../imaging/types";
import { Work } from "../imaging/work";
import type { MakeContext } from "./define";
import { deliverableOf } from "./index";

/**
 * Makes a deliverable's files from the source bytes: decode with the limits, then the kind's own `make`. Options
 * arrive as stored (parsed once, when the asset was ordered, defaults filled in). Runs in a worker thread (pool.ts).
 */
export async function makeAsset(
  kind: string,
  source: Uint8Array,
  options: Record<string, unknown>,
  limits: ImagingLimits,
  context: MakeContext = { brandName: null },
): Promise<AssetFile[]> {
  const d = deliverableOf(kind);
  if (!d) throw new Error(`unknown asset kind ${kind}`);
  return d.make(new Work(await loadSource(source, limits)), options, context);
}
