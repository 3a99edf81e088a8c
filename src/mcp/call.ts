import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Deps } from "../deps";
import { fileKeyOfUrl } from "../domain/files";
import type { ErrorCode } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { pngAtMost } from "./images";
import { BODY_ARGUMENT, MAX_WAIT_SECONDS, type McpTool, type OperationCall, WAIT_ARGUMENT } from "./tools";

/** What a tool call needs of the MCP request it came in: the caller's credentials and a way into the routes. */
export interface ToolCaller {
  deps: Deps;
  logger: Logger;
  requestId: string;
  /** The origin the MCP request was made to: the routes are asked at the same one. */
  origin: string;
  /** The app's own fetch (no socket): every call passes the same middleware and routes as over HTTP. */
  fetch: (req: Request) => Promise<Response>;
  /** The caller's credentials, sent with every call. */
  headers: Record<string, string>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type Args = Record<string, unknown>;

/** How often progress is reported while a wait is held. */
const PROGRESS_EVERY_MS = 1000;
/** At most this many output images ride along in one result (the largest prediction has 4). */
const MAX_IMAGES = 4;

/**
 * One tool call: its arguments become the operation's request (path, query, headers, body), sent through the app
 * with the caller's key; the answer becomes the result (errors as `isError` with the envelope). A create with a
 * wait then reads the new object with `Prefer: wait=N`, reporting progress if the client asked for it.
 */
export async function callTool(tool: McpTool, args: Args, caller: ToolCaller, extra: Extra): Promise<CallToolResult> {
  const unknown = Object.keys(args).filter((name) => !(name in tool.inputSchema.properties));
  if (unknown.length > 0)
    return invalid(
      caller,
      unknown.slice(0, 100).map((name) => ({ path: name.slice(0, 100), message: "Unknown argument." })),
    );
  const wait = args[WAIT_ARGUMENT];
  if (wait !== undefined && !(Number.isInteger(wait) && (wait as number) >= 0 && (wait as number) <= MAX_WAIT_SECONDS))
    return invalid(caller, [
      { path: WAIT_ARGUMENT, message: `A whole number of seconds from 0 to ${MAX_WAIT_SECONDS}.` },
    ]);

  // A read with a wait holds the call: progress is reported while it does.
  const first =
    tool.call.prefer && typeof wait === "number" && wait > 0
      ? await withProgress(extra, wait, "waiting", () => send(tool.call, args, caller, extra.signal))
      : await send(tool.call, args, caller, extra.signal);
  if ("issue" in first) return invalid(caller, [first.issue]);
  if (!first.ok || !tool.waitWith || !wait) return resultOf(first, caller);

  const id = (first.body as { id?: unknown } | null)?.id;
  if (typeof id !== "string") return resultOf(first, caller);
  const waited = await withProgress(extra, wait as number, `created; ${statusOf(first.body)}`, () =>
    send(tool.waitWith as OperationCall, { id, [WAIT_ARGUMENT]: wait }, caller, extra.signal),
  );
  // The object exists whatever the read answered (a poll limit, say): the create's own answer then stands.
  return resultOf("ok" in waited && waited.ok ? waited : first, caller);
}

interface Answer {
  ok: boolean;
  status: number;
  body: unknown;
}

interface Issue {
  path: string;
  message: string;
}

/** The operation's request from the arguments, sent; or why it cannot be made. */
async function send(
  call: OperationCall,
  args: Args,
  caller: ToolCaller,
  signal: AbortSignal,
): Promise<Answer | { issue: Issue }> {
  let path = call.path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = { accept: "application/json", "x-request-id": caller.requestId };
  for (const p of call.parameters) {
    const value = args[p.argument];
    if (value === undefined || value === null) {
      if (p.in === "path") return { issue: { path: p.argument, message: "Required." } };
      continue;
    }
    if (p.in === "path") path = path.replace(`{${p.name}}`, encodeURIComponent(String(value)));
    else if (p.in === "query") for (const v of Array.isArray(value) ? value : [value]) query.append(p.name, String(v));
    else headers[p.name] = String(value);
  }
  const wait = args[WAIT_ARGUMENT];
  if (call.prefer && typeof wait === "number" && wait > 0) headers.prefer = `wait=${wait}`;
  let body: string | undefined;
  if (call.body?.as === "merged") {
    const names = call.body.properties;
    body = JSON.stringify(Object.fromEntries(Object.entries(args).filter(([k]) => names.includes(k))));
  } else if (call.body?.as === "whole" && args[BODY_ARGUMENT] !== undefined) {
    body = JSON.stringify(args[BODY_ARGUMENT]);
  }
  if (body !== undefined) headers["content-type"] = "application/json";
  const url = `${caller.origin}${path}${query.size > 0 ? `?${query}` : ""}`;
  const res = await caller.fetch(
    new Request(url, { method: call.method, headers: { ...headers, ...caller.headers }, body, signal }),
  );
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { text: text.slice(0, 2000) };
  }
  return { ok: res.ok, status: res.status, body: parsed };
}

