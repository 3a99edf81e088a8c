import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import puppeteer, { type Browser, type BrowserContext, type Page, type Viewport } from "puppeteer-core";
import { startWebExample, type WebExample } from "../../examples/web/serve";
import { loadConfig } from "../../src/env";
import { createLogger } from "../../src/lib/logger";
import { type RunningServer, startServer } from "../../src/server";
import { type FakePolar, polarEnv, startFakePolar } from "../fakes/polar";
import { freePort, freshDatabaseEnv, ROOT } from "../server/helpers";

/**
 * examples/web, the client on openapi-fetch, driven in Debian's headless Chromium (puppeteer-core; nothing is
 * downloaded) against the real server on PGlite with the sandbox provider and the fake Polar (its hosted checkout
 * page pays and sends the signed order.paid webhook): the page and the API on two origins, as a deployed frontend
 * is. The whole journey runs on a phone-sized and a desktop-sized viewport, with screenshots saved to
 * BROWSER_ARTIFACTS_DIR (default artifacts/browser). CI installs chromium (.ci/run); without it this test fails
 * rather than skips.
 */

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** Where the journey's screenshots go (CI keeps them and names them at the end of .ci/run). */
const SCREENSHOTS = resolve(ROOT, process.env.BROWSER_ARTIFACTS_DIR ?? join("artifacts", "browser"));
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
const NARROW = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const WIDE = { width: 1280, height: 800 };

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
}, 120_000); // a loaded machine takes a while to start Chromium

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
const balanceIs = (page: Page, n: number) =>
  page.waitForFunction((v) => document.getElementById("balance")?.textContent === v, {}, String(n));

/** Every response the page got with this status (a 402 is the dead-end the page must not lead to). */
function collectStatus(page: Page, status: number): string[] {
  const seen: string[] = [];
  page.on("response", (r) => {
    if (r.status() === status) seen.push(`${r.request().method()} ${r.url()}`);
  });
  return seen;
}

async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Sets a colour input as a user's picker does: the value, then the input and change events. */
async function pickColor(page: Page, selector: string, hex: string): Promise<void> {
  await page.$eval(
    selector,
    (e, v) => {
      const input = e as HTMLInputElement;
      input.value = v;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
    },
    hex,
  );
}

/** A GET on the API from the page, with its cookie: what the page's own session sees. */
async function apiGet<T>(page: Page, url: string): Promise<T> {
  return page.evaluate(async (u) => {
    const res = await fetch(u, { credentials: "include" });
    if (!res.ok) throw new Error(`${u}: ${res.status}`);
    return res.json();
  }, url) as Promise<T>;
}

interface KindInfo {
  kind: string;
  credits: number;
  options?: { properties?: Record<string, unknown> };
}

