/**
 * The browser example's static server: bundles app.ts with Bun's bundler, then serves index.html and the
 * bundle on its own origin.
 *
 *   npm run example:web                              # http://localhost:5173, API at http://localhost:3000
 *   WEB_PORT=8080 API_URL=https://api.example.com npm run example:web
 *
 * The API must list this origin in its ALLOWED_ORIGINS (its default includes http://localhost:5173).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const HERE = import.meta.dir;

export interface WebExample {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Builds the bundle (in memory) and starts serving; `port: 0` takes any free port. */
export async function startWebExample(options: {
  port: number;
  apiUrl: string;
  hostname?: string;
}): Promise<WebExample> {
  const built = await Bun.build({
    entrypoints: [join(HERE, "app.ts")],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "inline",
  });
  const bundle = built.outputs[0];
  if (!built.success || !bundle) throw new AggregateError(built.logs, "examples/web: the bundle did not build");
  const js = await bundle.text();
  const html = (await readFile(join(HERE, "index.html"), "utf8")).replace(
    "%API_BASE%",
    escapeAttribute(options.apiUrl),
  );
  const server = Bun.serve({
    hostname: options.hostname ?? "localhost",
    port: options.port,
    fetch(req) {
      const { pathname } = new URL(req.url);
      if (req.method !== "GET" && req.method !== "HEAD") return new Response(null, { status: 405 });
      if (pathname === "/" || pathname === "/index.html")
        return new Response(html, {
          headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" },
        });
      if (pathname === "/app.js")
        return new Response(js, {
          headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache" },
        });
      return new Response("Not found", { status: 404 });
    },
  });
  const port = server.port ?? options.port;
  return { url: `http://localhost:${port}`, port, stop: () => server.stop(true) };
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

if (import.meta.main) {
  const apiUrl = process.env.API_URL ?? "http://localhost:3000";
  const web = await startWebExample({ port: Number(process.env.WEB_PORT ?? 5173), apiUrl });
  console.log(`examples/web: ${web.url} (API: ${apiUrl}; the API's ALLOWED_ORIGINS must include ${web.url})`);
}
