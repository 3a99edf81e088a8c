/** Buying credits: a Polar checkout for a configured package; the credits arrive with Polar's order.paid webhook. */

import type { AuthUser } from "../domain/user";
import { ApiError } from "../lib/errors";
import { findPackage, type PolarCheckout, PolarProviderError } from "./polar/client";
import type { Needs } from "./ports";

export async function startPurchase(
  deps: Needs<"config" | "polar" | "logger">,
  user: AuthUser,
  req: { packageId: string; successUrl?: string },
): Promise<PolarCheckout> {
  const { config, polar, logger } = deps;
  const pkg = findPackage(config, req.packageId);
  if (!pkg)
    throw new ApiError("validation_error", `There is no credit package "${req.packageId}".`, {
      issues: [
        {
          path: "packageId",
          message: `Unknown package; one of: ${config.CREDIT_PACKAGES.map((p) => p.id).join(", ")}`,
        },
      ],
    });
  if (req.successUrl !== undefined && !config.ALLOWED_ORIGINS.includes(new URL(req.successUrl).origin))
    throw new ApiError("validation_error", "successUrl must be on one of the allowed origins.", {
      issues: [{ path: "successUrl", message: `Origin not allowed; allowed: ${config.ALLOWED_ORIGINS.join(", ")}` }],
    });
  if (!polar) throw new ApiError("service_unavailable", "Payments are not configured on this server.");
  if (!pkg.polarProductId)
    throw new ApiError("service_unavailable", `The package "${pkg.id}" is not linked to a Polar product yet.`, {
      packageId: pkg.id,
    });
  try {
    const checkout = await polar.createCheckout({
      productId: pkg.polarProductId,
      userId: user.id,
      packageId: pkg.id,
      successUrl: req.successUrl,
      customerEmail: user.isAnonymous ? undefined : user.email,
    });
    logger.info({ checkoutId: checkout.id, packageId: pkg.id }, "polar checkout created");
    return checkout;
  } catch (err) {
    if (!(err instanceof PolarProviderError)) throw err;
    logger.error({ err, packageId: pkg.id }, "polar checkout failed");
    throw new ApiError(
      "provider_error",
      "The payment provider could not create a checkout. Try again shortly.",
      err.providerStatus ? { providerStatus: err.providerStatus } : undefined,
    );
  }
}
