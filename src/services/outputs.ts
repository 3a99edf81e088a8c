import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { imageTypeOf, newFileKey } from "../domain/files";
import { isPrivateAddress, isPrivateHost } from "./net/address-guard";
import { GuardedRequestError, type GuardedResponse, guardedRequest, readAtMost } from "./net/guarded-request";
import type { Needs } from "./ports";
import type { Storage } from "./storage";

/** The ports this module uses. */
type OutputDeps = Needs<"config" | "storage" | "selfFetch">;

/**
 * Copying a succeeded prediction's images from the provider's URLs (which expire) into our storage.
 * A copy accepts only an image response of at most OUTPUT_MAX_BYTES, follows at most
 * MAX_OUTPUT_REDIRECTS redirects itself, and gives up after EACHLABS_TIMEOUT_MS, like a provider call.
 *
 * Every failure says whether waiting can help: `transient` (timeout, refused or dropped connection,
 * 408/425/429/5xx, our storage failing) is retried by the next sync until the prediction's deadline;
 * `permanent` (404/410: the provider no longer has the file; any other 4xx; not an image; too large;
 * too many redirects; a hop refused by the address guard) fails the prediction at once.
 *
 * A provider's output URL, and every redirect it answers, is steered by someone else: unless private URLs
 * are allowed (OUTPUT_ALLOW_PRIVATE_URLS), every hop goes through the guarded request's checked and pinned
 * DNS lookup (no loopback, private, link-local, metadata or IPv4-embedding IPv6 address), in production only
 * over https (with private URLs allowed, also over http to a host on a private address: a provider or a fake on
 * the same network), and never from https down to http.
 */

export const MAX_OUTPUT_REDIRECTS = 3;

export type OutputFailureKind = "transient" | "permanent";

export class OutputCopyError extends Error {
  override readonly name = "OutputCopyError";
  constructor(
    readonly kind: OutputFailureKind,
    /** A short machine reason for logs: gone, http_403, not_image, too_large, redirects, timeout, network, storage… */
    readonly reason: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(`output copy failed (${kind}: ${reason})`, options);
  }
}

export type FetchLike = (req: Request) => Promise<Response>;

export interface CopyOptions {
  storage: Storage;
  maxBytes: number;
  timeoutMs: number;
  fetch: FetchLike;
  /** Hops on loopback/private addresses are allowed (OUTPUT_ALLOW_PRIVATE_URLS). */
  allowPrivate: boolean;
  /** Only https hops (production); with `allowPrivate`, http hops to a host on a private address too. */
  httpsOnly: boolean;
  /** This server's own origin (PUBLIC_URL): its URLs are answered in-process, not fetched, so not guarded. */
  ownOrigin?: string;
}

/** One image into storage; resolves with our URL for it. Throws OutputCopyError. */
export async function copyOutput(url: string, opts: CopyOptions): Promise<string> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await fetchFollowingRedirects(url, opts, signal);
    const fail = (kind: OutputFailureKind, reason: string) => {
      void res.body?.cancel().catch(() => undefined);
      return new OutputCopyError(kind, reason, url);
    };
    if (res.status === 404 || res.status === 410) throw fail("permanent", "gone");
    if (res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500)
      throw fail("transient", `http_${res.status}`);
    if (res.status !== 200) throw fail("permanent", `http_${res.status}`);
    const type = imageTypeOf(res.headers.get("content-type"));
    if (!type) throw fail("permanent", "not_image");
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    if (declared > opts.maxBytes) throw fail("permanent", "too_large");
    const bytes = await readAtMost(res.body, opts.maxBytes);
    if (!bytes) throw new OutputCopyError("permanent", "too_large", url);
    if (bytes.length === 0) throw new OutputCopyError("permanent", "empty", url);
    const key = newFileKey(type);
    try {
      await opts.storage.put(key, bytes, type);
    } catch (err) {
      throw new OutputCopyError("transient", "storage", url, { cause: err });
    }
    return opts.storage.publicUrl(key);
  } catch (err) {
    if (err instanceof OutputCopyError) throw err;
    // fetch rejects on timeouts (our signal), refused/reset connections and DNS failures alike.
    const reason = signal.aborted ? "timeout" : "network";
    throw new OutputCopyError("transient", reason, url, { cause: err });
  }
}

/**
 * GETs `url`, following at most MAX_OUTPUT_REDIRECTS redirects (http and https only), each hop held to the
 * address and scheme rules above before it is requested.
 */
async function fetchFollowingRedirects(url: string, opts: CopyOptions, signal: AbortSignal): Promise<Response> {
  let current = url;
  let previous: URL | undefined;
  for (let hop = 0; ; hop++) {
    const target = new URL(current);
    await checkHop(target, previous, opts, url);
    const res = await opts.fetch(new Request(target, { redirect: "manual", signal, headers: { accept: "image/*" } }));
    const location = res.headers.get("location");
    if (res.status < 300 || res.status > 399 || res.status === 304 || !location) return res;
    void res.body?.cancel().catch(() => undefined);
    if (hop === MAX_OUTPUT_REDIRECTS) throw new OutputCopyError("permanent", "redirects", url);
    previous = target;
    current = new URL(location, target).toString();
  }
}

