import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../deps";
import { notFound } from "../lib/errors";
import { defineRoute } from "../openapi/kit";
import { requestIdHeader } from "../openapi/responses";
import { PredictionInputSchema, SandboxImageParamsSchema } from "../schemas/predictions";
import { sandboxPredictionInput } from "../services/predictions";
import { parseSandboxId, renderMonogramSvg } from "../services/providers/sandbox";

const sandboxImage = defineRoute({
  method: "get",
  path: "/sandbox/images/{id}/{n}.svg",
  operationId: "getSandboxImage",
  tags: ["Sandbox"],
  summary: "A sandbox output image",
  description:
    "Served only when the server runs the sandbox provider (no `EACHLABS_API_KEY` outside production): the image URLs in a sandbox prediction's `output` point here. An SVG monogram of the brand name in the brand colours. Public.",
  access: "public",
  request: { params: SandboxImageParamsSchema },
  responses: {
    200: {
      description: "The image.",
      headers: requestIdHeader,
      content: { "image/svg+xml": { schema: z.string().max(20_000).openapi({ format: "binary" }) } },
    },
  },
  errors: [404],
});

/**
 * The sandbox provider's images: an SVG monogram drawn from the prediction's brand name and colours.
 * Public, like a provider's CDN URL. Hono cannot match `{n}.svg` from an OpenAPI path, so the route is
 * documented in the registry and served by a plain handler with a regex parameter.
 */
export function registerSandboxRoutes(app: OpenAPIHono<AppEnv>) {
  const { middleware: _public, ...documented } = sandboxImage;
  app.openAPIRegistry.registerPath(documented);

  app.get("/sandbox/images/:id/:file{[1-9]\\.svg}", async (c) => {
    const id = c.req.param("id");
    const n = Number(c.req.param("file").slice(0, 1));
    const parsed = parseSandboxId(id);
    if (!parsed || n > parsed.count) throw notFound("Image");
    const input = PredictionInputSchema.safeParse(await sandboxPredictionInput(c.get("deps").db, id));
    if (!input.success) throw notFound("Image");
    const svg = renderMonogramSvg({ brandName: input.data.brandName, colors: input.data.colors, n });
    c.header("Content-Type", "image/svg+xml; charset=utf-8");
    c.header("Cache-Control", "public, max-age=86400, immutable");
    // An SVG opened directly must not run anything.
    c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    return c.body(svg, 200);
  });
}
