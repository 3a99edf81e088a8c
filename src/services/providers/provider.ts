/*
 * What the prediction flow needs from an image provider. Eachlabs (eachlabs.ts) and the sandbox (sandbox.ts)
 * both implement it; the flow and the reconciler depend only on this file. get() always returns a normalised prediction:
 * `succeeded` has a non-empty `output`, `failed` has an `error`; transport problems are thrown as ProviderError.
 * ProviderError.message / providerMessage are for logs only: never show them to API clients.
 */

/** Our view of a provider-side prediction status (never "queued": that state is ours, before the create call). */
export type ProviderStatus = "processing" | "succeeded" | "failed" | "canceled";

export interface ProviderPrediction {
  id: string;
  status: ProviderStatus;
  /** Non-empty list of http(s) image URLs when `succeeded`, otherwise null. */
  output: string[] | null;
  /** Set when `failed`, otherwise null. `code` is lowercase snake_case, `message` ≤ 500 characters. */
  error: { code: string; message: string } | null;
  /** The provider's raw JSON, stored for support. */
  raw: unknown;
}

export interface GenerationProvider {
  readonly mode: "eachlabs" | "sandbox";
  /**
   * Starts a prediction; resolves with the provider's prediction id. Throws ProviderError. `webhookUrl`, when
   * given, is where the provider may announce completion over HTTP (a hint only: the status is always read with
   * get()). `onCompleted` is the same hint in-process, for a provider that runs in this process (the sandbox):
   * what it triggers is what an Eachlabs completion callback triggers.
   */
  create(req: {
    slug: string;
    input: Record<string, unknown>;
    webhookUrl?: string;
    onCompleted?: () => void;
  }): Promise<{ id: string; raw: unknown }>;
  /** Reads a prediction's current state. Throws ProviderError (kind "not_found" for an unknown id). */
  get(id: string): Promise<ProviderPrediction>;
  /** Best-effort cancel. Throws ProviderError; callers may ignore it. */
  cancel(id: string): Promise<void>;
}

export type ProviderErrorKind = "timeout" | "network" | "http" | "malformed" | "not_found";

/** A typed provider failure: keeps the provider's message for logs, never shown to clients. */
export class ProviderError extends Error {
  override readonly name = "ProviderError";

  constructor(
    message: string,
    readonly kind: ProviderErrorKind,
    readonly httpStatus?: number,
    readonly providerMessage?: string,
    readonly raw?: unknown,
  ) {
    super(message);
  }
}

export const isProviderError = (e: unknown): e is ProviderError => e instanceof ProviderError;

/** The provider of a prediction's mode: a test prediction never reaches the paid provider, even with a key set. */
export function providerFor(
  deps: { provider: GenerationProvider | null; testProvider: GenerationProvider },
  livemode: boolean,
): GenerationProvider | null {
  return livemode ? deps.provider : deps.testProvider;
}
