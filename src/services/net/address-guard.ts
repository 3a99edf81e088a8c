import { lookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * Server-side request forgery guard for outbound fetches a client can steer (webhooks, output copies): the
 * addresses a request may not reach unless private URLs are allowed — loopback, private, carrier-grade NAT,
 * link-local (with the cloud metadata endpoints 169.254.169.254 and fd00:ec2::254), unique-local, site-local,
 * multicast and reserved ranges, and every IPv6 form that carries an IPv4 address inside it (compatible
 * ::/96, mapped ::ffff:0:0/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32):
 * whichever IPv4 address they embed, a gateway may deliver them to it, so they are refused whole.
 */
// Two lists: a BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules, and ::ffff:0:0/96 is refused whole.
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
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
  blockedV4.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 96], // unspecified, loopback and IPv4-compatible
  ["::ffff:0:0", 96], // IPv4-mapped
  ["64:ff9b::", 96], // NAT64
  ["64:ff9b:1::", 48], // local-use NAT64
  ["2001::", 32], // Teredo
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4
  ["fc00::", 7], // unique-local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated, still routed by some networks)
  ["ff00::", 8], // multicast
] as const)
  blockedV6.addSubnet(net, prefix, "ipv6");

/** True for an address an outbound fetch may not reach in production (see above). Not an IP address: false. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const kind = isIP(ip);
  if (kind === 4) return blockedV4.check(ip, "ipv4");
  if (kind === 6) return blockedV6.check(ip, "ipv6");
  return false;
}

/** Names that always mean this machine, refused like loopback literals. */
const LOCAL_NAMES = /^(localhost|localhost\.localdomain)\.?$|\.localhost\.?$/i;

/** A host (name or literal) refused before any lookup: a private literal address or a name of this machine. */
export const isPrivateHost = (hostname: string): boolean => isPrivateAddress(hostname) || LOCAL_NAMES.test(hostname);

/** What a user is told of an address the guard refused; the log has the name and the address. */
export const NOT_PUBLIC = "the receiver's address is not public";

/**
 * The DNS lookup of every outbound fetch a client can steer (webhooks, output copies): it checks every address
 * the name resolves to and hands the socket only checked addresses, so the address checked is the address
 * connected to (no window for DNS rebinding between a check and a second lookup). A refusal fails the lookup
 * with code EADDRESSNOTPUBLIC; `onRefused` hears the details, for the log.
 */
export function guardedLookup(onRefused: (detail: string) => void): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { all: true, family: options.family ?? 0 }).then(
      (addresses) => {
        const bad = addresses.find((a) => isPrivateAddress(a.address));
        if (bad || addresses.length === 0) {
          onRefused(bad ? `${hostname} resolves to ${bad.address}, a private address` : `${hostname} has no address`);
          return callback(Object.assign(new Error(NOT_PUBLIC), { code: ADDRESS_NOT_PUBLIC }), "", 4);
        }
        if (options.all) return (callback as (e: null, a: typeof addresses) => void)(null, addresses);
        const first = addresses[0] as { address: string; family: number };
        callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, "", 4),
    );
  };
}

export const ADDRESS_NOT_PUBLIC = "EADDRESSNOTPUBLIC";
