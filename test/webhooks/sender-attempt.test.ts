import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/env";
import { postWebhook } from "../../src/services/webhooks/sender";

/** One delivery attempt: what it answers when refused, how long it may take, and that it lets go of the socket. */

describe("send errors", () => {
  test("a refused literal address or an unsupported scheme resolves as refused (no ReferenceError)", async () => {
    const opts = { timeoutMs: 500, allowPrivate: false };
    expect(await postWebhook("https://127.0.0.1/hook", "{}", {}, opts)).toMatchObject({
      error: "the receiver's address is not public",
      refused: true,
    });
    expect(await postWebhook("ftp://example.com/hook", "{}", {}, { ...opts, allowPrivate: true })).toMatchObject({
      refused: true,
    });
    expect(await postWebhook("not a url", "{}", {}, opts)).toMatchObject({ refused: true });
  });

  test("a name that resolves to a private address says only that the address is not public", async () => {
    const result = await postWebhook("http://localhost:1/hook", "{}", {}, { timeoutMs: 2000, allowPrivate: false });
    expect(result).toMatchObject({ error: "the receiver's address is not public", refused: true });
    // The name and what it resolved to are for our log (detail), never in the stored error.
    expect(result.detail).toContain("localhost");
    expect(result.error).not.toContain("127.0.0.1");
  });

  test("production configuration keeps private receivers refused", () => {
    expect(loadConfig({ NODE_ENV: "production", BETTER_AUTH_SECRET: "x".repeat(32) }).WEBHOOK_ALLOW_PRIVATE_URLS).toBe(
      false,
    );
  });
});

describe("a receiver that answers the status and then trickles its body", () => {
  let server: Server;
  let url: string;
  let closedSockets = 0;
  const trickles = new Set<ReturnType<typeof setInterval>>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("x");
        const trickle = setInterval(() => res.write("x"), 20);
        trickles.add(trickle);
        res.on("close", () => {
          clearInterval(trickle);
          closedSockets++;
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    for (const t of trickles) clearInterval(t);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test("the attempt ends with the status, within the timeout, and the socket is closed", async () => {
    const started = performance.now();
    const result = await postWebhook(url, "{}", {}, { timeoutMs: 1000, allowPrivate: true });
    expect(result).toEqual({ status: 200 });
    expect(performance.now() - started).toBeLessThan(1000);
    // The server sees its response closed: the sender does not keep reading the body.
    const deadline = performance.now() + 1000;
    while (closedSockets === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(closedSockets).toBe(1);
  });
});
