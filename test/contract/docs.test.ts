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
      // The document is the same wherever it is served: the override lives in the page only.
      const doc = (await (await deployed.fetch("/openapi.json")).json()) as { servers: Array<{ url: string }> };
      expect(doc.servers.map((s) => s.url)).toEqual(["https://api.logo-api.example"]);
    } finally {
      await deployed.close();
      await unset.close();
    }
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
