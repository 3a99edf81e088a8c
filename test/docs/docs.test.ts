import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
}, 60_000);
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
