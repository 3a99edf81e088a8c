import { BlockList, isIP } from "node:net";

/**
 * The client address of a request: the socket's peer, unless that peer is a trusted proxy (TRUSTED_PROXIES);
 * then the right-most X-Forwarded-For entry that is not itself a trusted proxy. Entries to the left of that
 * one were written by whoever sent the request to the first trusted proxy, so they prove nothing.
 */

/**
 * The header our /api/auth handler sets to the resolved address on the request it passes to Better Auth,
 * after deleting any copy a client sent; Better Auth reads only this header (advanced.ipAddress).
 */
export const CLIENT_ADDRESS_HEADER = "x-logo-client-ip";

/**
 * A request that reached the app without a socket (a test calling app.fetch, the app fetching its own URL)
 * was made inside this process: it comes from the loopback address.
 */
export const IN_PROCESS_ADDRESS = "127.0.0.1";

export interface TrustedProxies {
  has(address: string): boolean;
}

/** Indexes of entries that are neither an IP address nor a CIDR range. */
export function invalidProxyEntries(entries: string[]): number[] {
  return entries.flatMap((e, i) => (parseEntry(e) ? [] : [i]));
}

function parseEntry(entry: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address = "", prefixText, ...rest] = entry.split("/");
  const v = isIP(address);
  if (!v || rest.length) return null;
  const max = v === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return null;
  return { address, prefix, family: v === 4 ? "ipv4" : "ipv6" };
}

/** TRUSTED_PROXIES as a matcher (IPv4-mapped IPv6 addresses match their IPv4 entries). */
export function trustedProxies(entries: string[]): TrustedProxies {
  const list = new BlockList();
  for (const e of entries) {
    const p = parseEntry(e);
    if (p) list.addSubnet(p.address, p.prefix, p.family);
  }
  const empty = entries.length === 0;
  return {
    has(address) {
      if (empty) return false;
      const v = isIP(address);
      return v !== 0 && list.check(address, v === 4 ? "ipv4" : "ipv6");
    },
  };
}

/** "::ffff:203.0.113.7" (a dual-stack socket's IPv4 peer) → "203.0.113.7", so one client has one address. */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m?.[1] ?? address.toLowerCase();
}

/** The socket peer as the adapters expose it: Bun's requestIP (passed by src/server.ts) or Node's incoming socket. */
export function socketAddress(req: Request, env: unknown): string | undefined {
  const e = env as
    | {
        incoming?: { socket?: { remoteAddress?: string } };
        requestIP?: (r: Request) => { address: string } | null;
      }
    | undefined;
  return e?.incoming?.socket?.remoteAddress ?? e?.requestIP?.(req)?.address ?? undefined;
}

/** The client address from the peer and the X-Forwarded-For header (or headers, joined). */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | null | undefined,
  trusted: TrustedProxies,
): string {
  let client = normalizeAddress(peer ?? IN_PROCESS_ADDRESS);
  if (!trusted.has(client) || !forwardedFor) return client;
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i] ?? "");
    // Garbage in the chain (not an address): the trusted hop that passed it on is the best we know.
    if (!isIP(hop)) return client;
    client = hop;
    if (!trusted.has(hop)) return client;
  }
  // Every hop is a trusted proxy: the request started at the left-most of them.
  return client;
}