describe("examples/web in headless Chromium", () => {
  let api: RunningServer;
  let polar: FakePolar;
  let web: WebExample;
  let apiBase: string;
  let webPort: number;
  let kinds: KindInfo[];
  beforeAll(async () => {
    webPort = await freePort();
    polar = await startFakePolar();
    cleanups.push(() => polar.close());
    // The page on localhost is the same site as the API (ports do not count); on 127.0.0.1 it is another site.
    api = await startApi({
      ...polarEnv(polar),
      ALLOWED_ORIGINS: `http://localhost:${webPort},http://127.0.0.1:${webPort}`,
      // An account starts at 0 (it buys its credits); a guest gets 4: one logo (1) and one brand kit (3).
      SIGNUP_CREDITS: "0",
      ANONYMOUS_CREDITS: "4",
    });
    apiBase = `http://localhost:${api.port}`;
    polar.hostCheckouts(`http://127.0.0.1:${api.port}/api/webhooks/polar`);
    web = await startWebExample({ port: webPort, apiUrl: apiBase, hostname: "127.0.0.1" });
    cleanups.push(() => web.stop());
    kinds = ((await (await fetch(`http://127.0.0.1:${api.port}/api/assets/kinds`)).json()) as { data: KindInfo[] })
      .data;
  }, 120_000);

  /** One page in its own browser context (its own cookies), on a viewport. */
  async function openPage(viewport: Viewport): Promise<{ page: Page; context: BrowserContext }> {
    const context = await browser.createBrowserContext();
    cleanups.push(() => context.close());
    const page = await context.newPage();
    await page.setViewport(viewport);
    await page.goto(web.url, { waitUntil: "load" });
    await page.waitForSelector("body[data-ready=true]");
    expect(await text(page, "#api-base")).toBe(apiBase);
    return { page, context };
  }

  for (const [size, viewport] of [
    ["narrow", NARROW],
    ["wide", WIDE],
  ] as const) {
    test(`${size} (${viewport.width}×${viewport.height}): sign up at 0 credits, buy through the Polar checkout, generate with model, style and colours, order every kind from its form, reload, download, sign out and back in`, async () => {
      const { page } = await openPage(viewport);
      const errors = collectErrors(page);
      const refused = collectStatus(page, 402);
      await shoot(page, `${size}-1-signed-out`);

      // Sign up: 0 credits, so Generate is disabled and says why (no request that would answer 402).
      const email = `ada-${size}@example.com`;
      await page.click("#tab-sign-up");
      await page.type("#sign-up-name", "Ada Lovelace");
      await page.type("#sign-up-email", email);
      await page.type("#sign-up-password", "correct horse battery");
      await page.click("#sign-up-form button[type=submit]");
      await page.waitForSelector("body[data-signed-in=true]");
      await balanceIs(page, 0);
      await page.waitForSelector("body[data-history=loaded]");
      expect(await text(page, "#who")).toBe(`Signed in as ${email}`);
      expect(await page.$eval("#create", (b) => (b as HTMLButtonElement).disabled)).toBe(true);
      expect(await text(page, "#create-blocked")).toMatch(/You have 0 credits and a logo costs 1\. Buy credits/);
      await shoot(page, `${size}-2-no-credits`);

      // Buy the Starter package: the API's checkout, the (fake) Polar page, payment, back with the credits.
      await page.click('button[data-package="starter"]');
      await page.waitForSelector("#pay");
      expect(page.url()).toStartWith(`${polar.url}/checkout/`);
      await shoot(page, `${size}-3-checkout`);
      await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#pay")]);
      expect(new URL(page.url()).origin).toBe(web.url);
      await page.waitForSelector("body[data-checkout=credited]", { timeout: 20_000 });
      await balanceIs(page, 10);
      expect(await text(page, "#notice")).toBe("10 credits added.");
      expect(new URL(page.url()).searchParams.has("checkout")).toBe(false);
      expect(polar.deliveries.at(-1)?.status).toBe(202);

      // A logo: brand, description, a 2-credit model, a style and two colours.
      await page.click("#brand", { count: 3 });
      await page.type("#brand", `Northwind ${size}`);
      await page.type("#description", "a tea importer");
      await page.select("#model", "recraft-v3");
      await page.select("#style", "geometric");
      await pickColor(page, "#color-0", "#0f766e");
      await pickColor(page, "#color-1", "#fbbf24");
      expect(await text(page, "#price")).toBe("2 credits");
      await page.click("#create");
      const card = "#history li.card:first-child";
      await page.waitForSelector(`${card}[data-status=succeeded]`, { timeout: 30_000 });
      await balanceIs(page, 8);
      const predictionId = await page.$eval(card, (e) => (e as HTMLElement).dataset.id as string);
      const prediction = await apiGet<{ model: string; input: Record<string, unknown>; output: string[] }>(
        page,
        `${apiBase}/api/predictions/${predictionId}`,
      );
      expect(prediction.model).toBe("recraft-v3");
      expect(prediction.input).toMatchObject({
        brandName: `Northwind ${size}`,
        description: "a tea importer",
        style: "geometric",
        colors: ["#0F766E", "#FBBF24"],
      });
      await page.waitForFunction(
        (sel) => {
          const img = document.querySelector<HTMLImageElement>(`${sel} .outputs img`);
          return img?.complete && img.naturalWidth > 0;
        },
        {},
        card,
      );
      expect(await page.$eval(`${card} .outputs img`, (i) => (i as HTMLImageElement).src)).toBe(
        prediction.output[0] as string,
      );

      // A form per kind, built from the kind's options schema: order each one with options chosen in the form.
      await page.waitForSelector(`${card} #order-panel:not([hidden])`);
      const forms = await page.$$eval("#kinds form.kind", (fs) => fs.map((f) => (f as HTMLElement).dataset.kind));
      expect(forms).toEqual(kinds.map((k) => k.kind));
      for (const k of kinds) {
        const fields = Object.keys(k.options?.properties ?? {});
        const rendered = await page.$$eval(`#kinds form[data-kind="${k.kind}"] .field`, (fs) =>
          fs.map((f) => (f as HTMLElement).dataset.field),
        );
        expect(rendered).toEqual(fields);
      }
      const chosen: Record<string, Record<string, unknown>> = {
        vector: { mode: "mono", maxColors: 4 },
        icons: { background: "#FFEEDD" },
      };
      await page.select('#kinds form[data-kind="vector"] select[name="mode"]', "mono");
      const maxColors = '#kinds form[data-kind="vector"] input[name="maxColors"]';
      await page.click(maxColors, { count: 3 });
      await page.type(maxColors, "40");
      await page.click('#kinds form[data-kind="vector"] button.order');
      // Out of the schema's range: said by the field, nothing sent.
      expect(await text(page, '#kinds form[data-kind="vector"] .field[data-field="maxColors"] .field-error')).toBe(
        "From 2 to 16.",
      );
      await page.click(maxColors, { count: 3 });
      await page.type(maxColors, "4");
      await page.click('#kinds form[data-kind="icons"] input[data-set="background"]');
      await pickColor(page, '#kinds form[data-kind="icons"] input[name="background"]', "#ffeedd");
      let expected = 8;
      const ordered: string[] = [];
      for (const k of kinds) {
        if (expected < k.credits) continue;
        expected -= k.credits;
        ordered.push(k.kind);
        await page.click(`#kinds form[data-kind="${k.kind}"] button.order`);
        await page.waitForSelector(`${card} .asset[data-kind="${k.kind}"]`);
        await balanceIs(page, expected);
      }
      await page.waitForFunction(
        (sel, n) => document.querySelectorAll(`${sel} .asset[data-status=succeeded]`).length === n,
        { timeout: 60_000 },
        card,
        ordered.length,
      );
      const assets = (
        await apiGet<{ data: Array<{ kind: string; options: Record<string, unknown>; outputIndex: number }> }>(
          page,
          `${apiBase}/api/predictions/${predictionId}/assets`,
        )
      ).data;
      expect(assets.map((a) => a.kind).sort()).toEqual([...ordered].sort());
      for (const a of assets) expect(a.options).toMatchObject(chosen[a.kind] ?? {});
      // Previews: every image file of a deliverable loaded (up to four per tile).
      const previews = await page.$$eval(`${card} .asset .previews img`, (imgs) =>
        imgs.map((i) => ({
          ok: (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0,
          alt: (i as HTMLImageElement).alt,
        })),
      );
      expect(previews.map((p) => p.alt)).toEqual(expect.arrayContaining(["logo.svg", "logo.png"]));
      // Previews load lazily (below the fold on a phone): ask for all of them before checking that each loaded.
      await page.$$eval(`${card} .asset .previews img`, (imgs) => {
        for (const i of imgs) (i as HTMLImageElement).loading = "eager";
      });
      await page.waitForFunction(
        (sel) =>
          [...document.querySelectorAll<HTMLImageElement>(`${sel} .asset .previews img`)].every(
            (i) => i.complete && i.naturalWidth > 0,
          ),
        { timeout: 10_000 },
        card,
      );
      expect(await text(page, "#order-blocked")).toMatch(
        new RegExp(`^You have ${expected} credits: the kinds that cost more are disabled\\.$`),
      );
      await shoot(page, `${size}-4-deliverables`);

      // A reload: the session, the logo, its deliverables and the selection are all still there.
      await page.reload({ waitUntil: "load" });
      await page.waitForSelector("body[data-history=loaded]");
      await balanceIs(page, expected);
      expect(
        await page.$eval(card, (e) => [(e as HTMLElement).dataset.id, (e as HTMLElement).dataset.selected]),
      ).toEqual([predictionId, "true"]);
      expect(await page.$$eval(`${card} .asset[data-status=succeeded]`, (t) => t.length)).toBe(ordered.length);
      await page.$$eval(`${card} img`, (imgs) => {
        for (const i of imgs) (i as HTMLImageElement).loading = "eager";
      });
      await page.waitForFunction(
        (sel) =>
          [...document.querySelectorAll<HTMLImageElement>(`${sel} img`)].every((i) => i.complete && i.naturalWidth > 0),
        { timeout: 10_000 },
        card,
      );
      await shoot(page, `${size}-5-after-reload`);

      // Downloads: each deliverable's files under their own names.
      const links = await page.$$eval(`${card} .asset a.download`, (as) =>
        as.map((a) => ({ href: (a as HTMLAnchorElement).href, name: a.textContent ?? "" })),
      );
      expect(links.length).toBeGreaterThanOrEqual(ordered.length);
      for (const link of links.filter((l) => /^(logo\.(svg|png)|brand-kit\.zip|site\.webmanifest)$/.test(l.name))) {
        const got = await page.evaluate(async (url) => {
          const res = await fetch(url);
          const bytes = new Uint8Array(await res.arrayBuffer());
          return {
            status: res.status,
            disposition: res.headers.get("content-disposition"),
            head: [...bytes.slice(0, 4)],
          };
        }, link.href);
        expect(got.status).toBe(200);
        expect(got.disposition).toBe(`attachment; filename="${link.name}"`);
        if (link.name.endsWith(".zip")) expect(got.head).toEqual([0x50, 0x4b, 0x03, 0x04]);
      }

      // Sign out, then in again: the same history.
      await page.click("#sign-out");
      await page.waitForSelector("body[data-signed-in=false]");
      expect(await page.$eval("#history-section", (e) => (e as HTMLElement).hidden)).toBe(true);
      expect(await page.$$eval("#history li", (l) => l.length)).toBe(0);
      await page.click("#tab-sign-in");
      await page.type("#sign-in-email", email);
      await page.type("#sign-in-password", "correct horse battery");
      await page.click("#sign-in-form button[type=submit]");
      await page.waitForSelector("body[data-history=loaded]");
      await balanceIs(page, expected);
      expect(await page.$eval(card, (e) => (e as HTMLElement).dataset.id)).toBe(predictionId);

      expect(refused).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    }, 150_000);
  }

  test("a guest spends its credits to 0: every action that costs more is disabled and says why, nothing answers 402; signing up keeps its work", async () => {
    const { page } = await openPage(WIDE);
    const errors = collectErrors(page);
    const refused = collectStatus(page, 402);
    await page.click("#sign-in");
    await balanceIs(page, 4);
    expect(await text(page, "#who")).toBe("Guest");
    expect(await text(page, "#welcome")).toBe("Includes 4 welcome credits.");
    await page.click("#create");
    const card = "#history li.card:first-child";
    await page.waitForSelector(`${card}[data-status=succeeded]`, { timeout: 30_000 });
    await balanceIs(page, 3);
    await page.click('#kinds form[data-kind="brand-kit"] button.order');
    await page.waitForSelector(`${card} .asset[data-kind="brand-kit"][data-status=succeeded]`, { timeout: 60_000 });
    await balanceIs(page, 0);

    expect(await page.$eval("#create", (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    expect(await text(page, "#create-blocked")).toBe("You have 0 credits and a logo costs 1. Buy credits to generate.");
    const buttons = await page.$$eval("#kinds button.order", (bs) =>
      bs.map((b) => ({ disabled: (b as HTMLButtonElement).disabled, title: (b as HTMLButtonElement).title })),
    );
    expect(buttons.length).toBe(kinds.length);
    expect(await page.$$eval("#kinds small.needs", (n) => n.map((e) => e.textContent))).toEqual(
      kinds.map(() => "You have 0."),
    );
    for (const b of buttons)
      expect(b).toMatchObject({ disabled: true, title: expect.stringMatching(/^Needs \d+ credits?; you have 0\.$/) });
    expect(await text(page, "#order-blocked")).toMatch(
      /^You have 0 credits; deliverables cost 1 or more\. Buy credits to order\.$/,
    );
    // The buy buttons are what is left to press.
    expect(await page.$$eval("#packages button:not([disabled])", (b) => b.length)).toBeGreaterThan(0);
    await shoot(page, "wide-6-guest-at-zero");

    // The guest signs up: its logo and brand kit come along to the account.
    const predictionId = await page.$eval(card, (e) => (e as HTMLElement).dataset.id);
    expect(await text(page, "#account-title")).toBe("Keep your work");
    await page.type("#sign-up-name", "Grace Hopper");
    await page.type("#sign-up-email", "grace@example.com");
    await page.type("#sign-up-password", "correct horse battery");
    await page.click("#sign-up-form button[type=submit]");
    await page.waitForFunction(() => document.getElementById("who")?.textContent === "Signed in as grace@example.com");
    await page.waitForSelector(
      `${card}[data-id="${predictionId}"] .asset[data-kind="brand-kit"][data-status=succeeded]`,
    );
    expect(await page.$eval("#account", (e) => (e as HTMLElement).hidden)).toBe(true);
    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  test("an account that got no welcome credits is told why, and Generate is disabled", async () => {
    const spent = await startApi({
      ALLOWED_ORIGINS: `http://localhost:${webPort}`,
      ANONYMOUS_CREDITS: "4",
      FREE_CREDITS_PER_ADDRESS_PER_DAY: "0",
    });
    const context = await browser.createBrowserContext();
    cleanups.push(() => context.close());
    const page = await context.newPage();
    const refused = collectStatus(page, 402);
    await page.goto(`${web.url}/?api=${encodeURIComponent(`http://localhost:${spent.port}`)}`, { waitUntil: "load" });
    await page.waitForSelector("body[data-ready=true]");
    await page.click("#sign-in");
    await balanceIs(page, 0);
    expect(await page.$eval("#welcome", (e) => (e as HTMLElement).dataset.withheld)).toBe("address_budget");
    expect(await text(page, "#welcome")).toBe(
      "No welcome credits: this network has used up today's welcome credits. Buy credits to start.",
    );
    expect(await page.$eval("#create", (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    expect(refused).toEqual([]);
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
