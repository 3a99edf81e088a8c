import { parentPort } from "node:worker_threads";
import { ImagingError } from "../imaging/types";
import type { MakeContext } from "./define";
import { makeAsset } from "./make";

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

port.on("message", async (msg: JobMessage) => {
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
