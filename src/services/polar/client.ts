import { createPolar } from "@polar-sh/sdk/2026-04";
import { z } from "zod";
import type { Config, CreditPackageConfig } from "../../env";

/** Polar's checkout client (SDK 1.x, API version 2026-04). */

export interface PolarCheckout {
  id: string;
  url: string;
  expiresAt: Date;
}

export interface CreateCheckoutInput {
  productId: string;
  userId: string;
  packageId: string;
  successUrl?: string;
  /** prefills the checkout form; only for registered users (guest addresses are not deliverable) */
  customerEmail?: string;
}

export interface PolarClient {
  environment: "sandbox" | "production";
  createCheckout(input: CreateCheckoutInput): Promise<PolarCheckout>;
}

/** Polar could not be reached, timed out, or answered an error or something we cannot read. */
export class PolarProviderError extends Error {
  constructor(
    message: string,
    readonly providerStatus?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PolarProviderError";
  }
}

export interface PolarClientOptions {
  accessToken: string;
  environment: "sandbox" | "production";
  /** overrides the environment's server (tests point it at a fake) */
  baseUrl?: string;
  /** per request, in seconds */
  timeoutSeconds?: number;
}

const checkoutResponseSchema = z.object({
  id: z.string().min(1),
  url: z.url(),
  expires_at: z.iso.datetime({ offset: true }),
});

export function createPolarClient(opts: PolarClientOptions): PolarClient {
  const polar = createPolar({
    accessToken: opts.accessToken,
    environment: opts.environment,
    // The SDK appends "/v1/…" to the base URL as it is.
    baseUrl: opts.baseUrl?.replace(/\/+$/, ""),
    timeout: opts.timeoutSeconds ?? 10,
  });
  return {
    environment: opts.environment,
    async createCheckout(input) {
      let raw: unknown;
      try {
        raw = await polar.checkouts.create({
          products: [input.productId],
          external_customer_id: input.userId,
          metadata: { userId: input.userId, packageId: input.packageId },
          ...(input.successUrl ? { success_url: input.successUrl } : {}),
          ...(input.customerEmail ? { customer_email: input.customerEmail } : {}),
        });
      } catch (err) {
        const status = (err as { statusCode?: unknown }).statusCode;
        throw new PolarProviderError(
          `Polar checkout failed: ${err instanceof Error ? err.message : String(err)}`,
          typeof status === "number" ? status : undefined,
          { cause: err },
        );
      }
      const parsed = checkoutResponseSchema.safeParse(raw);
      if (!parsed.success) throw new PolarProviderError("Polar answered a checkout without id, url or expires_at");
      return { id: parsed.data.id, url: parsed.data.url, expiresAt: new Date(parsed.data.expires_at) };
    },
  };
}

/** The client from configuration; null when POLAR_ACCESS_TOKEN is not set (purchases answer 503). */
export function polarFromConfig(config: Config): PolarClient | null {
  if (!config.POLAR_ACCESS_TOKEN) return null;
  return createPolarClient({
    accessToken: config.POLAR_ACCESS_TOKEN,
    environment: config.POLAR_ENVIRONMENT,
    baseUrl: config.POLAR_BASE_URL,
  });
}

export const findPackage = (config: Config, id: string): CreditPackageConfig | undefined =>
  config.CREDIT_PACKAGES.find((p) => p.id === id);
