import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { startWebExample, type WebExample } from "../../examples/web/serve";
import { loadConfig } from "../../src/env";
import { createLogger } from "../../src/lib/logger";
import { type RunningServer, startServer } from "../../src/server";
import { freePort, freshDatabaseEnv, ROOT } from "../server/helpers";

/**
 * examples/web, the frontend on openapi-fetch, driven in Debian's headless Chromium (puppeteer-core; nothing is
 * downloaded) against the real server on PGlite with the sandbox provider: the page and the API on two origins, as
 * a deployed frontend is. CI installs chromium (.ci/run); without it this test fails rather than skips.
 */

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "artifacts");
const SCREENSHOT = join(ARTIFACTS, "web-journey.png");
/** How Chromium runs here: as root, on a closed network (see the machine notes), a fresh profile each time. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it), or set CHROMIUM`);
  const profile = mkdtempSync(join(tmpdir(), "logo-chromium-"));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
  // Third-party cookies allowed, as by Chrome's default for most users (this Chromium blocks them unless told): the
  // cross-site test below is about SameSite, not about a browser that refuses every third-party cookie.
  mkdirSync(join(profile, "Default"));
  writeFileSync(
    join(profile, "Default", "Preferences"),
    JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }),
  );
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: CHROMIUM_ARGS,
  });
  cleanups.push(() => browser.close());
});

/** The API on a fresh PGlite database, listening on `localhost:<port>` as a browser will name it. */
async function startApi(env: Record<string, string>): Promise<RunningServer> {
  const db = await freshDatabaseEnv("pglite");
  cleanups.push(db.cleanup);
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: "silent",
    // Image and file URLs are built from it: the browser must reach them.
    BETTER_AUTH_URL: `http://localhost:${port}`,
    RECONCILER_INTERVAL_MS: "0",
    SANDBOX_DELAY_MS: "300",
    // One prediction (1) and one brand kit (3); a second kit is the 402 the page must show.
    ANONYMOUS_CREDITS: "4",
    FREE_CREDITS_PER_ADDRESS_PER_DAY: "100",
    ...db.env,
    ...env,
  });
  const server = await startServer(config, createLogger({ level: "silent" }));
  cleanups.push(() => server.stop());
  return server;
}

