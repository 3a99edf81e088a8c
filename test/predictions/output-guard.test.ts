import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lookup } from "node:dns/promises";
import { hostname } from "node:os";
import { loadConfig } from "../../src/env";
import { PredictionSchema } from "../../src/schemas/predictions";
import { isPrivateAddress } from "../../src/services/net/address-guard";
import { type CopyOptions, copyOutput, type FetchLike, OutputCopyError } from "../../src/services/outputs";
import { FAKE_EACHLABS_KEY, type FakeEachlabs, startFakeEachlabs } from "../fakes/eachlabs";
import { createTestApp, type TestApp } from "../helpers/app";
import { driveClock, FakeClock } from "../helpers/clock";
import { expectSchema } from "../helpers/schemas";
import { allowSyncNow, balanceOf, body, ledgerOf, refundRows } from "./helpers";

/**
 * The output copier fetches URLs a provider chose, and follows their redirects: with OUTPUT_ALLOW_PRIVATE_URLS
 * off (production) no hop may reach a loopback, private or metadata address, by literal or by DNS; https never
 * goes down to http; in production only https is fetched. A refused copy fails the prediction and refunds it.
 */

const SIGNUP_CREDITS = 10;

describe("configuration", () => {
  test("OUTPUT_ALLOW_PRIVATE_URLS is off in production and on elsewhere unless set", () => {
    const prod = { NODE_ENV: "production", BETTER_AUTH_SECRET: "x".repeat(32) };
    expect(loadConfig(prod).OUTPUT_ALLOW_PRIVATE_URLS).toBe(false);
    expect(loadConfig({ ...prod, OUTPUT_ALLOW_PRIVATE_URLS: "true" }).OUTPUT_ALLOW_PRIVATE_URLS).toBe(true);
    expect(loadConfig({ NODE_ENV: "test" }).OUTPUT_ALLOW_PRIVATE_URLS).toBe(true);
    expect(loadConfig({ NODE_ENV: "test", OUTPUT_ALLOW_PRIVATE_URLS: "false" }).OUTPUT_ALLOW_PRIVATE_URLS).toBe(false);
  });
});

describe("redirect hops (a provider CDN answering redirects)", () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  /** A network where cdn.example.com redirects to `to`; records every URL requested. */
  function network(routes: Record<string, string>) {
    const requested: string[] = [];
    const fetch: FetchLike = async (req) => {
      requested.push(req.url);
      const to = routes[req.url];
      if (to) return new Response(null, { status: 302, headers: { location: to } });
      return new Response(png, { status: 200, headers: { "content-type": "image/png" } });
    };
    return { fetch, requested };
  }
  const storage = {
    driver: "fs" as const,
    put: async () => undefined,
    get: async () => null,
    stream: async () => null,
    exists: async () => false,
    delete: async () => undefined,
    list: async function* () {},
    publicUrl: (key: string) => `https://api.example.com/files/${key}`,
  };
  const opts = (fetch: FetchLike, over: Partial<CopyOptions> = {}): CopyOptions => ({
    storage,
    maxBytes: 1024,
    timeoutMs: 1000,
    fetch,
    allowPrivate: false,
    httpsOnly: true,
    ownOrigin: "https://api.example.com",
    ...over,
  });
  async function refusal(p: Promise<unknown>) {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OutputCopyError);
    return err as OutputCopyError;
  }

  test.each([
    "http://127.0.0.1:8080/x.png",
    "https://127.0.0.1/x.png",
    "https://10.1.2.3/x.png",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/x.png",
    "https://[::127.0.0.1]/x.png",
    "https://[::ffff:7f00:1]/x.png",
    "https://[64:ff9b::a9fe:a9fe]/x.png",
    "https://localhost/x.png",
    "https://metadata.localhost/x.png",
  ])("a redirect to %s is refused before it is requested: permanent", async (to) => {
    const first = "https://cdn.example.com/a.png";
    const net = network({ [first]: to });
    const err = await refusal(copyOutput(first, opts(net.fetch)));
    expect(err.kind).toBe("permanent");
    expect(["address_not_public", "downgrade"]).toContain(err.reason);
    expect(net.requested).toEqual([first]);
  });

  test("https → http is never followed, even when http is allowed", async () => {
    const first = "https://cdn.example.com/a.png";
    const net = network({ [first]: "http://cdn.example.com/a.png" });
    const err = await refusal(copyOutput(first, opts(net.fetch, { httpsOnly: false, allowPrivate: true })));
    expect([err.kind, err.reason]).toEqual(["permanent", "downgrade"]);
    expect(net.requested).toEqual([first]);
  });

  test("in production an http URL is not fetched at all; outside it, http → https is fine", async () => {
    const net = network({});
    const err = await refusal(copyOutput("http://cdn.example.com/a.png", opts(net.fetch)));
    expect([err.kind, err.reason]).toEqual(["permanent", "insecure_url"]);
    expect(net.requested).toEqual([]);
    const dev = network({ "http://cdn.example.com/a.png": "https://cdn.example.com/b.png" });
    expect(await copyOutput("http://cdn.example.com/a.png", opts(dev.fetch, { httpsOnly: false }))).toStartWith(
      "https://api.example.com/files/",
    );
    expect(dev.requested).toEqual(["http://cdn.example.com/a.png", "https://cdn.example.com/b.png"]);
  });

  test("in production with OUTPUT_ALLOW_PRIVATE_URLS, http reaches private hosts only; https is still never downgraded", async () => {
    const prod = { allowPrivate: true, httpsOnly: true };
    for (const url of [
      "http://10.1.2.3:8080/x.png",
      "http://127.0.0.1/x.png",
      "http://[fd00::1]/x.png",
      "http://localhost/x.png",
    ]) {
      const net = network({});
      expect(await copyOutput(url, opts(net.fetch, prod))).toStartWith("https://api.example.com/files/");
      expect(net.requested).toEqual([url]);
    }
    const pub = network({});
    const err = await refusal(copyOutput("http://93.184.216.34/x.png", opts(pub.fetch, prod)));
    expect([err.kind, err.reason]).toEqual(["permanent", "insecure_url"]);
    expect(pub.requested).toEqual([]);
    // A private http host redirecting to a public http one: the second hop is refused.
    const hop = network({ "http://10.1.2.3/a.png": "http://93.184.216.34/b.png" });
    const second = await refusal(copyOutput("http://10.1.2.3/a.png", opts(hop.fetch, prod)));
    expect([second.kind, second.reason]).toEqual(["permanent", "insecure_url"]);
    expect(hop.requested).toEqual(["http://10.1.2.3/a.png"]);
  });

  test("with OUTPUT_ALLOW_PRIVATE_URLS a redirect to a private address is followed", async () => {
    const first = "https://cdn.example.com/a.png";
    const net = network({ [first]: "https://10.1.2.3/x.png" });
    expect(await copyOutput(first, opts(net.fetch, { allowPrivate: true }))).toStartWith("https://api.example.com/");
    expect(net.requested).toEqual([first, "https://10.1.2.3/x.png"]);
  });
});

