import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { compiledBuild } from "../helpers/build";
import { type ChildServer, startChildServer } from "./helpers";

/**
 * The compiled build as `npm run start:node` runs it: `node dist/index.js`, no TypeScript loader. A guest
 * orders a prediction and a vector deliverable (the worker thread is dist/services/deliverables/worker.js), both
 * reach `succeeded`, an MCP client gets a logo from /mcp, and SIGTERM stops the process cleanly. On the Node on
 * PATH, and on the binary named by NODE24 when set (.ci/run sets it to Node 24 LTS).
 */

const NODES: [name: string, bin: string][] = [
  ["node on PATH", "node"],
  ...(process.env.NODE24 ? ([["NODE24", process.env.NODE24]] as [string, string][]) : []),
];

type Server = ChildServer;

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const startCompiled = (bin: string, entry: string): Promise<Server> =>
  startChildServer({
    command: bin,
    args: ["--enable-source-maps", entry],
    kind: "pglite",
    cleanups,
    env: (database) => ({
      STORAGE_DIR: `${database.PGLITE_DIR}-files`,
      ALLOWED_ORIGINS: "http://localhost:3000",
      ANONYMOUS_CREDITS: "3",
      // The guest and the MCP user sign up from one address.
      FREE_CREDITS_PER_ADDRESS_PER_DAY: "100",
      SANDBOX_DELAY_MS: "200",
      ASSET_WORKERS: "1",
      LOG_LEVEL: "info",
    }),
  });

describe("the compiled build (npm run build, node dist/index.js)", () => {
  const servers = new Map<string, Server>();
  beforeAll(async () => {
    const entry = await compiledBuild();
    await Promise.all(NODES.map(async ([name, bin]) => servers.set(name, await startCompiled(bin, entry))));
  }, 120_000);

  test.each(NODES)(
    "on %s: a prediction and a vector asset succeed, then SIGTERM stops it with exit code 0",
    async (name) => {
      const server = servers.get(name) as Server;
      const call = async (path: string, init: RequestInit = {}) => {
        const res = await fetch(`${server.base}${path}`, init);
        const text = await res.text();
        return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : null };
      };
      try {
        const guest = await call("/api/auth/sign-in/anonymous", {
          method: "POST",
          headers: { Origin: "http://localhost:3000" },
        });
        expect(guest.status).toBe(200);
        const auth = { Authorization: `Bearer ${guest.headers.get("set-auth-token")}` };
        const json = { ...auth, "Content-Type": "application/json" };

        const created = await call("/api/predictions", {
          method: "POST",
          headers: json,
          body: JSON.stringify({ brandName: "Compiled Coffee" }),
        });
        expect(created.status).toBe(201);
        let prediction = created.body;
        for (let i = 0; i < 5 && prediction.status !== "succeeded"; i++)
          prediction = (await call(`/api/predictions/${prediction.id}`, { headers: { ...auth, Prefer: "wait=10" } }))
            .body;
        expect(prediction.status).toBe("succeeded");

        const ordered = await call(`/api/predictions/${prediction.id}/assets`, {
          method: "POST",
          headers: json,
          body: JSON.stringify({ kind: "vector" }),
        });
        expect(ordered.status).toBe(201);
        let asset = ordered.body;
        for (let i = 0; i < 5 && asset.status !== "succeeded" && asset.status !== "failed"; i++)
          asset = (await call(`/api/assets/${asset.id}`, { headers: { ...auth, Prefer: "wait=10" } })).body;
        expect(asset).toMatchObject({ status: "succeeded", error: null });
        const svg = await fetch(asset.files[0].url);
        expect(svg.headers.get("content-type")).toBe("image/svg+xml");
        expect(await svg.text()).toContain("<path");

        // An assistant over /mcp (the SDK's web-standard transport behind @hono/node-server): a logo comes back.
        const signedUp = await call("/api/auth/sign-up/email", {
          method: "POST",
          headers: { "Content-Type": "application/json", Origin: "http://localhost:3000" },
          body: JSON.stringify({
            email: `n-${crypto.randomUUID()}@example.com`,
            password: "correct-horse-battery",
            name: "N",
          }),
        });
        const key = await call("/api/auth/api-key/create", {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Authorization: `Bearer ${signedUp.headers.get("set-auth-token")}`,
          },
          body: JSON.stringify({ name: "assistant" }),
        });
        const mcp = new Client({ name: "compiled-build", version: "1.0.0" });
        await mcp.connect(
          new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), {
            requestInit: { headers: { "x-api-key": key.body.key } },
          }),
        );
        const logo = (await mcp.callTool({
          name: "create_prediction",
          arguments: { brandName: "Node", wait: 10 },
        })) as CallToolResult;
        await mcp.close();
        expect(logo.structuredContent).toMatchObject({ status: "succeeded" });
        expect(logo.content.map((c) => c.type)).toEqual(["text", "image"]);
      } catch (err) {
        throw new Error(`${String(err)}\n--- server output ---\n${server.output()}`);
      }

      server.child.kill("SIGTERM");
      const exit = await Promise.race([server.exit, Bun.sleep(15_000).then(() => null)]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(server.output()).toContain('"msg":"stopped"');
      expect(server.output()).not.toMatch(/"level":(50|60)/);
    },
    60_000,
  );
});
