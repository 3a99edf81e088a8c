import type { Deps } from "../deps";
import { imageTypeOf, newFileKey } from "../domain/files";
import type { Storage } from "./storage";

/**
 * Copying a succeeded prediction's images from the provider's URLs (which expire) into our storage.
 * A copy accepts only an image response of at most OUTPUT_MAX_BYTES, follows at most
 * MAX_OUTPUT_REDIRECTS redirects itself, and gives up after EACHLABS_TIMEOUT_MS, like a provider call.
 *
 * Every failure says whether waiting can help: `transient` (timeout, refused or dropped connection,
 * 408/425/429/5xx, our storage failing) is retried by the next sync until the prediction's deadline;
 * `permanent` (404/410: the provider no longer has the file; any other 4xx; not an image; too large;
 * too many redirects) fails the prediction at once.
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
}

/** One image into storage; resolves with our URL for it. Throws OutputCopyError. */
export async function copyOutput(url: string, opts: CopyOptions): Promise<string> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await fetchFollowingRedirects(url, opts.fetch, signal);
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
    const bytes = await readAtMost(res, opts.maxBytes, url);
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

/** GETs `url`, following at most MAX_OUTPUT_REDIRECTS redirects (http and https only). */
async function fetchFollowingRedirects(url: string, fetchFn: FetchLike, signal: AbortSignal): Promise<Response> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const target = new URL(current);
    if (target.protocol !== "https:" && target.protocol !== "http:")
      throw new OutputCopyError("permanent", "bad_url", url);
    const res = await fetchFn(new Request(target, { redirect: "manual", signal, headers: { accept: "image/*" } }));
    const location = res.headers.get("location");
    if (res.status < 300 || res.status > 399 || res.status === 304 || !location) return res;
    void res.body?.cancel().catch(() => undefined);
    if (hop === MAX_OUTPUT_REDIRECTS) throw new OutputCopyError("permanent", "redirects", url);
    current = new URL(location, target).toString();
  }
}

/** The body, aborting the read as soon as it passes `max` bytes (a Content-Length can lie or be absent). */
async function readAtMost(res: Response, max: number, url: string): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new OutputCopyError("permanent", "too_large", url);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export type CopyOutcome =
  | { ok: true; urls: string[] }
  | { ok: false; kind: OutputFailureKind; failures: OutputCopyError[] };

/**
 * Every image of one prediction, in parallel, in order. All stored → our URLs; otherwise the failures,
 * permanent when any is (the prediction cannot succeed), else transient. Files stored before a failure
 * stay unreferenced: keys are random, so a retry never collides with them.
 */
export async function copyOutputs(deps: Deps, urls: string[]): Promise<CopyOutcome> {
  const opts: CopyOptions = {
    storage: deps.storage,
    maxBytes: deps.config.OUTPUT_MAX_BYTES,
    timeoutMs: deps.config.EACHLABS_TIMEOUT_MS,
    fetch: outputFetch(deps),
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
 * public URL is reachable from inside the server. Everything else goes over the network.
 */
function outputFetch(deps: Deps): FetchLike {
  const own = new URL(deps.config.PUBLIC_URL).origin;
  return (req) => (deps.selfFetch && new URL(req.url).origin === own ? deps.selfFetch(req) : fetch(req));
}
