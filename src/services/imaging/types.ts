/** Shared types of the image layer; index.ts re-exports them (this file exists so modules avoid an import cycle). */

export interface AssetFile {
  name: string;
  contentType: string;
  bytes: Uint8Array;
  width: number | null;
  height: number | null;
}

export type ImagingErrorCode = "source_invalid" | "source_too_large";

/** A failure caused by the source image itself (the asset fails with this code and is refunded). */
export class ImagingError extends Error {
  override readonly name = "ImagingError";
  constructor(
    readonly code: ImagingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ImagingLimits {
  /** ASSET_MAX_PIXELS: width × height of the source, checked before any pixel is decoded. */
  maxPixels: number;
  /** ASSET_MAX_SIDE: the longest side of the source, checked with the aspect ratio before decoding. */
  maxSide?: number;
}

/** ASSET_MAX_SIDE's default, for callers that give only maxPixels. */
export const DEFAULT_MAX_SIDE = 16_384;

/** A source longer than this many times its width (or wider than its height) is refused before decoding. */
export const MAX_ASPECT_RATIO = 20;

/** Why a source of this size is refused before decoding (over the side limit, too thin), or null. */
export function badDimensions(width: number, height: number, limits: ImagingLimits): string | null {
  const maxSide = limits.maxSide ?? DEFAULT_MAX_SIDE;
  if (width > maxSide || height > maxSide) return `Image is ${width}×${height}, a side over ${maxSide} pixels`;
  if (Math.max(width, height) > MAX_ASPECT_RATIO * Math.min(width, height))
    return `Image is ${width}×${height}, an aspect ratio over ${MAX_ASPECT_RATIO}:1`;
  return null;
}

/** Raw RGBA pixels, 4 bytes per pixel, row-major. */
export interface Raster {
  data: Uint8Array;
  width: number;
  height: number;
}

export type RGB = readonly [number, number, number];
