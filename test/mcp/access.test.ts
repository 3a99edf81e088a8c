import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "../../src/lib/logger";
import { createTestApp, type TestApp } from "../helpers/app";

/**
 * Who may use /mcp, in process: only an API key (header or bearer), never the session (cookie or session token),
 * and no page on a foreign origin; the body limit holds; a tool's route sees the MCP request's client address and
 * request id; MCP_ENABLED=false leaves no endpoint.
 */

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});
const mcpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" };

describe("/mcp access", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const post = (headers: Record<string, string>, body = initialize) =>
    t.fetch("/mcp", { method: "POST", headers: { ...mcpHeaders, ...headers }, body });

  test("an API key as x-api-key or as a bearer token initializes; the session, by cookie or token, is 401", async () => {
    const user = await t.signUp();
    const key = await t.json("POST", "/api/auth/api-key/create", { body: { name: "mcp" }, headers: user.headers });
    const both: Record<string, string>[] = [{ "x-api-key": key.body.key }, { authorization: `Bearer ${key.body.key}` }];
    for (const headers of both) {
      const res = await post(headers);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('"serverInfo"');
      expect(text).toContain('"tools"');
    }
    // The cookie would let a foreign page's form reach it; the session token is not an API key.
    const sessions: Record<string, string>[] = [
      { cookie: user.cookie, origin: "http://localhost:3000" },
      { authorization: `Bearer ${user.token}` },
    ];
    for (const headers of sessions) {
      const res = await post(headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
  });

  test("a page on an origin outside ALLOWED_ORIGINS is 403 even with a key; an allowed origin passes", async () => {
    const user = await t.signUp();
    const key = await t.json("POST", "/api/auth/api-key/create", { body: { name: "mcp" }, headers: user.headers });
    const foreign = await post({ "x-api-key": key.body.key, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    const ours = await post({ "x-api-key": key.body.key, origin: "http://localhost:3000" });
    expect(ours.status).toBe(200);
    expect(ours.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    await ours.body?.cancel();
  });

  test("a body over BODY_LIMIT_BYTES is 413 with the envelope", async () => {
    const user = await t.signUp();
    const key = await t.json("POST", "/api/auth/api-key/create", { body: { name: "mcp" }, headers: user.headers });
    const res = await post(
      { "x-api-key": key.body.key },
      JSON.stringify({ pad: "x".repeat(t.config.BODY_LIMIT_BYTES) }),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
  });
});

test("MCP_ENABLED=false: no /mcp", async () => {
  const t = await createTestApp({ env: { MCP_ENABLED: "false" } });
  try {
    const res = await t.fetch("/mcp", {
      method: "POST",
      headers: { ...mcpHeaders, "x-api-key": "any" },
      body: initialize,
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
  } finally {
    await t.close();
  }
});

test("a tool's call reaches its route from the MCP request's client address, under its request id", async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(l) } });
  // In process every request comes from 127.0.0.1: trusted here, so X-Forwarded-For names the client.
  const t = await createTestApp({ env: { TRUSTED_PROXIES: "127.0.0.1" }, overrides: { logger } });
  try {
    const user = await t.signUp();
    const key = await t.json("POST", "/api/auth/api-key/create", { body: { name: "mcp" }, headers: user.headers });
    const res = await t.fetch("/mcp", {
      method: "POST",
      headers: { ...mcpHeaders, "x-api-key": key.body.key, "x-forwarded-for": "203.0.113.7", "x-request-id": "mcp-1" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "get_credit_balance", arguments: {} },
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("balance");
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    const inner = logged.find((l) => l.path === "/api/credits");
    expect(inner).toMatchObject({ clientAddress: "203.0.113.7", requestId: "mcp-1", status: 200, userId: user.userId });
    expect(logged.find((l) => l.path === "/mcp")).toMatchObject({ clientAddress: "203.0.113.7", requestId: "mcp-1" });
  } finally {
    await t.close();
  }
});