/** Everything the page reported as an error: console errors (network failures included) and uncaught exceptions. */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()} ${m.location().url ?? ""}`.trim());
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
  return errors;
}

const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent?.trim() ?? "");

describe("examples/web in headless Chromium", () => {
  let api: RunningServer;
  let web: WebExample;
  let apiBase: string;
  let webPort: number;
  beforeAll(async () => {
    webPort = await freePort();
    // The page on localhost is the same site as the API (ports do not count); on 127.0.0.1 it is another site.
    api = await startApi({ ALLOWED_ORIGINS: `http://localhost:${webPort},http://127.0.0.1:${webPort}` });
    apiBase = `http://localhost:${api.port}`;
    web = await startWebExample({ port: webPort, apiUrl: apiBase, hostname: "127.0.0.1" });
    cleanups.push(() => web.stop());
  });

  test("a guest signs in with the cookie, generates a logo, orders a brand kit and downloads it; errors show the envelope's message", async () => {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.setViewport({ width: 900, height: 1100 });
    await page.goto(web.url, { waitUntil: "load" });
    await page.waitForSelector("body[data-ready=true]");
    expect(await text(page, "#api-base")).toBe(apiBase);

    // 1. Guest sign-in: Better Auth's cookie, set by a cross-origin fetch with credentials: "include".
    await page.click("#sign-in");
    await page.waitForSelector("body[data-signed-in=true]");
    await page.waitForFunction(() => document.getElementById("balance")?.textContent === "4");
    const cookies = await browser.cookies();
    expect(cookies.some((c) => c.name.endsWith("better-auth.session_token"))).toBe(true);

    // 2. A prediction (Idempotency-Key: a preflight), followed by its stream or by Prefer: wait, then its image.
    await page.click("#create");
    await page.waitForSelector("#prediction-status[data-status=succeeded]", { timeout: 20_000 });
    await page.waitForSelector("body[data-image=shown]");
    const image = await page.$eval("#image", (img) => ({
      src: (img as HTMLImageElement).src,
      width: (img as HTMLImageElement).naturalWidth,
    }));
    expect(image.src.startsWith(`${apiBase}/files/`)).toBe(true);
    expect(image.width).toBe(512);
    await page.waitForFunction(() => document.getElementById("balance")?.textContent === "3");

    // 3. The brand kit: ordered, followed to succeeded, downloaded from its link.
    await page.click("#order-kit");
    await page.waitForSelector("#kit-status[data-status=succeeded]", { timeout: 30_000 });
    await page.waitForSelector("#download:not([hidden])");
    const href = await page.$eval("#download", (a) => (a as HTMLAnchorElement).href);
    expect(href.startsWith(`${apiBase}/files/`)).toBe(true);
    const download = await page.evaluate(async (url) => {
      const res = await fetch(url);
      const bytes = new Uint8Array(await res.arrayBuffer());
      return {
        status: res.status,
        type: res.headers.get("content-type"),
        disposition: res.headers.get("content-disposition"),
        head: [bytes[0], bytes[1], bytes[2], bytes[3]],
        size: bytes.length,
      };
    }, href);
    expect(download.status).toBe(200);
    expect(download.type).toBe("application/zip");
    expect(download.disposition).toBe('attachment; filename="brand-kit.zip"');
    expect(download.head).toEqual([0x50, 0x4b, 0x03, 0x04]); // "PK\3\4": a zip
    expect(download.size).toBeGreaterThan(10_000);
    await page.waitForFunction(() => document.getElementById("balance")?.textContent === "0");
    expect(await text(page, "#error")).toBe("");

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`web journey screenshot: ${SCREENSHOT}`);

    // Until this branch has the streams, the page's EventSource meets a 404 and falls back to Prefer: wait: the
    // only errors allowed, and only while the server's own document does not declare the stream.
    const declared = Object.keys(((await (await fetch(`${apiBase}/openapi.json`)).json()) as { paths: object }).paths);
    const streams = declared.includes("/api/predictions/{id}/events");
    const via = await page.$eval("#prediction-via", (e) => (e as HTMLElement).dataset.via);
    expect(via).toBe(streams ? "stream" : "polling");
    const unexpected = streams
      ? errors
      : errors.filter(
          (e) =>
            !/\/api\/(predictions|assets)\/[0-9a-f-]{36}\/events\b/.test(e) &&
            !/^console: EventSource's response has a (status 404|MIME type)/.test(e),
        );
    expect(unexpected).toEqual([]);
    if (errors.length) console.log(`allowed while the server has no streams: ${errors.length} console entries`);

    // 4. A second kit with a balance of 0: the 402's envelope message is what the user reads.
    errors.length = 0;
    await page.click("#order-kit");
    await page.waitForFunction(() => document.getElementById("error")?.dataset.status === "402");
    expect(await text(page, "#error")).toMatch(/credit/i);
    expect(await page.$eval("#error", (e) => (e as HTMLElement).dataset.code)).toBe("insufficient_credits");
    // Chromium logs the refused request itself; nothing else (no exception) may appear.
    expect(errors.filter((e) => !/status of 402/.test(e))).toEqual([]);
    await page.close();
  }, 60_000);

  test("a frontend on another site gets its session cookie back only with CROSS_SITE_COOKIES (SameSite=None; Secure)", async () => {
    const crossSite = await startApi({ ALLOWED_ORIGINS: `http://127.0.0.1:${webPort}`, CROSS_SITE_COOKIES: "true" });
    // The default browser context: an incognito-like one blocks every third-party cookie, whatever its SameSite.
    const signIn = async (base: string) => {
      await browser.deleteCookie(...(await browser.cookies()));
      const page = await browser.newPage();
      try {
        const errors = collectErrors(page);
        await page.goto(`http://127.0.0.1:${webPort}/?api=${encodeURIComponent(base)}`, { waitUntil: "load" });
        await page.waitForSelector("body[data-ready=true]");
        await page.click("#sign-in");
        await page.waitForFunction(
          () =>
            document.getElementById("balance")?.textContent !== "–" || document.getElementById("error")?.textContent,
        );
        return {
          balance: await text(page, "#balance"),
          error: await page.$eval("#error", (e) => (e as HTMLElement).dataset.code ?? ""),
          errors,
        };
      } finally {
        await page.close();
      }
    };
    // SameSite=Lax (the default): the sign-in answers 200, but the cookie never comes back from the other site.
    const lax = await signIn(apiBase);
    expect(lax).toMatchObject({ balance: "–", error: "unauthorized" });
    const none = await signIn(`http://localhost:${crossSite.port}`);
    expect(none).toEqual({ balance: "4", error: "", errors: [] });
    // A browser that blocks third-party cookies (Safari, Firefox's strict mode, this Chromium without the profile
    // preference above: "blocked: UserPreferences") sends none at all, SameSite=None or not: such a frontend must be
    // on the API's site, or keep the bearer token (docs/frontend.md).
  }, 30_000);
});
