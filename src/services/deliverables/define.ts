import type { z } from "@hono/zod-openapi";
import type { AssetFile } from "../imaging/types";
import type { Work } from "../imaging/work";

/**
 * A kind of deliverable, said once: what it is called and costs, what it makes, the options it takes (one Zod
 * schema: validated once, when the asset is ordered, and stored with its defaults filled in) and the pure
 * function that makes its files. The registry (index.ts) derives everything else from these declarations.
 */

/** What a deliverable may know about the order besides the image: the prediction's brand name. */
export interface MakeContext {
  brandName: string | null;
}

export interface Deliverable<K extends string = string, O extends z.ZodObject = z.ZodObject> {
  kind: K;
  /** A short name for people, as the kinds list shows it. */
  name: string;
  description: string;
  /** The names of the files it makes, in order. */
  files: readonly string[];
  /** The price in credits unless ASSET_CREDITS says otherwise. */
  credits: number;
  /** Its options: a strict object whose fields all have defaults or are optional. */
  options: O;
  /** Makes the files from the decoded source; `options` is the stored, parsed value. */
  make(work: Work, options: z.output<O>, context: MakeContext): Promise<AssetFile[]>;
}

export const defineDeliverable = <const K extends string, O extends z.ZodObject>(d: Deliverable<K, O>) => d;
