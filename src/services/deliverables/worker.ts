import { parentPort } from "node:worker_threads";
import sharp from "sharp";
import { ImagingError } from "../imaging/types";
import type { MakeContext } from "./define";
import { makeAsset } from "./make";
import type { PermitMessage } from "./pool";

/** One deliverable at a time, posted by pool.ts; file bytes go back as transferred buffers. */

export interface JobMessage {
  id: number;
  kind: Parameters<typeof makeAsset>[0];
  source: Uint8Array;
  options: Record<string, unknown>;
  limits: Parameters<typeof makeAsset>[3];
  context: MakeContext;
}

/**
 * A fresh copy with its own ArrayBuffer: sharp's and resvg's buffers may be views into a pool or native
 * memory that cannot be transferred (Bun refuses them), and the copy is cheap next to the image work.
 */
const owned = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

const port = parentPort;
if (!port) throw new Error("imaging worker must run in a worker thread");

/**
 * Native calls are bounded (see pool.ts): every sharp pipeline that runs on the libuv thread pool (toBuffer,
 * metadata, stats, toFile) first takes a permit from the pool and gives it back when it settles, so the
 * brand kit's parallel steps queue here instead of filling the thread pool the main thread needs. Each call
 * also runs on one libvips thread: a worker is one core's worth of work, not all of them.
 */
sharp.concurrency(1);
const granted: Array<() => void> = [];
const send = (m: PermitMessage) => port.postMessage(m);
function withPermit<T>(call: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => {
    granted.push(resolve);
    send({ permit: "acquire" });
  }).then(() => {
    let settled: Promise<T>;
    try {
      settled = call();
    } catch (e) {
      send({ permit: "release" });
      throw e;
    }
    return settled.finally(() => send({ permit: "release" }));
  });
}
const proto = sharp.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const method of ["toBuffer", "toFile", "metadata", "stats"] as const) {
  const original = proto[method];
  if (typeof original !== "function") continue;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    // The callback forms are not used by the image layer; they run unbounded rather than change their contract.
    if (typeof args.at(-1) === "function") return original.apply(this, args);
    return withPermit(() => original.apply(this, args) as Promise<unknown>);
  };
}

port.on("message", async (msg: JobMessage | { permitGranted: true }) => {
  if ("permitGranted" in msg) {
    granted.shift()?.();
    return;
  }
  try {
    const files = await makeAsset(msg.kind, msg.source, msg.options, msg.limits, msg.context);
    const out = files.map((f) => ({ ...f, bytes: owned(f.bytes) }));
    port.postMessage(
      { id: msg.id, ok: true, files: out },
      out.map((f) => f.bytes.buffer as ArrayBuffer),
    );
  } catch (e) {
    const err =
      e instanceof ImagingError
        ? { code: e.code, message: e.message }
        : { code: null, message: e instanceof Error ? e.message : String(e) };
    port.postMessage({ id: msg.id, ok: false, error: err });
  }
});