describe("a provider whose outputs point at this network (OUTPUT_ALLOW_PRIVATE_URLS=false)", () => {
  let eachlabs: FakeEachlabs;
  let t: TestApp;
  let port: string;

  beforeAll(async () => {
    eachlabs = await startFakeEachlabs();
    port = new URL(eachlabs.url).port;
    t = await createTestApp({
      env: {
        SIGNUP_CREDITS: String(SIGNUP_CREDITS),
        EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
        EACHLABS_BASE_URL: eachlabs.url,
        EACHLABS_TIMEOUT_MS: "1500",
        OUTPUT_ALLOW_PRIVATE_URLS: "false",
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await eachlabs.close();
  });

  async function refusedAndRefunded(outputUrl: string) {
    eachlabs.enqueue({ pendingPolls: 0, final: { status: "success", output: [outputUrl] } });
    const s = await t.signUp();
    const created = await t.json("POST", "/api/predictions", { headers: s.headers, body: body() });
    expect(created.status).toBe(201);
    const p = expectSchema(PredictionSchema, created.body);
    await allowSyncNow(t, p.id);
    const res = await t.json("GET", `/api/predictions/${p.id}`, { headers: s.headers });
    const failed = expectSchema(PredictionSchema, res.body);
    expect(failed.status).toBe("failed");
    expect(failed.output).toBeNull();
    expect(failed.creditsRefunded).toBe(failed.creditsCharged);
    expect(await ledgerOf(t, p.id)).toEqual([
      ["generation", -failed.creditsCharged],
      ["refund", failed.creditsCharged],
    ]);
    expect(await refundRows(t, p.id)).toHaveLength(1);
    expect(await balanceOf(t, s.userId)).toBe(SIGNUP_CREDITS);
    expect(await t.ledgerViolations()).toEqual([]);
    // The fake never served the file: nothing was fetched from this network.
    expect(eachlabs.fileGets(outputUrl)).toBe(0);
  }

  test("an output on http://localhost:<port> fails the prediction and refunds it", async () => {
    await refusedAndRefunded(`http://localhost:${port}/images/local/0.png`);
  });

  test("an output on a literal loopback address (IPv4 or IPv4-in-IPv6) fails and refunds", async () => {
    await refusedAndRefunded(`http://127.0.0.1:${port}/images/literal/0.png`);
    await refusedAndRefunded(`http://[::ffff:127.0.0.1]:${port}/images/mapped/0.png`);
  });

  test("an output on a name that DNS resolves to a private address fails and refunds (checked at connect)", async () => {
    const name = hostname();
    const resolved = await lookup(name, { all: true }).catch(() => []);
    if (!resolved.length || !resolved.every((a) => isPrivateAddress(a.address))) return; // no such name here
    await refusedAndRefunded(`http://${name}:${port}/images/dns/0.png`);
  });
});

describe("the sandbox's own URLs are still copied in-process", () => {
  test("with OUTPUT_ALLOW_PRIVATE_URLS=false and PUBLIC_URL on localhost, a sandbox prediction succeeds", async () => {
    const clock = new FakeClock();
    const t = await createTestApp({
      env: { SANDBOX_DELAY_MS: "100", OUTPUT_ALLOW_PRIVATE_URLS: "false" },
      overrides: { clock },
    });
    try {
      const s = await t.signInAnonymous();
      const created = await t.json("POST", "/api/predictions", { headers: s.headers, body: { brandName: "Acme" } });
      expect(created.status).toBe(201);
      const done = await driveClock(
        clock,
        t.json("GET", `/api/predictions/${created.body.id}`, { headers: { ...s.headers, prefer: "wait=10" } }),
      );
      expect(done.body.status).toBe("succeeded");
      expect(done.body.output[0]).toStartWith(`${t.config.PUBLIC_URL}/files/`);
    } finally {
      await t.close();
    }
  });
});
