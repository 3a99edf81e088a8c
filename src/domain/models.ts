/**
 * The model catalog: our ids → Eachlabs slugs, prices and limits. Pure data and pure functions.
 * (What each slug takes as input is built in services/providers/eachlabs-input.ts.)
 */

export const ASPECT_RATIOS = ["1:1", "4:3", "3:4", "16:9", "9:16"] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export interface ModelInfo {
  id: string;
  slug: string;
  name: string;
  description: string;
  creditsPerImage: number;
  maxOutputs: number;
  aspectRatios: readonly AspectRatio[];
}

export const MODELS = [
  {
    id: "nano-banana",
    slug: "nano-banana",
    name: "Nano Banana",
    description: "Google's fast image model; good all-round logos with clean text.",
    creditsPerImage: 1,
    maxOutputs: 4,
    aspectRatios: ASPECT_RATIOS,
  },
  {
    id: "seedream-v4",
    slug: "seedream-v4-text-to-image",
    name: "Seedream 4",
    description: "ByteDance Seedream 4: crisp, high-resolution marks and wordmarks.",
    creditsPerImage: 1,
    maxOutputs: 4,
    aspectRatios: ASPECT_RATIOS,
  },
  {
    id: "reve",
    slug: "reve-text-to-image",
    name: "Reve",
    description: "Reve text-to-image: strong prompt adherence and typography.",
    creditsPerImage: 1,
    maxOutputs: 4,
    aspectRatios: ASPECT_RATIOS,
  },
  {
    id: "logo-generator",
    slug: "logo-generator",
    name: "Logo Generator",
    description: "A model tuned for logos: flat vector-style marks on plain backgrounds.",
    creditsPerImage: 1,
    maxOutputs: 1,
    aspectRatios: ASPECT_RATIOS,
  },
  {
    id: "recraft-v3",
    slug: "recraft-v3",
    name: "Recraft V3",
    description: "Recraft V3: design-grade illustrations and brand marks.",
    creditsPerImage: 2,
    maxOutputs: 1,
    aspectRatios: ASPECT_RATIOS,
  },
  {
    id: "ideogram-v3-turbo",
    slug: "ideogram-v3-turbo",
    name: "Ideogram 3 Turbo",
    description: "Ideogram 3 Turbo: best-in-class lettering for wordmarks.",
    creditsPerImage: 2,
    maxOutputs: 1,
    aspectRatios: ASPECT_RATIOS,
  },
  {
    id: "flux-1.1-pro",
    slug: "flux-1-1-pro",
    name: "FLUX 1.1 Pro",
    description: "Black Forest Labs FLUX 1.1 Pro: detailed, photographic-quality emblems.",
    creditsPerImage: 2,
    maxOutputs: 1,
    aspectRatios: ASPECT_RATIOS,
  },
] as const satisfies readonly ModelInfo[];

export type ModelId = (typeof MODELS)[number]["id"];
export const MODEL_IDS = MODELS.map((m) => m.id) as [ModelId, ...ModelId[]];
export const DEFAULT_MODEL: ModelId = "nano-banana";

/** The most images any catalog model makes in one request; the per-model limit is checked by the flow. */
export const MAX_OUTPUTS_ANY_MODEL = Math.max(...MODELS.map((m) => m.maxOutputs));

const byId = new Map<string, ModelInfo>(MODELS.map((m) => [m.id, m]));
export const getModel = (id: string): ModelInfo | undefined => byId.get(id);

/** The price of a request: credits per image × images. */
export const priceOf = (model: ModelInfo, numOutputs: number) => model.creditsPerImage * numOutputs;
