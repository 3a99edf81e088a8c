import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { DELIVERY_ERRORS, deliveryErrorMessage } from "../../src/services/webhooks/delivery-errors";
import { postWebhook } from "../../src/services/webhooks/sender";

/** What a failed delivery tells the user: a fixed message per error code, no address, name or certificate detail. */

const fixed = new Set<string>(Object.values(DELIVERY_ERRORS));

describe("mapping", () => {
  test("the errors of the review map to fixed messages that keep nothing of the error's text", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 11.22.33.44:1"), { code: "ECONNREFUSED" });
    const altname = Object.assign(
      new Error("Hostname/IP does not match certificate's altnames: IP: 11.22.33.44 is not in the cert's list: "),
      { code: "ERR_TLS_CERT_ALTNAME_INVALID" },
    );
    expect(deliveryErrorMessage(refused)).toBe("connection refused");
    expect(deliveryErrorMessage(altname)).toBe("TLS certificate not valid for the receiver");
    expect(deliveryErrorMessage({ code: "ETIMEDOUT" })).toBe("connection timed out");
    expect(deliveryErrorMessage({ code: "ENOTFOUND" })).toBe("host name could not be resolved");
    expect(deliveryErrorMessage({ code: "CERT_HAS_EXPIRED" })).toBe("TLS certificate expired or not yet valid");
    expect(deliveryErrorMessage({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" })).toBe("TLS certificate not trusted");
    expect(deliveryErrorMessage({ code: "ERR_SSL_WRONG_VERSION_NUMBER" })).toBe("TLS handshake failed");
    expect(deliveryErrorMessage({ code: "HPE_INVALID_CONSTANT" })).toBe("invalid HTTP response");
    // Unknown or missing codes (and a hostile message posing as one) get the generic message.
    expect(deliveryErrorMessage(new Error("getaddrinfo 10.0.0.1 secret.internal"))).toBe("connection failed");
    expect(deliveryErrorMessage({ code: "toString" })).toBe("connection failed");
    expect(deliveryErrorMessage({ code: 42 })).toBe("connection failed");
    expect(deliveryErrorMessage(undefined)).toBe("connection failed");
  });
});

describe("attempts", () => {
  let tls: Server;
  let tlsPort = 0;
  beforeAll(async () => {
    const dir = new URL("../fakes/tls/", import.meta.url);
    tls = createServer(
      { key: readFileSync(new URL("receiver-key.pem", dir)), cert: readFileSync(new URL("receiver-cert.pem", dir)) },
      (_req, res) => res.end("ok"),
    );
    await new Promise<void>((r) => tls.listen(0, "127.0.0.1", () => r()));
    tlsPort = (tls.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => tls.close(() => r())));

  const opts = { timeoutMs: 3000, allowPrivate: true };

  test("a refused connection says so, without the address (which stays in the log detail)", async () => {
    const result = await postWebhook("http://127.0.0.1:1/hook", "{}", {}, opts);
    expect(result.error).toBe("connection refused");
    expect(result.detail).toContain("127.0.0.1");
  });

  test("a receiver with an untrusted certificate: a fixed TLS message, no address, name or certificate subject", async () => {
    const result = await postWebhook(`https://127.0.0.1:${tlsPort}/hook`, "{}", {}, opts);
    expect(result.status).toBeUndefined();
    expect(result.error).toBe("TLS certificate not trusted");
    expect(fixed.has(result.error ?? "")).toBe(true);
    expect(result.error).not.toMatch(/127\.0\.0\.1|receiver\.example|self.signed/i);
    expect(result.detail).toBeString();
  });

  test("plain HTTP spoken to a TLS port: a fixed message", async () => {
    const result = await postWebhook(`https://127.0.0.1:${tlsPort}/hook`.replace("https:", "http:"), "{}", {}, opts);
    // Plain HTTP to a TLS port: the server answers with a TLS alert or closes, never a status.
    expect(result.status).toBeUndefined();
    expect(fixed.has(result.error ?? "")).toBe(true);
  });
});