/** Throws a permanent OutputCopyError when a hop may not be requested at all. */
async function checkHop(target: URL, previous: URL | undefined, opts: CopyOptions, url: string): Promise<void> {
  if (target.protocol !== "https:" && target.protocol !== "http:")
    throw new OutputCopyError("permanent", "bad_url", url);
  if (previous?.protocol === "https:" && target.protocol === "http:")
    throw new OutputCopyError("permanent", "downgrade", url);
  if (target.origin === opts.ownOrigin) return;
  if (opts.httpsOnly && target.protocol !== "https:" && !(opts.allowPrivate && (await onPrivateAddress(target, url))))
    throw new OutputCopyError("permanent", "insecure_url", url);
  if (!opts.allowPrivate && isPrivateHost(target.hostname))
    throw new OutputCopyError("permanent", "address_not_public", url);
}

/**
 * Whether a hop's host is on a private address: a private literal or a name of this machine, or a name whose every
 * address is private. A lookup that fails is a transient failure (the name may resolve on the next try).
 */
async function onPrivateAddress(target: URL, url: string): Promise<boolean> {
  const host = target.hostname.replace(/^\[|\]$/g, "");
  if (isPrivateHost(host)) return true;
  if (isIP(host)) return false;
  try {
    const addresses = await lookup(host, { all: true });
    return addresses.length > 0 && addresses.every((a) => isPrivateAddress(a.address));
  } catch (cause) {
    throw new OutputCopyError("transient", "network", url, { cause });
  }
}

export type CopyOutcome =
  | { ok: true; urls: string[] }
  | { ok: false; kind: OutputFailureKind; failures: OutputCopyError[] };

/**
 * Every image of one prediction, in parallel, in order. All stored → our URLs; otherwise the failures,
 * permanent when any is (the prediction cannot succeed), else transient. Files stored before a failure
 * stay unreferenced: keys are random, so a retry never collides with them.
 */
export async function copyOutputs(deps: OutputDeps, urls: string[]): Promise<CopyOutcome> {
  const opts: CopyOptions = {
    storage: deps.storage,
    maxBytes: deps.config.OUTPUT_MAX_BYTES,
    timeoutMs: deps.config.EACHLABS_TIMEOUT_MS,
    fetch: outputFetch(deps),
    allowPrivate: deps.config.OUTPUT_ALLOW_PRIVATE_URLS,
    httpsOnly: deps.config.NODE_ENV === "production",
    ownOrigin: new URL(deps.config.PUBLIC_URL).origin,
  };
  const results = await Promise.allSettled(urls.map((u) => copyOutput(u, opts)));
  const failures = results.flatMap((r) =>
    r.status === "rejected"
      ? [
          r.reason instanceof OutputCopyError
            ? r.reason
            : new OutputCopyError("transient", "unexpected", "", { cause: r.reason }),
        ]
      : [],
  );
  if (failures.length === 0) return { ok: true, urls: results.map((r) => (r as PromiseFulfilledResult<string>).value) };
  return { ok: false, kind: failures.some((f) => f.kind === "permanent") ? "permanent" : "transient", failures };
}

/**
 * URLs on this server's own PUBLIC_URL (the sandbox provider's images) are answered by the app
 * in-process: the same route and the same checks, without a socket, so it works whether or not the
 * public URL is reachable from inside the server. Everything else goes over the network, through the
 * guarded lookup unless private addresses are allowed.
 */
function outputFetch(deps: OutputDeps): FetchLike {
  const own = new URL(deps.config.PUBLIC_URL).origin;
  const network = guardedFetch(deps.config.OUTPUT_ALLOW_PRIVATE_URLS);
  return (req) => (deps.selfFetch && new URL(req.url).origin === own ? deps.selfFetch(req) : network(req));
}

/**
 * A GET through the guarded request (../net/guarded-request), answered as a fetch Response whose body streams the
 * socket with backpressure. Without `allowPrivate` a host refused by the address guard fails with a permanent
 * address_not_public copy error.
 */
export function guardedFetch(allowPrivate: boolean): FetchLike {
  return async (req) => {
    let res: GuardedResponse;
    try {
      res = await guardedRequest(req.url, {
        method: "GET",
        headers: Object.fromEntries(req.headers),
        allowPrivate,
        signal: req.signal,
      });
    } catch (err) {
      if (err instanceof GuardedRequestError && err.kind === "address_not_public")
        throw new OutputCopyError("permanent", "address_not_public", req.url, { cause: err.detail });
      throw err;
    }
    if (res.status < 200 || res.status > 599) {
      res.discard();
      throw new Error(`unexpected HTTP status ${res.status}`);
    }
    return new Response(res.body, { status: res.status, headers: res.headers });
  };
}
