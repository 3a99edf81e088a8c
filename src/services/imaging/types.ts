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
}

/** Raw RGBA pixels, 4 bytes per pixel, row-major. */
export interface Raster {
  data: Uint8Array;
  width: number;
  height: number;
}

export type RGB = readonly [number, number, number];
