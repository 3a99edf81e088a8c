import { HEX_COLOR, SANDBOX_ID } from "../../domain/patterns";
import type { Clock } from "../../lib/clock";
import { type GenerationProvider, ProviderError, type ProviderPrediction } from "./provider";

/**
 * The local stand-in for Eachlabs when no EACHLABS_API_KEY is set outside production: the same state
 * machine (processing → succeeded after `delayMs`), with outputs that are real images served by this
 * server at GET /sandbox/images/{id}/{n}.png (the monogram SVG below, rendered with a bundled font). The id carries its creation time and image count, so the
 * provider needs no storage and survives a restart; only cancellations are remembered in memory.
 */

export interface SandboxProviderOptions {
  delayMs: number;
  /** Absolute origin of this server, e.g. http://localhost:3000 */
  publicBaseUrl: string;
  clock: Clock;
}

export function parseSandboxId(id: string): { createdAt: number; count: number } | null {
  const m = SANDBOX_ID.exec(id);
  if (!m) return null;
  return { createdAt: Number.parseInt(m[1] ?? "", 36), count: Number(m[2]) };
}

export function sandboxImageUrl(publicBaseUrl: string, id: string, n: number): string {
  return `${publicBaseUrl.replace(/\/$/, "")}/sandbox/images/${id}/${n}.png`;
}

const MAX_CANCELED = 10_000;

export function createSandboxProvider(opts: SandboxProviderOptions): GenerationProvider {
  const { clock } = opts;
  // Canceled ids, oldest first; bounded so a long-running sandbox does not grow without end (an id evicted
  // after MAX_CANCELED later cancels reads as finished, which nothing polls for by then).
  const canceled = new Set<string>();
  return {
    mode: "sandbox",
    async create({ input, onCompleted }) {
      const n = typeof input.num_images === "number" ? input.num_images : 1;
      const count = Math.min(9, Math.max(1, Math.trunc(n)));
      const random = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
      const id = `sbx_${clock.now().getTime().toString(36)}_${count}_${random}`;
      // Announce the completion when it happens, as Eachlabs calls back: webhooks, streams and `Prefer: wait` see
      // a sandbox prediction finish within a moment of its delay, not when someone next polls.
      if (onCompleted) void clock.sleep(opts.delayMs).then(onCompleted);
      return { id, raw: { status: "success", message: "Prediction created (sandbox)", predictionID: id } };
    },
    async get(id): Promise<ProviderPrediction> {
      const parsed = parseSandboxId(id);
      if (!parsed) throw new ProviderError("sandbox prediction not found", "not_found", 404, "Prediction not found");
      if (canceled.has(id))
        return { id, status: "canceled", output: null, error: null, raw: { id, status: "cancelled" } };
      if (clock.now().getTime() - parsed.createdAt < opts.delayMs)
        return { id, status: "processing", output: null, error: null, raw: { id, status: "processing" } };
      const output = Array.from({ length: parsed.count }, (_, i) => sandboxImageUrl(opts.publicBaseUrl, id, i + 1));
      return { id, status: "succeeded", output, error: null, raw: { id, status: "success", output } };
    },
    async cancel(id) {
      if (!parseSandboxId(id)) throw new ProviderError("sandbox prediction not found", "not_found", 404);
      canceled.add(id);
      if (canceled.size > MAX_CANCELED) {
        const oldest = canceled.values().next().value;
        if (oldest !== undefined) canceled.delete(oldest);
      }
    },
  };
}

const escapeXml = (s: string) =>
  s.replace(/[<>&"']/g, (ch) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[ch] ?? ch);

/** Initials of a brand name: "Acme Coffee" → "AC", "acme" → "A". */
export function monogram(brandName: string): string {
  const words = brandName
    .trim()
    .split(/[\s\-_.]+/u)
    .filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[1]] : [words[0]];
  const initials = letters
    .map((w) => Array.from(w ?? "")[0] ?? "")
    .join("")
    .toUpperCase();
  return initials || "?";
}

function readableOn(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111827" : "#FFFFFF";
}

/**
 * An SVG monogram logo from the brand name and colours; variant n picks the badge shape. The text names
 * DejaVu Sans first: the PNG is rendered with that bundled font (imaging/sandbox-logo.ts).
 */
export function renderMonogramSvg(opts: { brandName: string; colors: string[]; n: number }): string {
  const colors = opts.colors.filter((c) => HEX_COLOR.test(c));
  const bg = colors[0] ?? ["#1F2937", "#0EA5E9", "#7C3AED", "#059669"][(opts.n - 1) % 4] ?? "#1F2937";
  const fg = colors[1] ?? readableOn(bg);
  const accent = colors[2] ?? fg;
  const text = escapeXml(monogram(opts.brandName));
  const name = escapeXml(opts.brandName.slice(0, 40));
  const shapes = [
    `<circle cx="256" cy="216" r="150" fill="${bg}"/>`,
    `<rect x="106" y="66" width="300" height="300" rx="56" fill="${bg}"/>`,
    `<polygon points="256,56 395,136 395,296 256,376 117,296 117,136" fill="${bg}"/>`,
    `<polygon points="256,56 426,216 256,376 86,216" fill="${bg}"/>`,
  ];
  const shape = shapes[(opts.n - 1) % shapes.length];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512" role="img" aria-label="${name} logo (sandbox)">`,
    `<rect width="512" height="512" fill="#FFFFFF"/>`,
    shape,
    `<text x="256" y="216" dy="0.35em" text-anchor="middle" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-weight="700" font-size="${text.length > 1 ? 120 : 150}" fill="${fg}">${text}</text>`,
    `<text x="256" y="448" text-anchor="middle" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-weight="600" font-size="40" fill="${accent === "#FFFFFF" ? "#111827" : accent}">${name}</text>`,
    "</svg>",
  ].join("");
}
