import type { OpenAPIHono } from "@hono/zod-openapi";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { Context } from "hono";
import { userOfCredentials } from "../auth/session";
import { parseBearer } from "../auth/session-cache";
import type { AppEnv, Deps } from "../deps";
import { forbidden, unauthorized } from "../lib/errors";
import { kept } from "../lib/kept";
import { requestLogger } from "../lib/request-logger";
import { callTool, errorResult, type ToolCaller } from "./call";
import { deriveTools, type McpTool } from "./tools";

export const MCP_PATH = "/mcp";

/**
 * `/mcp`: the Model Context Protocol over Streamable HTTP, stateless (each POST carries its JSON-RPC messages and
 * gets its answers, as JSON or as a short SSE stream when progress is sent; no session to keep between them).
 * It is not a REST operation and stays out of the OpenAPI document; its tools are derived from that document
 * (src/mcp/tools.ts) and every call goes through the app's own routes with the caller's API key.
 *
 * Only an API key authenticates here (`x-api-key`, or `Authorization: Bearer <key>`), never the session cookie:
 * a foreign page cannot make a browser call it, so the cookie's cross-site rule has nothing to guard; a request
 * that carries an Origin must carry one of ALLOWED_ORIGINS (the protocol's guard against DNS rebinding). Rate
 * limits, ownership, idempotency and errors are those of the routes each tool calls.
 */
export function mountMcp(
  app: OpenAPIHono<AppEnv>,
  deps: Deps,
  liveDocument: () => Promise<Record<string, unknown>>,
): void {
  // One per app, not per request: a Server makes its own Ajv (every keyword and format added) unless given one,
  // which was about a third of a stateless tool call's CPU.
  const jsonSchemaValidator = new AjvJsonSchemaValidator();
  const toolsOf = kept(() => liveDocument().then(deriveTools));

  const allowedOrigins = new Set(deps.config.ALLOWED_ORIGINS);
  app.post(MCP_PATH, async (c) => {
    // The protocol asks servers to refuse a page on a foreign origin (a DNS-rebinding page among them) outright.
    const origin = c.req.header("origin");
    if (origin !== undefined && !allowedOrigins.has(origin))
      throw forbidden("Requests from this origin may not use /mcp (ALLOWED_ORIGINS).");
    const key = apiKeyOf(c);
    if (!key) throw unauthorized("Send your API key as `x-api-key` or `Authorization: Bearer <key>`.");
    const user = await userOfCredentials(deps, () => requestLogger(c), new Headers({ "x-api-key": key }));
    if (!user) throw unauthorized("The API key is not valid.");
    c.set("user", user);
    const clientAddress = c.env.clientAddress();
    const caller: ToolCaller = {
      deps,
      logger: requestLogger(c),
      requestId: c.env.requestId,
      origin: new URL(c.req.url).origin,
      // The routes see the caller's key and the address this request came from (no proxy header to trust again).
      fetch: (req) => Promise.resolve(app.fetch(req, { requestIP: () => ({ address: clientAddress }) })),
      headers: { "x-api-key": key },
    };
    const server = mcpServer(await toolsOf(), caller, jsonSchemaValidator);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    // The client went away: calls still holding a wait are aborted with it.
    c.req.raw.signal.addEventListener("abort", () => void server.close(), { once: true });
    return transport.handleRequest(c.req.raw);
  });

  // Stateless: no stream to open outside a POST and no session to end. Answered as the SDK's own servers do.
  app.on(["GET", "DELETE"], MCP_PATH, (c) =>
    c.json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null }, 405, {
      Allow: "POST",
    }),
  );
}

function apiKeyOf(c: Context<AppEnv>): string | undefined {
  return c.req.header("x-api-key")?.trim() || parseBearer(c.req.header("authorization"));
}

function mcpServer(tools: McpTool[], caller: ToolCaller, jsonSchemaValidator: AjvJsonSchemaValidator): Server {
  const server = new Server(
    { name: "logo-api", title: "Logo API", version: caller.deps.version },
    {
      capabilities: { tools: {} },
      jsonSchemaValidator,
      instructions:
        "Generate logos, then order deliverables made from them (list_asset_kinds says which). " +
        "Each tool is one operation of the Logo API, called with your API key; credits are charged as over HTTP.",
    },
  );
  const byName = new Map(tools.map((t) => [t.name, t]));
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = byName.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name.slice(0, 100)}`);
    try {
      return await callTool(tool, request.params.arguments ?? {}, caller, extra);
    } catch (err) {
      caller.logger.error({ err, tool: tool.name }, "MCP tool call failed");
      return errorResult(caller.requestId, "internal_error", "The tool call failed; retry shortly.");
    }
  });
  return server;
}
