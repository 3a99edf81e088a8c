import { describe, expect, test } from "bun:test";
import { createRouter } from "../../src/openapi/kit";

/**
 * The app's router keeps the match of a path some route names exactly (src/openapi/kit.ts): routing must answer the
 * same the hundredth time as the first, whatever paths came between, and a path with parameters or under a wildcard
 * is matched afresh each time.
 */
const app = createRouter();
const seen: string[] = [];
app.use("*", async (c, next) => {
  seen.push(`all ${c.req.path}`);
  await next();
});
app.get("/things/kinds", (c) => c.json({ route: "kinds" }));
app.get("/things/:id", (c) => c.json({ route: "one", id: c.req.param("id") }));
app.get("/files/*", (c) => c.json({ route: "files", path: c.req.path }));
app.post("/things/kinds", (c) => c.json({ route: "post kinds" }));

const get = async (path: string, method = "GET") => {
  const res = await app.request(path, { method });
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
};

describe("the router's kept matches", () => {
  test("a static path answers the same every time; its neighbour with a parameter keeps its own", async () => {
    for (let i = 0; i < 3; i++) {
      expect(await get("/things/kinds")).toEqual({ status: 200, body: { route: "kinds" } });
      expect(await get("/things/kinds", "POST")).toEqual({ status: 200, body: { route: "post kinds" } });
      expect(await get(`/things/id-${i}`)).toEqual({ status: 200, body: { route: "one", id: `id-${i}` } });
    }
    // HEAD is routed as GET, and a method no route has is still not found.
    expect((await app.request("/things/kinds", { method: "HEAD" })).status).toBe(200);
    expect((await get("/things/kinds", "DELETE")).status).toBe(404);
  });

  test("a path under a wildcard, and one no route names, are matched afresh", async () => {
    expect(await get("/files/a.png")).toEqual({ status: 200, body: { route: "files", path: "/files/a.png" } });
    expect(await get("/files/b.png")).toEqual({ status: 200, body: { route: "files", path: "/files/b.png" } });
    expect((await get("/nothing/here")).status).toBe(404);
    expect((await get("/things/kinds/")).status).toBe(404);
    // The middleware on * ran for each of them, the kept matches included.
    expect(seen.filter((s) => s === "all /things/kinds").length).toBeGreaterThanOrEqual(7);
    expect(seen).toContain("all /nothing/here");
  });

  test("only paths a route names are kept, whatever paths clients send", async () => {
    for (let i = 0; i < 200; i++) {
      await get(`/things/${crypto.randomUUID()}`);
      await get(`/files/${i}.png`);
      await get(`/probe/${i}`);
      await get(`/things/kinds?page=${i}`);
    }
    // GET and POST /things/kinds (HEAD is routed as GET; GET's match holds /things/:id too).
    expect((app.router as unknown as { kept: number }).kept).toBe(2);
  });
});
