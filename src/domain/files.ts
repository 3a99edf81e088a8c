/** What a stored file is (an output image, a deliverable's file): its type and the key it is kept under. */

/** The image types we store, by content type, and the extension their keys end with. */
export const IMAGE_EXTENSIONS = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/avif": "avif",
  "image/svg+xml": "svg",
  "image/bmp": "bmp",
  "image/tiff": "tiff",
  "image/heic": "heic",
  "image/heif": "heif",
} as const satisfies Record<string, string>;
export type ImageType = keyof typeof IMAGE_EXTENSIONS;

/** The other files deliverables are made of (a kit's zip, an icon set's ICO, manifest and HTML snippet, a PDF). */
export const ASSET_FILE_EXTENSIONS = {
  "application/zip": "zip",
  "image/x-icon": "ico",
  "application/manifest+json": "webmanifest",
  "text/html": "html",
  "application/pdf": "pdf",
} as const satisfies Record<string, string>;
export type StoredType = ImageType | keyof typeof ASSET_FILE_EXTENSIONS;
const STORED_EXTENSIONS: Record<StoredType, string> = { ...IMAGE_EXTENSIONS, ...ASSET_FILE_EXTENSIONS };

/** Spellings seen in the wild for the same types. */
const ALIASES: Record<string, ImageType> = { "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg" };

const CONTENT_TYPE_OF_EXTENSION = Object.fromEntries(
  Object.entries(STORED_EXTENSIONS).map(([type, ext]) => [ext, type]),
) as Record<string, StoredType>;

/** 128 random bits as 32 lowercase hex digits, a dot, and one of the extensions above. */
export const FILE_KEY_PATTERN = `^[0-9a-f]{32}\\.(${[...new Set(Object.values(STORED_EXTENSIONS))].join("|")})$`;
const FILE_KEY_RE = new RegExp(FILE_KEY_PATTERN);
export const FILE_KEY_MAX_LENGTH = 48;

/** A response's Content-Type as one of our image types (parameters dropped), or null. */
export function imageTypeOf(contentType: string | null | undefined): ImageType | null {
  const bare = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const type = ALIASES[bare] ?? bare;
  return type in IMAGE_EXTENSIONS ? (type as ImageType) : null;
}

export const isFileKey = (key: string) => FILE_KEY_RE.test(key);

/** Whether a content type is one we store (and so one a key can be made for). */
export const isStoredType = (contentType: string): contentType is StoredType => contentType in STORED_EXTENSIONS;

/**
 * The key a file URL of ours names (`{PUBLIC_URL}/files/{key}` or `{S3_PUBLIC_URL}/{key}`: its last segment,
 * whatever the base was when it was written), or null when the URL names none.
 */
export function fileKeyOfUrl(url: string): string | null {
  const key = url.slice(url.lastIndexOf("/") + 1);
  return isFileKey(key) ? key : null;
}

/** A fresh key for a file of this type. */
export function newFileKey(type: StoredType): string {
  const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
  return `${hex}.${STORED_EXTENSIONS[type]}`;
}

/** The content type a key was stored with (from its extension), or null for a key we never issue. */
export function contentTypeOfKey(key: string): StoredType | null {
  if (!isFileKey(key)) return null;
  return CONTENT_TYPE_OF_EXTENSION[key.slice(key.lastIndexOf(".") + 1)] ?? null;
}
