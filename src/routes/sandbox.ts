import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../deps";
import { notFound } from "../lib/errors";
import { defineRoute } from "../openapi/kit";
import { requestIdHeader } from "../openapi/responses";
import { PredictionInputSchema, SandboxImageParamsSchema } from "../schemas/predictions";
import { createPngCache, renderSandboxLogoPng } from "../services/imaging/sandbox-logo";
import { sandboxPredictionInput } from "../services/predictions";
import { parseSandboxId } from "../services/providers/sandbox";

const sandboxImage = defineRoute({
  method: "get",
  path: "/sandbox/images/{id}/{n}.png",
  operationId: "getSandboxImage",
  tags: ["Sandbox"],
  summary: "A sandbox output image",
  description:
    "Served for predictions run by the sandbox provider (no `EACHLABS_API_KEY` outside production, and every test-mode prediction): the image URLs a sandbox prediction's provider answers point here (and are copied to our storage). A 512×512 PNG monogram of the brand name in the brand colours (drawn with a bundled font, so it is the same on every host). Public.",
  access: "public",
  request: { params: SandboxImageParamsSchema },
  responses: {
    200: {
      description: "The image.",
      headers: requestIdHeader,
      content: { "image/png": { schema: z.string().max(200_000).openapi({ format: "binary" }) } },
    },
  },
  errors: [404],
});

/** Rendered sandbox images by `${id}/${n}` (an image never changes; resvg takes 30–45 ms on the event loop). */
const rendered = createPngCache(64);

/**
 * The sandbox provider's images: a PNG monogram drawn from the prediction's brand name and colours, so
 * deliverables get a real raster offline. Public, like a provider's CDN URL. Hono cannot match `{n}.png`
 * from an OpenAPI path, so the route is documented in the registry and served by a plain handler with a
 * regex parameter.
 */
export function registerSandboxRoutes(app: OpenAPIHono<AppEnv>) {
  const { middleware: _public, ...documented } = sandboxImage;
  app.openAPIRegistry.registerPath(documented);

  app.get("/sandbox/images/:id/:file{[1-9]\\.png}", async (c) => {
    const id = c.req.param("id");
    const n = Number(c.req.param("file").slice(0, 1));
    const parsed = parseSandboxId(id);
    if (!parsed || n > parsed.count) throw notFound("Image");
    const input = PredictionInputSchema.safeParse(await sandboxPredictionInput(c.env.deps.db, id));
    if (!input.success) throw notFound("Image");
    const { brandName, colors } = input.data;
    const png = rendered.get(`${id}/${n}`, () => renderSandboxLogoPng({ brandName, colors, n }));
    c.header("Content-Type", "image/png");
    c.header("Cache-Control", "public, max-age=86400, immutable");
    return c.body(png, 200);
  });
}
