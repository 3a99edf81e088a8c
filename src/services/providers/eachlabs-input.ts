/**
 * From a CreatePredictionRequest to what Eachlabs expects: one logo-design prompt, and the input object each slug
 * takes (each model page lists its own fields). Pure: no I/O, no clock, no randomness.
 */
import { BRAND_NAME_MAX, DESCRIPTION_MAX, EXTRA_PROMPT_MAX, MAX_COLORS } from "../../domain/limits";
import type { AspectRatio, MODELS, ModelInfo } from "../../domain/models";
import { HEX_COLOR } from "../../domain/patterns";
import type { LogoStyle } from "../../domain/predictions";

/**
 * The fields of CreatePredictionRequest. Fields with a default in the API (model, aspectRatio,
 * numOutputs) are optional here too, so both the parsed Zod output and a raw test object fit.
 */
export interface PredictionRequest {
  model?: string;
  brandName: string;
  description?: string | null;
  style?: LogoStyle | null;
  colors?: readonly string[] | null;
  aspectRatio?: AspectRatio;
  numOutputs?: number;
  prompt?: string | null;
}

export interface ProviderInput {
  slug: string;
  input: Record<string, unknown>;
}

const STYLE_WORDS: Record<LogoStyle, string> = {
  minimal: "minimalist, simple shapes, generous negative space, restrained palette",
  modern: "modern and clean, crisp geometric lines, contemporary sans-serif lettering",
  playful: "playful and friendly, rounded shapes, bright cheerful colours",
  vintage: "vintage, retro badge or emblem, classic serif lettering",
  luxury: "luxury and elegant, refined thin lines, premium serif lettering",
  geometric: "geometric, built from circles, triangles and grids, precise symmetry",
  "hand-drawn": "hand-drawn, organic ink or brush strokes, artisanal feel",
  mascot: "mascot logo, a friendly character illustration with bold outlines",
};

/** Control characters and runs of whitespace become single spaces; double quotes become single so they cannot break ours. */
const promptText = (s: string | null | undefined) =>
  (s ?? "")
    .replace(/[\p{Cc}\s]+/gu, " ")
    .replace(/"/g, "'")
    .trim();

const sentence = (s: string) => (/[.!?]$/.test(s) ? s : `${s}.`);

/** A clear logo-design prompt from the request's brand name, description, style, colours and extra instructions. */
export function buildPrompt(request: PredictionRequest): string {
  const brand = promptText(request.brandName).slice(0, BRAND_NAME_MAX);
  const parts = [`Professional logo design for the brand "${brand}".`];
  const description = promptText(request.description).slice(0, DESCRIPTION_MAX);
  if (description) parts.push(sentence(`About the brand: ${description}`));
  if (request.style) parts.push(sentence(`Style: ${STYLE_WORDS[request.style]}`));
  const colors = (request.colors ?? []).filter((c) => HEX_COLOR.test(c)).slice(0, MAX_COLORS);
  if (colors.length > 0) parts.push(`Colour palette: ${colors.map((c) => c.toUpperCase()).join(", ")}.`);
  parts.push(
    `Flat vector logo, centred on a plain solid background, clean edges, scalable, no mockup, no photo, no extra text other than "${brand}".`,
  );
  const extra = promptText(request.prompt).slice(0, EXTRA_PROMPT_MAX);
  if (extra) parts.push(sentence(`Additional instructions: ${extra}`));
  return parts.join(" ");
}

const SEEDREAM_SIZES: Record<AspectRatio, string> = {
  "1:1": "square_hd",
  "4:3": "landscape_4_3",
  "3:4": "portrait_4_3",
  "16:9": "landscape_16_9",
  "9:16": "portrait_16_9",
};

// Recraft V3's supported sizes closest to each ratio.
const RECRAFT_SIZES: Record<AspectRatio, string> = {
  "1:1": "1024x1024",
  "4:3": "1365x1024",
  "3:4": "1024x1365",
  "16:9": "1820x1024",
  "9:16": "1024x1820",
};

type Slug = (typeof MODELS)[number]["slug"];
interface BuildArgs {
  prompt: string;
  aspectRatio: AspectRatio;
  numOutputs: number;
}

type Builder = (a: BuildArgs) => Record<string, unknown>;

/** One builder per catalog slug: the Record type makes a new catalog entry without a builder a type error. */
const BUILDERS: Record<Slug, Builder> = {
  "nano-banana": (a) => ({
    prompt: a.prompt,
    num_images: a.numOutputs,
    aspect_ratio: a.aspectRatio,
    output_format: "png",
  }),
  "seedream-v4-text-to-image": (a) => ({
    prompt: a.prompt,
    num_images: a.numOutputs,
    image_size: SEEDREAM_SIZES[a.aspectRatio],
  }),
  "reve-text-to-image": (a) => ({
    prompt: a.prompt,
    aspect_ratio: a.aspectRatio,
    num_images: a.numOutputs,
    output_format: "png",
  }),
  "logo-generator": (a) => ({ prompt: a.prompt, aspect_ratio: a.aspectRatio }),
  "recraft-v3": (a) => ({ prompt: a.prompt, size: RECRAFT_SIZES[a.aspectRatio], style: "digital_illustration" }),
  "ideogram-v3-turbo": (a) => ({
    prompt: a.prompt,
    aspect_ratio: a.aspectRatio,
    style_type: "Design",
    // our prompt already names the brand exactly; a rewritten prompt may misspell it
    magic_prompt_option: "Off",
  }),
  "flux-1-1-pro": (a) => ({ prompt: a.prompt, aspect_ratio: a.aspectRatio, output_format: "png" }),
};

/**
 * The Eachlabs slug and input for a request on a catalog model. Throws RangeError for what validation should
 * already have rejected (numOutputs outside 1..maxOutputs, an aspect ratio the model lacks, a slug without a
 * builder): charging for images the provider is never asked for must be impossible.
 */
export function buildProviderInput(model: ModelInfo, request: PredictionRequest): ProviderInput {
  const numOutputs = request.numOutputs ?? 1;
  if (!Number.isInteger(numOutputs) || numOutputs < 1 || numOutputs > model.maxOutputs) {
    throw new RangeError(`numOutputs ${numOutputs} is outside 1..${model.maxOutputs} for ${model.id}`);
  }
  const aspectRatio = request.aspectRatio ?? "1:1";
  if (!model.aspectRatios.includes(aspectRatio)) {
    throw new RangeError(`aspect ratio ${aspectRatio} is not offered by ${model.id}`);
  }
  const build = (BUILDERS as Record<string, Builder | undefined>)[model.slug];
  if (!build) throw new RangeError(`no input builder for slug ${model.slug}`);
  return { slug: model.slug, input: build({ prompt: buildPrompt(request), aspectRatio, numOutputs }) };
}