/**
 * Runs `hold` (a read with `Prefer: wait`), reporting progress when the client gave a progress token: at once,
 * every second while held (seconds waited out of `wait`), and when it answers.
 */
async function withProgress<T>(extra: Extra, wait: number, before: string, hold: () => Promise<T>): Promise<T> {
  const token = extra._meta?.progressToken;
  if (token === undefined) return hold();
  let last = -1;
  const report = (progress: number, message: string) => {
    if (progress <= last) return;
    last = progress;
    extra
      .sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress, total: wait, message },
      })
      .catch(() => undefined);
  };
  report(0, before);
  const started = performance.now();
  const timer = setInterval(() => {
    const seconds = Math.min(wait, Math.floor((performance.now() - started) / 1000));
    report(seconds, `waiting (${seconds} of ${wait} s)`);
  }, PROGRESS_EVERY_MS);
  try {
    const answer = await hold();
    const body = (answer as { body?: unknown }).body;
    report(wait, statusOf(body));
    return answer;
  } finally {
    clearInterval(timer);
  }
}

function statusOf(body: unknown): string {
  const status = (body as { status?: unknown } | null)?.status;
  return typeof status === "string" ? status : "answered";
}

/**
 * The route's answer as a tool result: the body as `structuredContent` (an object; anything else under `result`)
 * and as text, errors flagged `isError`; a succeeded prediction's images also as `image` blocks.
 */
async function resultOf(answer: Answer, caller: ToolCaller): Promise<CallToolResult> {
  const structured =
    answer.body !== null && typeof answer.body === "object" && !Array.isArray(answer.body)
      ? (answer.body as Record<string, unknown>)
      : { result: answer.body };
  const result: CallToolResult = {
    content: [{ type: "text", text: JSON.stringify(answer.body) }],
    structuredContent: structured,
  };
  if (!answer.ok) return { ...result, isError: true };
  for (const image of await outputImages(structured, caller))
    result.content.push({ type: "image", data: image.toString("base64"), mimeType: "image/png" });
  return result;
}

/** The output images of a succeeded prediction (or generation), read from our storage, as PNGs within the bound. */
async function outputImages(body: Record<string, unknown>, caller: ToolCaller): Promise<Buffer[]> {
  if (body.status !== "succeeded" || !Array.isArray(body.output)) return [];
  const images: Buffer[] = [];
  for (const url of body.output.slice(0, MAX_IMAGES)) {
    const key = typeof url === "string" ? fileKeyOfUrl(url) : null;
    if (!key) continue;
    try {
      const bytes = await caller.deps.storage.get(key);
      const png = bytes && (await pngAtMost(bytes, undefined, caller.deps.config.ASSET_MAX_PIXELS));
      if (png) images.push(png);
    } catch (err) {
      // The JSON still names the URL: a missing image block is not a failed call.
      caller.logger.warn({ err, key }, "MCP: output image not attached");
    }
  }
  return images;
}

/** A validation error in the routes' own shape: the first issue in the message, all of them in `details.issues`. */
function invalid(caller: ToolCaller, issues: Issue[]): CallToolResult {
  const first = issues[0];
  const message = first ? `Invalid arguments: ${first.path}: ${first.message}` : "Invalid arguments.";
  return errorResult(caller.requestId, "validation_error", message, { issues });
}

/** A tool result for an error of our own (before any route answered), in the API's envelope. */
export function errorResult(
  requestId: string,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): CallToolResult {
  const envelope = { error: { code, message, requestId, ...(details ? { details } : {}) } };
  return { isError: true, content: [{ type: "text", text: JSON.stringify(envelope) }], structuredContent: envelope };
}
