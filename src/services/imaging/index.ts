/**
 * The pure image layer for deliverables: decode with limits, trace, key out, resize, ICO, PDF, zip. No I/O, no
 * database; CPU-heavy, so the server runs it in worker threads (deliverables/pool.ts). Every failure caused by
 * the source is an ImagingError.
 */

export { BRAND_KIT_FILES, ICON_FILES } from "../../domain/asset-files";
export { sanitizeSvg } from "./sanitize";
export type { AssetFile, ImagingErrorCode, ImagingLimits } from "./types";
export { ImagingError } from "./types";
export { Work } from "./work";
