import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { isPrivateAddress } from "../../src/services/net/address-guard";
import { postWebhook } from "../../src/services/webhooks/sender";
import { checkWebhookUrl } from "../../src/services/webhooks/webhook-url";

/** The address guard of outbound fetches (webhooks, output copies), at create and at send time. */

describe("address guard: IPv6 forms that embed IPv4 or are reserved", () => {
  const refused = [
    // ::/96, IPv4-compatible (deprecated), in both spellings
    "::127.0.0.1",
    "::7f00:1",
    "::8.8.8.8",
    "::808:808",
    // ::ffff:0:0/96, mapped, whatever the embedded address
    "::ffff:8.8.8.8",
    "::ffff:808:808",
    "::ffff:0:0",
    "0:0:0:0:0:ffff:7f00:1",
    // 64:ff9b::/96 and 64:ff9b:1::/48, NAT64
    "64:ff9b::8.8.8.8",
    "64:ff9b::a00:1",
    "64:ff9b:1::1",
    "64:ff9b:1:ffff::a00:1",
    // 2002::/16, 6to4
    "2002::1",
    "2002:7f00:1::",
    "2002:808:808::1",
    // 2001::/32, Teredo
    "2001::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    // fec0::/10, site-local
    "fec0::1",
    "feff::1",
    // and the ones refused before
    "::1",
    "::",
    "fe80::1",
    "fd00:ec2::254",
  ];
  const allowed = ["2606:4700:4700::1111", "2a00:1450:4001:82b::200e", "2001:4860:4860::8888", "8.8.8.8", "1.1.1.1"];

  test.each(refused)("%s is not public", (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
    expect(isPrivateAddress(`[${ip}]`)).toBe(true);
  });
  test.each(allowed)("%s is public", (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });

  test("property: every address of the refused IPv6 ranges is refused, whatever its low bits", () => {
    const hex = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const prefixes: [string, number][] = [
      ["0:0:0:0:0:0", 2], // ::/96
      ["0:0:0:0:0:ffff", 2], // ::ffff:0:0/96
      ["64:ff9b:0:0:0:0", 2], // 64:ff9b::/96
      ["64:ff9b:1", 5], // 64:ff9b:1::/48
      ["2002", 7], // 2002::/16
      ["2001:0", 6], // 2001::/32
    ];
    for (const [prefix, free] of prefixes)
      fc.assert(
        fc.property(fc.array(hex, { minLength: free, maxLength: free }), (rest) => {
          const ip = `${prefix}:${rest.join(":")}`;
          return isPrivateAddress(ip);
        }),
        { numRuns: 200 },
      );
    // fec0::/10: the first group is fec0…feff
    fc.assert(
      fc.property(fc.integer({ min: 0xfec0, max: 0xfeff }), fc.array(hex, { minLength: 7, maxLength: 7 }), (g, rest) =>
        isPrivateAddress(`${g.toString(16)}:${rest.join(":")}`),
      ),
      { numRuns: 200 },
    );
  });

  test("at create: a URL on such an address is refused when private URLs are not allowed", () => {
    const config = { WEBHOOK_ALLOW_PRIVATE_URLS: false };
    for (const host of [
      "[::127.0.0.1]",
      "[::ffff:8.8.8.8]",
      "[64:ff9b::a00:1]",
      "[64:ff9b:1::1]",
      "[2002::1]",
      "[2001::1]",
      "[fec0::1]",
    ])
      expect(() => checkWebhookUrl(config, `https://${host}/hook`), host).toThrow();
    expect(checkWebhookUrl(config, "https://[2606:4700:4700::1111]/hook")).toBe("https://[2606:4700:4700::1111]/hook");
  });

  test("at send time: a literal address of such a range is refused without a connection", async () => {
    for (const host of ["[::127.0.0.1]", "[::ffff:7f00:1]", "[2002:7f00:1::]", "[fec0::1]"]) {
      const result = await postWebhook(`http://${host}:1/hook`, "{}", {}, { timeoutMs: 500, allowPrivate: false });
      expect(result, host).toMatchObject({ error: "the receiver's address is not public", refused: true });
    }
  });
});
