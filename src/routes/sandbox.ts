import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { prediction } from "../db/schema";
import { notFound } from "../lib/errors";
import { errorResponses, requestIdHeader } from "../lib/openapi";
import { PredictionInputSchema } from "../schemas/predictions";
import { parseSandboxId, renderMonogramSvg, SANDBOX_ID_PATTERN } from "../services/sandbox-provider";
import type { AppEnv } from "../types";

/**
 * The sandbox provider's images: an SVG monogram drawn from the prediction's brand name and colours.
 * Public, like a provider's CDN URL. Hono cannot match `{n}.svg` from an OpenAPI path, so the route is
 * documented in the registry and served by a plain handler with a regex parameter.
 */
export function registerSandboxRoutes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/sandbox/images/{id}/{n}.svg",
    operationId: "getSandboxImage",
    tags: ["Sandbox"],
    summary: "A sandbox output image",
    description:
      "Served only when the server runs the sandbox provider (no `EACHLABS_API_KEY` outside production): the image URLs in a sandbox prediction's `output` point here. An SVG monogram of the brand name in the brand colours. Public.",
    security: [],
    request: {
      params: z.object({
        id: z
          .string()
          .max(64)
          .regex(new RegExp(SANDBOX_ID_PATTERN))
          .openapi({ param: { name: "id", in: "path" }, example: "sbx_mi3x9k2a_2_9f1c2b3a4d5e6f70" }),
        n: z
          .int()
          .min(1)
          .max(9)
          .openapi({ param: { name: "n", in: "path" }, description: "Image number, from 1.", example: 1 }),
      }),
    },
    responses: {
      200: {
        description: "The image.",
        headers: requestIdHeader,
        content: { "image/svg+xml": { schema: z.string().max(20_000).openapi({ format: "binary" }) } },
      },
      ...errorResponses([404]),
    },
  });

  app.get("/sandbox/images/:id/:file{[1-9]\\.svg}", async (c) => {
    const id = c.req.param("id");
    const n = Number(c.req.param("file").slice(0, 1));
    const parsed = parseSandboxId(id);
    if (!parsed || n > parsed.count) throw notFound("Image");
    const [row] = await c.var.deps.db
      .select({ input: prediction.input })
      .from(prediction)
      .where(eq(prediction.providerPredictionId, id))
      .limit(1);
    const input = PredictionInputSchema.safeParse(row?.input);
    if (!input.success) throw notFound("Image");
    const svg = renderMonogramSvg({ brandName: input.data.brandName, colors: input.data.colors, n });
    c.header("Content-Type", "image/svg+xml; charset=utf-8");
    c.header("Cache-Control", "public, max-age=86400, immutable");
    // An SVG opened directly must not run anything.
    c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    return c.body(svg, 200);
  });
}
