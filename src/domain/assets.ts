/** The facts about deliverables that the database, the contract, the workers and the catalog share. */
import { assetStatus } from "../db/schemas/assets";
import { ICON_FILES } from "./asset-files";

export const ASSET_KINDS = ["vector", "transparent", "icons", "brand-kit"] as const;
export type AssetKind = (typeof ASSET_KINDS)[number];

/** queued → processing → succeeded | failed. */
export const ASSET_STATUSES = assetStatus.enumValues;
export type AssetStatus = (typeof ASSET_STATUSES)[number];
export const ACTIVE_ASSET_STATUSES = ["queued", "processing"] as const satisfies readonly AssetStatus[];
export const isAssetFinal = (s: AssetStatus) => s === "succeeded" || s === "failed";

/** Prices in credits unless ASSET_CREDITS says otherwise. */
export const DEFAULT_ASSET_CREDITS: Record<AssetKind, number> = { vector: 1, transparent: 1, icons: 1, "brand-kit": 3 };

/** What each kind is, as GET /api/assets/kinds lists it (prices come from the configuration). */
export const ASSET_KIND_CATALOG: Record<AssetKind, { name: string; description: string; files: readonly string[] }> = {
  vector: {
    name: "Vector logo (SVG)",
    description:
      "The logo traced to an SVG of few flat-colour paths (palette reduced to `maxColors`, specks dropped), with a viewBox of the source's size; `mode: mono` gives one colour. An SVG output is sanitised and kept, not traced.",
    files: ["logo.svg"],
  },
  transparent: {
    name: "Transparent PNG",
    description:
      "The logo with its background removed: `border` clears the background connected to the image's edge (enclosed regions stay), `all` clears every pixel within `tolerance` of it. Anti-aliased edges, no halo.",
    files: ["logo.png"],
  },
  icons: {
    name: "Favicons and app icons",
    description:
      "favicon.ico (16, 32, 48 px), favicon.svg, a 180 px opaque apple-touch icon, 192/512 px icons, a maskable 512 px icon, a web manifest and the HTML `<link>` tags for all of them.",
    files: ICON_FILES,
  },
  "brand-kit": {
    name: "Brand kit (zip)",
    description:
      "Everything a designer or printer needs in one zip: SVG and vector PDF masters, one-colour black and white SVGs, PNGs at 512/1024/2048 px, a transparent PNG, the icon set, social images, the palette and a README.",
    files: ["brand-kit.zip"],
  },
};

/** Why an asset failed, as clients see it; each has one fixed message (its credits are refunded). */
export const ASSET_ERRORS = {
  source_invalid: "The source image could not be read (not an image, or corrupt). Your credits have been refunded.",
  source_too_large: "The source image has more pixels than this server processes. Your credits have been refunded.",
  deadline_exceeded: "The deliverable was not ready in time. Your credits have been refunded.",
  internal_error: "The deliverable could not be made. Your credits have been refunded.",
} as const;
export type AssetErrorCode = keyof typeof ASSET_ERRORS;
export const ASSET_ERROR_CODES = Object.keys(ASSET_ERRORS) as [AssetErrorCode, ...AssetErrorCode[]];
