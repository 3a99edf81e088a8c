import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe("GET /docs (Scalar, served offline)", () => {
  test("is an HTML page loading our own Scalar bundle and our /openapi.json, with no CDN", async () => {
    const res = await t.fetch("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain('<script src="/docs/scalar.js"></script>');
    expect(html).toContain('"/openapi.json"');
    // Nothing the page loads may come from another host: no absolute URL in src/href, no CDN name.
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/cdn\.jsdelivr|unpkg\.com|cdnjs|fonts\.googleapis/i);
  });

  test("'Send request' targets the server showing the page: BETTER_AUTH_URL when set, else the request's origin", async () => {
    const pageServers = async (app: TestApp, url = "http://localhost:3000/docs") => {
      const html = await (await app.fetch(new Request(url))).text();
      const config = html.match(/createApiReference\('#app', (\{[\s\S]*?\})\)\s*<\/script>/)?.[1];
      expect(config).toBeDefined();
      return (JSON.parse(config ?? "{}") as { servers: Array<{ url: string; description: string }> }).servers;
    };
    // Only the configuration differs: both read the file's database.
    const deployed = await createTestApp({
      env: { BETTER_AUTH_URL: "https://logos.example.com" },
      database: t.database,
    });
    const unset = await createTestApp({ env: { BETTER_AUTH_URL: "" }, database: t.database });
    try {
      expect((await pageServers(deployed))[0]).toEqual({
        url: "https://logos.example.com",
        description: "This server",
      });
      expect((await pageServers(unset, "http://127.0.0.1:8787/docs"))[0]).toEqual({
        url: "http://127.0.0.1:8787",
        description: "This server",
      });
      // The document names the server it is served from (PUBLIC_URL, here from BETTER_AUTH_URL) first: generated
      // clients default to the first server.
      const doc = (await (await deployed.fetch("/openapi.json")).json()) as { servers: Array<{ url: string }> };
      expect(doc.servers.map((s) => s.url)).toEqual(["https://logos.example.com", "https://api.logo-api.example"]);
      const local = (await (await unset.fetch("/openapi-3.0.json")).json()) as { servers: Array<{ url: string }> };
      expect(local.servers.map((s) => s.url)).toEqual(["http://localhost:3000", "https://api.logo-api.example"]);
    } finally {
      await deployed.close();
      await unset.close();
    }
  });

  test("the page turns off Scalar's hosted features and web fonts, and offers the API key first in 'Try it'", async () => {
    const html = await (await t.fetch("/docs")).text();
    const config = JSON.parse(html.match(/createApiReference\('#app', (\{[\s\S]*?\})\)\s*<\/script>/)?.[1] ?? "{}");
    expect(config).toMatchObject({
      withDefaultFonts: false,
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: "never",
      telemetry: false,
      authentication: { preferredSecurityScheme: "apiKeyAuth" },
    });
    // the preferred scheme is one the document declares
    const doc = (await (await t.fetch("/openapi.json")).json()) as {
      components: { securitySchemes: Record<string, { in?: string; name?: string }> };
    };
    expect(doc.components.securitySchemes.apiKeyAuth).toMatchObject({ in: "header", name: "x-api-key" });
    // nothing in the page's styles or configuration names another host (fonts are the system's own)
    expect(html).not.toMatch(/https?:\/\/(?!localhost:3000|api\.logo-api\.example)/);
    expect(html).not.toContain("fonts.scalar.com");
    expect(html).toContain("--scalar-font: system-ui");
  });

  test("the bundle fetches Scalar's fonts only from the default-fonts stylesheet that withDefaultFonts: false leaves out", async () => {
    // What a static check can say: in this bundle every fonts.scalar.com URL sits in one CSS string (the
    // @font-face rules), and that string is used only where the theme's `fonts` flag — fed by
    // withDefaultFonts — is true. Whether the browser then fetches nothing else from another host was
    // checked by loading /docs in headless Chromium with a network log: scripts/docs-network.ts.
    const js = await (await t.fetch("/docs/scalar.js")).text();
    const fontUrls = [...js.matchAll(/https:\/\/fonts\.scalar\.com\/[^)"'`\s]+/g)].map((m) => m.index ?? 0);
    expect(fontUrls.length).toBeGreaterThan(0);
    const definition = /([A-Za-z_$][\w$]*)=`\/\* Inter \(--scalar-font\) \*\//.exec(js);
    const name = definition?.[1] ?? "";
    const start = definition?.index ?? -1;
    const end = js.indexOf("`", start + name.length + 2);
    expect(start).toBeGreaterThan(0);
    for (const at of fontUrls) expect(at > start && at < end).toBe(true);
    // the stylesheet's only use is `fonts ? <stylesheet> : ""`, and the theme's fonts flag is withDefaultFonts
    const escaped = name.replace(/\$/g, "\\$");
    const uses = [...js.matchAll(new RegExp(`(?<![\\w$])${escaped}(?![\\w$])`, "g"))].map((m) =>
      js.slice((m.index ?? 0) - 3, (m.index ?? 0) + name.length + 3),
    );
    expect(uses).toHaveLength(2);
    expect(uses[1]).toMatch(new RegExp(`\\w\\?${escaped}:\`\`$`));
    expect(js).toMatch(/\{fonts:[\w$.]+\.withDefaultFonts\}/);
    // If Scalar is upgraded and this fails, run scripts/docs-network.ts again before adjusting it.
  });

  test("/docs/scalar.js serves the Scalar standalone bundle", async () => {
    const res = await t.fetch("/docs/scalar.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("javascript");
    const js = await res.text();
    expect(js.length).toBeGreaterThan(1_000_000);
    expect(js).toContain("createApiReference");
  });

  test("the document the page loads is served", async () => {
    const res = await t.fetch("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; info: { title: string } };
    expect(doc.openapi).toStartWith("3.1");
    expect(doc.info.title).toBe("Logo API");
  });
});
