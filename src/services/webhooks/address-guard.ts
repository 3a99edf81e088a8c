import { BlockList, isIP } from "node:net";
import type { Config } from "../../env";
import { ApiError } from "../../lib/errors";

/**
 * Server-side request forgery guard for outgoing webhooks: the addresses a receiver may not be on unless
 * WEBHOOK_ALLOW_PRIVATE_URLS is set — loopback, private, carrier-grade NAT, link-local (with the cloud
 * metadata endpoints 169.254.169.254 and fd00:ec2::254), unique-local, multicast and reserved ranges, and
 * IPv4 addresses hidden inside IPv6 (mapped, NAT64).
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["2001:db8::", 32],
] as const)
  blocked.addSubnet(net, prefix, "ipv6");

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIpv4(v6: string): string | null {
  const m = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(v6);
  if (m?.[1]) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(v6);
  if (!hex?.[1] || !hex[2]) return null;
  const hi = Number.parseInt(hex[1], 16);
  const lo = Number.parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for an address a webhook may not reach in production (see above). Not an IP address: false. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const kind = isIP(ip);
  if (kind === 4) return blocked.check(ip, "ipv4");
  if (kind === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4) return isPrivateAddress(v4);
    return blocked.check(ip, "ipv6");
  }
  return false;
}

/** Names that always mean this machine, refused like loopback literals. */
const LOCAL_NAMES = /^(localhost|localhost\.localdomain)\.?$|\.localhost\.?$/i;

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
  if (!allowPrivate && (isPrivateAddress(url.hostname) || LOCAL_NAMES.test(url.hostname)))
    throw refuse("Must not point at a loopback, private, link-local or metadata address");
  return url.toString();
}
