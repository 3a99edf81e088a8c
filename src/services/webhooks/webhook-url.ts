import type { Config } from "../../env";
import { ApiError } from "../../lib/errors";
import { isPrivateHost } from "../net/address-guard";

/**
 * The webhook URL a create request may store: `https:` (and `http:` when private URLs are allowed) and,
 * unless they are allowed, not a loopback/private/link-local/metadata literal address or `localhost`.
 * A name is checked again at send time, after DNS. Throws 400 validation_error with an issue on `webhook`.
 */
export function checkWebhookUrl(config: Pick<Config, "WEBHOOK_ALLOW_PRIVATE_URLS">, raw: string): string {
  const refuse = (message: string) =>
    new ApiError("validation_error", `Invalid request: webhook: ${message}`, {
      issues: [{ path: "webhook", message }],
    });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse("Must be an absolute URL");
  }
  const allowPrivate = config.WEBHOOK_ALLOW_PRIVATE_URLS;
  if (url.protocol !== "https:" && !(allowPrivate && url.protocol === "http:"))
    throw refuse(allowPrivate ? "Must be an http: or https: URL" : "Must be an https: URL");
  if (url.username || url.password) throw refuse("Must not carry credentials");
  if (!allowPrivate && isPrivateHost(url.hostname))
    throw refuse("Must not point at a loopback, private, link-local or metadata address");
  return url.toString();
}
