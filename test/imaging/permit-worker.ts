import { parentPort } from "node:worker_threads";

/**
 * A worker that asks the pool for a native-call permit as worker.ts does, holds it for `options.holdMs` (or
 * forever with `options.hang`), gives it back, and answers one file whose name is "<granted at>-<released at>"
 * (epoch ms), so a test can see which holds overlapped.
 */
const port = parentPort;
const granted: Array<() => void> = [];
port?.on(
  "message",
  async (msg: { id: number; options: { holdMs?: number; hang?: boolean } } | { permitGranted: true }) => {
    if ("permitGranted" in msg) {
      granted.shift()?.();
      return;
    }
    await new Promise<void>((resolve) => {
      granted.push(resolve);
      port.postMessage({ permit: "acquire" });
    });
    const at = performance.timeOrigin + performance.now();
    if (msg.options.hang) return;
    await new Promise((r) => setTimeout(r, msg.options.holdMs ?? 100));
    const until = performance.timeOrigin + performance.now();
    port.postMessage({ permit: "release" });
    port.postMessage({
      id: msg.id,
      ok: true,
      files: [
        { name: `${at}-${until}`, contentType: "text/plain", bytes: new Uint8Array(1), width: null, height: null },
      ],
    });
  },
);
