import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../deps";
import { contentTypeOfKey } from "../domain/files";
import { ApiError, notFound } from "../lib/errors";
import { defineRoute } from "../openapi/kit";
import { requestIdHeader } from "../openapi/responses";
import { DOWNLOAD_NAME_PATTERN, FileBytesSchema, FileKeyParamsSchema, FileQuerySchema } from "../schemas/files";

/**
 * Output images kept in our storage: the URLs in a succeeded prediction's `output`. Public and
 * immutable (a key is random and never reused), so any cache may keep them for a year.
 */

const IMMUTABLE = "public, max-age=31536000, immutable";
/** An SVG opened directly must not run anything: no script, no plugins, a unique origin. */
const SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";

const getFile = defineRoute({
  method: "get",
  path: "/files/{key}",
  operationId: "getFile",
  tags: ["Files"],
  summary: "A stored file (output image or deliverable)",
  description:
    "The bytes of an output image (copied from the provider when its prediction succeeded) or of a deliverable's file (`Asset.files`), with the content type it was stored with. Public: the key (128 random bits) is the capability, as for a CDN URL. Served with `Cache-Control: public, max-age=31536000, immutable` and `X-Content-Type-Options: nosniff`; an SVG also gets a `Content-Security-Policy` under which it runs no script. A zip is always served as an attachment; `?download=<name>` serves any file as an attachment under that name. With `S3_PUBLIC_URL` set, `output` links the bucket or its CDN instead, but this path keeps working.",
  access: "public",
  request: { params: FileKeyParamsSchema, query: FileQuerySchema },
  responses: {
    200: {
      description: "The image.",
      headers: {
        ...requestIdHeader,
        "Cache-Control": { description: "Stored files never change.", schema: { type: "string", enum: [IMMUTABLE] } },
        "X-Content-Type-Options": {
          description: "Browsers must not guess another type.",
          schema: { type: "string", enum: ["nosniff"] },
        },
        "Content-Security-Policy": {
          description: "SVG and HTML only: the file runs no script.",
          schema: { type: "string", enum: [SVG_CSP] },
        },
        "Content-Disposition": {
          description:
            'With `?download=<name>`: `attachment; filename="<name>"`. Without it, a zip is `attachment` (a browser saves it rather than navigating to it); other files have none (shown inline).',
          schema: {
            type: "string",
            maxLength: 150,
            pattern: `^attachment(; filename="${DOWNLOAD_NAME_PATTERN.slice(1, -1)}")?$`,
            example: 'attachment; filename="brand-kit.zip"',
          },
        },
      },
      content: {
        "image/*": { schema: FileBytesSchema },
        "application/zip": { schema: FileBytesSchema },
        "application/manifest+json": { schema: FileBytesSchema },
        "text/html": { schema: FileBytesSchema },
      },
    },
  },
  errors: [400, 404],
});

export function registerFileRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(getFile, async (c) => {
    const { key } = c.req.valid("param");
    const { download } = c.req.valid("query");
    const contentType = contentTypeOfKey(key);
    // The name may not change what the file is: a saved file's extension is what the OS opens it with.
    if (download && contentType && extension(download) !== extension(key))
      throw new ApiError("validation_error", `The download name must end with .${extension(key)}.`, {
        issues: [{ path: "download", message: `must end with .${extension(key)}` }],
      });
    // Streamed from storage: a request holds a few chunks of the file in memory, never the whole of it.
    const file = contentType ? await c.env.deps.storage.stream(key) : null;
    if (!contentType || !file) throw notFound("File");
    c.header("Content-Type", contentType);
    c.header("Content-Length", String(file.size));
    c.header("Cache-Control", IMMUTABLE);
    c.header("X-Content-Type-Options", "nosniff");
    // SVG and HTML (an icon set's head.html) opened directly must not run anything.
    if (contentType === "image/svg+xml" || contentType === "text/html") c.header("Content-Security-Policy", SVG_CSP);
    if (download) c.header("Content-Disposition", `attachment; filename="${download}"`);
    else if (contentType === "application/zip") c.header("Content-Disposition", "attachment");
    return c.body(file.body as ReadableStream<Uint8Array<ArrayBuffer>>, 200);
  });
}

const extension = (name: string) => name.slice(name.lastIndexOf(".") + 1).toLowerCase();
