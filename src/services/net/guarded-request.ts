import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { guardedLookup, isPrivateAddress, NOT_PUBLIC } from "./address-guard";

/**
 * The one outbound request of every fetch a client can steer (webhook POSTs, output copies): node:http(s), the
 * only client that lets us choose the DNS lookup. Unless private addresses are allowed, a literal private address
 * is refused before any connection and a name connects through guardedLookup (checked and pinned: the address
 * checked is the address connected to). Each caller keeps its own policy on top (redirects, schemes, signing,
 * what it reads of the answer). No agent: one socket per request, gone with the response.
 */

export interface GuardedRequestOptions {
  method: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Uint8Array;
  /** Loopback, private, link-local and metadata addresses are allowed (development, tests, a private network). */
  allowPrivate: boolean;
  /** Bounds the lookup, the connection and the answer's status line and headers (not the body). */
  timeoutMs?: number;
  /** Aborts the request at any time, its response body included. */
  signal?: AbortSignal;
}

export interface GuardedResponse {
  /** As the server sent it (not checked against 200-599). */
  status: number;
  headers: Headers;
  /** The body, streamed with backpressure; null for 204 and 304. Cancelling it destroys the socket. */
  body: ReadableStream<Uint8Array> | null;
  /** Drops the response unread, with its socket. */
  discard(): void;
}

export type GuardedRequestFailure = "bad_url" | "address_not_public" | "timeout";

/** A request the guard or the options stopped; any other failure rejects with the socket's own error. */
export class GuardedRequestError extends Error {
  override readonly name = "GuardedRequestError";
  constructor(
    readonly kind: GuardedRequestFailure,
    message: string,
    /** For our log only (address_not_public): the name and the address it resolved to. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/**
 * Sends one request and resolves with the answer's status and headers as soon as they arrive. Rejects with a
 * GuardedRequestError for a URL that is not http(s) (`bad_url`), an address the guard refused
 * (`address_not_public`, message NOT_PUBLIC) or no answer within `timeoutMs` (`timeout`); otherwise with the
 * connection's error (refused, reset, TLS, DNS, or the abort).
 */
export function guardedRequest(url: string | URL, opts: GuardedRequestOptions): Promise<GuardedResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let refused: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      fn();
    };
    const fail = (err: Error) => settle(() => reject(err));
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return fail(new GuardedRequestError("bad_url", "invalid URL"));
    }
    const send = target.protocol === "https:" ? httpsRequest : target.protocol === "http:" ? httpRequest : null;
    if (!send) return fail(new GuardedRequestError("bad_url", `unsupported scheme ${target.protocol}`));
    if (!opts.allowPrivate && isPrivateAddress(target.hostname))
      return fail(new GuardedRequestError("address_not_public", NOT_PUBLIC, `${target.hostname} is a private address`));
    const outgoing = send(
      target,
      {
        method: opts.method,
        headers: opts.headers ?? {},
        agent: false,
        ...(opts.allowPrivate ? {} : { lookup: guardedLookup((detail) => (refused = detail)) }),
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers))
          for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
        const discard = () => {
          res.on("error", () => undefined);
          res.destroy();
        };
        const body = status === 204 || status === 304 ? null : streamOf(res);
        settle(() => resolve({ status, headers, body, discard }));
      },
    );
    if (opts.timeoutMs !== undefined) {
      const ms = opts.timeoutMs;
      timer = setTimeout(() => {
        fail(new GuardedRequestError("timeout", `no answer within ${ms} ms`));
        outgoing.destroy();
      }, ms);
    }
    const signal = opts.signal;
    if (signal) {
      const abort = () => outgoing.destroy(new Error("aborted"));
      if (signal.aborted) abort();
      signal.addEventListener("abort", abort, { once: true });
      outgoing.on("close", () => signal.removeEventListener("abort", abort));
    }
    outgoing.on("error", (err) =>
      fail(refused ? new GuardedRequestError("address_not_public", NOT_PUBLIC, refused) : err),
    );
    outgoing.end(opts.body);
  });
}

/** The message's body as a web stream: read on demand, destroyed when the reader cancels. */
function streamOf(res: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.pause();
      res.on("data", (chunk: Buffer) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) res.pause();
      });
      res.on("end", () => {
        if (done) return;
        done = true;
        controller.close();
      });
      res.on("error", (err) => {
        if (done) return;
        done = true;
        controller.error(err);
      });
    },
    pull() {
      res.resume();
    },
    cancel() {
      done = true;
      res.destroy();
    },
  });
}

/**
 * A body read whole only while it stays within `max` bytes (a Content-Length can lie or be absent): past it the
 * read is cancelled and the result is undefined.
 */
export async function readAtMost(
  body: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
