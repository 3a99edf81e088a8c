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
