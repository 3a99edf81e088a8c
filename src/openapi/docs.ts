import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { AppEnv, Deps } from "../deps";
import { kept } from "../lib/kept";
import { buildOpenApiDocument, SERVERS } from "./document";
import { toOpenApi30 } from "./openapi30";

/**
 * The live contract: /openapi.json (3.1, built once on first request from the routes registered on `app`
 * and Better Auth's own document), /openapi-3.0.json, and the Scalar reference at /docs with its script
 * served from here (no CDN). Returns the live document (3.1), for what else is derived from it (the MCP tools).
 */
export function mountDocs(app: OpenAPIHono<AppEnv>, deps: Deps): () => Promise<Record<string, unknown>> {
  const document = kept(() => buildOpenApiDocument(app, deps.auth, deps.config.PUBLIC_URL));
  // Both documents are public and the same for the process's life: serialized once (the 3.0 one converted once),
  // not on every request of an integrator, a client generator or anyone else.
  const json31 = kept(async () => JSON.stringify(await document()));
  const json30 = kept(async () => JSON.stringify(toOpenApi30(await document())));
  app.get("/openapi.json", async (c) => {
    c.header("Content-Type", "application/json");
    return c.body(await json31());
  });
  app.get("/openapi-3.0.json", async (c) => {
    c.header("Content-Type", "application/json");
    return c.body(await json30());
  });

  let scalarBundle: Promise<string> | undefined;
  app.get("/docs/scalar.js", async (c) => {
    scalarBundle ??= readFile(scalarBundlePath(), "utf8");
    c.header("Content-Type", "application/javascript; charset=utf-8");
    c.header("Cache-Control", "public, max-age=86400");
    return c.body(await scalarBundle);
  });
  // "Send request" in the reference goes to the server showing it (BETTER_AUTH_URL, its public URL,
  // when set), listed before the document's own servers; the document itself stays the same everywhere.
  app.get(
    "/docs",
    Scalar((c) => ({
      url: "/openapi.json",
      cdn: "/docs/scalar.js",
      pageTitle: "Logo API reference",
      theme: "default",
      ...OFFLINE_REFERENCE,
      servers: [
        { url: deps.config.BETTER_AUTH_URL ?? new URL(c.req.url).origin, description: "This server" },
        ...SERVERS.filter((s) => s.url !== deps.config.BETTER_AUTH_URL),
      ],
    })),
  );
  return document;
}

/**
 * The page loads nothing from another host and offers none of Scalar's hosted services: no web fonts from
 * fonts.scalar.com (the system's own faces instead), no Ask AI agent, no MCP, no developer tools (their
 * Share / Deploy buttons upload the document to Scalar), no telemetry. "Try it" offers the API key first:
 * the credential integrators use, rather than the browser's session cookie.
 */
export const OFFLINE_REFERENCE = {
  withDefaultFonts: false,
  customCss: `:root {
  --scalar-font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --scalar-font-code: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}`,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  telemetry: false,
  authentication: { preferredSecurityScheme: "apiKeyAuth" },
} as const;

function scalarBundlePath(): string {
  const require = createRequire(import.meta.url);
  // standalone.js is not in the package's exports; it sits beside the main entry.
  return join(dirname(require.resolve("@scalar/api-reference")), "browser", "standalone.js");
}
