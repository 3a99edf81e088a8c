import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError } from "../helpers/schemas";

/**
 * Unsafe requests to our own routes authenticated by the session cookie must come from an allowed origin
 * (Origin, else Referer); bearer tokens and API keys cannot be sent by a foreign page, so they are not concerned.
 */

let t: TestApp;
const GOOD = "http://localhost:3000";

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function secretOf(headers: Record<string, string>) {
  const res = await t.json("GET", "/api/webhooks/secret", { headers });
  expect(res.status).toBe(200);
  return res.body.key as string;
}

describe("cookie-authenticated writes and their origin", () => {
  test("rotate with a cookie from a foreign origin, without an origin, or as text/plain: 403 and the secret unchanged", async () => {
    const s = await t.signUp();
    const cookie = { cookie: s.cookie };
    const before = await secretOf(cookie);
    const attempts: Record<string, string>[] = [
      { origin: "https://evil.example" },
      {},
      { origin: "null" },
      { referer: "https://evil.example/page" },
      { origin: "https://evil.example", referer: `${GOOD}/page` },
      { "content-type": "text/plain" },
      { origin: "https://evil.example", "content-type": "text/plain" },
    ];
    for (const extra of attempts) {
      const res = await t.fetch("/api/webhooks/secret/rotate", {
        method: "POST",
        headers: { ...cookie, ...extra },
        body: extra["content-type"] ? "{}" : undefined,
      });
      const body = await res.json();
      expectError({ status: res.status, headers: res.headers, body }, 403, "forbidden");
    }
    expect(await secretOf(cookie)).toBe(before);
  });

  test("with an allowed Origin (or, without Origin, an allowed Referer) the cookie works", async () => {
    const s = await t.signUp();
    const before = await secretOf({ cookie: s.cookie });
    const res = await t.json("POST", "/api/webhooks/secret/rotate", { headers: { cookie: s.cookie, origin: GOOD } });
    expect(res.status).toBe(200);
    const viaReferer = await t.json("POST", "/api/webhooks/secret/rotate", {
      headers: { cookie: s.cookie, referer: `${GOOD}/settings` },
    });
    expect(viaReferer.status).toBe(200);
    expect(await secretOf({ cookie: s.cookie })).not.toBe(before);
  });

  test("bearer tokens and API keys need no origin; cookie reads are not concerned", async () => {
    const s = await t.signUp();
    expect((await t.json("POST", "/api/webhooks/secret/rotate", { headers: s.headers })).status).toBe(200);
    const created = await t.json("POST", "/api/auth/api-key/create", {
      headers: { ...s.headers, origin: GOOD },
      body: { name: "k" },
    });
    const key = created.body.key as string;
    expect((await t.json("POST", "/api/webhooks/secret/rotate", { headers: { "x-api-key": key } })).status).toBe(200);
    expect((await t.json("GET", "/api/credits", { headers: { cookie: s.cookie } })).status).toBe(200);
    // A foreign page cannot set a bearer header, so a bearer request with a foreign Origin is a server client.
    expect(
      (
        await t.json("POST", "/api/webhooks/secret/rotate", {
          headers: { ...s.headers, origin: "https://evil.example" },
        })
      ).status,
    ).toBe(200);
  });
});
