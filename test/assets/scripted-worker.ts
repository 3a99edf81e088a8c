import { existsSync } from "node:fs";
import { parentPort } from "node:worker_threads";

/**
 * An imaging worker whose behaviour the test writes into the asset's options (set on the row before a runner
 * claims it): `{script: "throw"}` fails as a decoder exception would (not the image layer's own error class);
 * `{script: "gate", gate: path}` answers a small SVG once the file `path` exists; otherwise a small SVG after
 * `delayMs` (default 0).
 */
parentPort?.on(
  "message",
  async (msg: { id: number; options: { script?: string; gate?: string; delayMs?: number } }) => {
    const { script, gate, delayMs = 0 } = msg.options;
    if (script === "throw") {
      parentPort?.postMessage({ id: msg.id, ok: false, error: { code: null, message: "Target size is zero" } });
      return;
    }
    if (script === "gate" && gate) while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 10));
    else if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const bytes = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>');
    parentPort?.postMessage({
      id: msg.id,
      ok: true,
      files: [{ name: "logo.svg", contentType: "image/svg+xml", bytes, width: null, height: null }],
    });
  },
);
