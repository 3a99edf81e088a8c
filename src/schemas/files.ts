import { z } from "@hono/zod-openapi";
import { FILE_KEY_MAX_LENGTH, FILE_KEY_PATTERN } from "../domain/files";

export const FileKeyParamsSchema = z.object({
  key: z
    .string()
    .max(FILE_KEY_MAX_LENGTH)
    .regex(new RegExp(FILE_KEY_PATTERN))
    .openapi({
      param: { name: "key", in: "path" },
      description: "32 lowercase hex digits and the image's extension.",
      example: "9f1c2b3a4d5e6f708192a3b4c5d6e7f8.png",
    }),
});

export const FileBytesSchema = z
  .string()
  .max(100 * 1024 * 1024)
  .openapi({ format: "binary", description: "The image bytes." });

/** A download's file name: ASCII letters, digits, `.`, `_` and `-` (nothing to quote or escape in a header). */
export const DOWNLOAD_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$";

export const FileQuerySchema = z.object({
  download: z
    .string()
    .max(100)
    .regex(new RegExp(DOWNLOAD_NAME_PATTERN))
    .optional()
    .openapi({
      param: { name: "download", in: "query" },
      description:
        'Serve the file as a download under this name (`Content-Disposition: attachment; filename="…"`), as a browser link to another origin cannot name it (`<a download>` is ignored across origins). Up to 100 of `A-Z a-z 0-9 . _ -`, with the key\'s extension (`brand-kit.zip` for a `.zip` key); else 400.',
      example: "brand-kit.zip",
    }),
});
