import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAKE_EACHLABS_KEY, type FakeEachlabs, startFakeEachlabs } from "../fakes/eachlabs";
import { testDatabaseUrl } from "../helpers/db";
import { type ChildServer, ROOT, startChildServer } from "./helpers";

/**
 * A production start (NODE_ENV=production, `bun src/index.ts` as a real process) with a provider on this network
 * over plain http, as a fake or a provider beside the server is: OUTPUT_ALLOW_PRIVATE_URLS=true lets the copier
 * fetch its http outputs, so predictions succeed; without the flag the same outputs are refused (https only, public
 * only) and every prediction is refunded.
 */

const cleanups: Array<() => Promise<void>> = [];
let eachlabs: FakeEachlabs;
const servers: Record<"allowed" | "default", ChildServer> = {} as never;

beforeAll(async () => {
  eachlabs = await startFakeEachlabs();
  cleanups.push(() => eachlabs.close());
  const start = (flag: Record<string, string>) => {
    const files = mkdtempSync(join(tmpdir(), "logo-prod-files-"));
    cleanups.push(async () => rmSync(files, { recursive: true, force: true }));
    return startChildServer({
      command: join(ROOT, "node_modules", ".bin", "bun"),
      args: ["src/index.ts"],
      kind: testDatabaseUrl() ? "postgres" : "pglite",
      cleanups,
      env: () => ({
        NODE_ENV: "production",
        BETTER_AUTH_SECRET: "a-production-secret-of-at-least-32-chars",
        ALLOWED_ORIGINS: "http://localhost:3000",
        EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
        EACHLABS_BASE_URL: eachlabs.url,
        EACHLABS_CALLBACKS: "false",
        STORAGE_DIR: files,
        ...flag,
      }),
    });
  };
  [servers.allowed, servers.default] = await Promise.all([start({ OUTPUT_ALLOW_PRIVATE_URLS: "true" }), start({})]);
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A guest creates a prediction on `server` and long-polls it until it is final; returns the final prediction. */
async function predict(server: ChildServer) {
  const guest = await fetch(`${server.base}/api/auth/sign-in/anonymous`, {
    method: "POST",
    headers: { Origin: "http://localhost:3000" },
  });
  expect(guest.status).toBe(200);
  const auth = { Authorization: `Bearer ${guest.headers.get("set-auth-token")}` };
  const created = await fetch(`${server.base}/api/predictions`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
    body: JSON.stringify({ brandName: "Acme", model: "nano-banana" }),
  });
  expect(created.status).toBe(201);
  let p = (await created.json()) as { id: string; status: string; output: string[] | null; creditsRefunded: number };
  for (let i = 0; i < 6 && (p.status === "processing" || p.status === "queued"); i++)
    p = await (
      await fetch(`${server.base}/api/predictions/${p.id}`, { headers: { ...auth, Prefer: "wait=10" } })
    ).json();
  const credits = (await (await fetch(`${server.base}/api/credits`, { headers: auth })).json()) as { balance: number };
  return { ...p, balance: credits.balance };
}

describe("NODE_ENV=production with a provider on this network over http", () => {
  test("OUTPUT_ALLOW_PRIVATE_URLS=true: the http output is copied, the prediction succeeds and its file is served", async () => {
    const p = await predict(servers.allowed);
    expect([p.status, p.creditsRefunded, p.balance]).toEqual(["succeeded", 0, 0]);
    expect(p.output?.[0]).toStartWith(`${servers.allowed.base}/files/`);
    const file = await fetch(p.output?.[0] as string);
    expect([file.status, file.headers.get("content-type")]).toEqual([200, "image/png"]);
    expect(new Uint8Array(await file.arrayBuffer()).slice(1, 4)).toEqual(new TextEncoder().encode("PNG"));
  }, 60_000);

  test("without the flag: the same http output is refused, the prediction fails and is refunded", async () => {
    const p = await predict(servers.default);
    expect([p.status, p.output, p.creditsRefunded, p.balance]).toEqual(["failed", null, 1, 1]);
  }, 60_000);
});
