/**
 * A small client on the Logo API, the kind a team starts its frontend from: openapi-fetch with the repository's
 * generated types, plain DOM, no framework.
 *
 * - Account: sign up, sign in, sign out, or continue as a guest (Better Auth's session cookie).
 * - Credits: the balance (and why there were no welcome credits, when there were none) and buying a package
 *   through a Polar checkout; actions that cost more than the balance are disabled with the reason.
 * - A logo: brand name, description, model (from `GET /api/models`), style, up to three colours, images.
 * - History: the user's predictions from the API (so it survives a reload), each with its deliverables as
 *   previews and downloads, and an order form per kind built from `GET /api/assets/kinds` (schema-form.ts).
 *
 * It runs on its own origin (http://localhost:5173 by `npm run example:web`) against the API (default
 * http://localhost:3000): every request carries the cookie (`credentials: "include"`), unsafe ones are CORS
 * preflighted, progress comes from `EventSource` streams with `withCredentials`.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "../../openapi/schema";
import { type Field, fieldsOf, type JsonSchema, readForm, renderFields } from "./schema-form";

type Schemas = components["schemas"];
type Prediction = Schemas["Prediction"];
type Asset = Schemas["Asset"];
type Model = Schemas["Model"];
type KindInfo = Schemas["AssetKindInfo"];
type CreditBalance = Schemas["CreditBalance"];
type CreditPackage = Schemas["CreditPackage"];
type ErrorEnvelope = Schemas["Error"];
type User = { id: string; name?: string | null; email?: string | null; isAnonymous?: boolean | null };

/** The styles of `CreatePredictionRequest.style`: the compiler checks them against the contract. */
const STYLES = [
  "minimal",
  "modern",
  "playful",
  "vintage",
  "luxury",
  "geometric",
  "hand-drawn",
  "mascot",
] as const satisfies readonly Schemas["LogoStyle"][];
const MAX_COLORS = 3;
const DEFAULT_COLORS = ["#1F2937", "#F59E0B", "#10B981"];
const PAGE = 10;

/** The API's base URL: `?api=` on the page, else the one the static server wrote into the page, else :3000. */
export function apiBase(): string {
  const fromQuery = new URLSearchParams(location.search).get("api");
  const fromMeta = document.querySelector<HTMLMetaElement>('meta[name="logo-api-base"]')?.content;
  const base = fromQuery || (fromMeta && !fromMeta.startsWith("%") ? fromMeta : "") || "http://localhost:3000";
  return base.replace(/\/+$/, "");
}

const API = apiBase();
// Every request carries the session cookie: the API is on another origin.
const api = createClient<paths>({ baseUrl: API, credentials: "include" });

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, unknown> = {},
): HTMLElementTagNameMap[K] => Object.assign(document.createElement(tag), props);

const ui = {
  apiBase: $("api-base"),
  error: $("error"),
  notice: $("notice"),
  who: $("who"),
  signOut: $<HTMLButtonElement>("sign-out"),
  account: $("account"),
  tabSignIn: $<HTMLButtonElement>("tab-sign-in"),
  tabSignUp: $<HTMLButtonElement>("tab-sign-up"),
  signInForm: $<HTMLFormElement>("sign-in-form"),
  signUpForm: $<HTMLFormElement>("sign-up-form"),
  guest: $<HTMLButtonElement>("sign-in"),
  credits: $("credits"),
  balance: $("balance"),
  welcome: $("welcome"),
  packages: $("packages"),
  packagesNote: $("packages-note"),
  createSection: $("create-section"),
  form: $<HTMLFormElement>("create-form"),
  brand: $<HTMLInputElement>("brand"),
  description: $<HTMLInputElement>("description"),
  model: $<HTMLSelectElement>("model"),
  style: $<HTMLSelectElement>("style"),
  colors: $("colors"),
  create: $<HTMLButtonElement>("create"),
  price: $("price"),
  createBlocked: $("create-blocked"),
  historySection: $("history-section"),
  historyEmpty: $("history-empty"),
  history: $<HTMLUListElement>("history"),
  more: $<HTMLButtonElement>("more"),
  orderPanel: $("order-panel"),
  orderTarget: $("order-target"),
  orderBlocked: $("order-blocked"),
  kinds: $("kinds"),
};

const state = {
  user: undefined as User | undefined,
  balance: undefined as number | undefined,
  models: [] as Model[],
  kinds: [] as Array<{ info: KindInfo; fields: Field[]; form: HTMLFormElement; button: HTMLButtonElement }>,
  predictions: new Map<string, Prediction>(),
  assets: new Map<string, Asset[]>(),
  selected: undefined as { id: string; output: number } | undefined,
  nextCursor: null as string | null,
  /** The logo just asked for: selected once it has succeeded. */
  awaited: undefined as string | undefined,
  creating: false,
};

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** Shown to the user: the envelope's `error.message` (402, 429, 503…), or why the API could not be reached. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly envelope: ErrorEnvelope | undefined,
  ) {
    super(envelope?.error?.message ?? `The API answered ${status}.`);
  }
}

function showError(err: unknown): void {
  ui.notice.textContent = "";
  if (err instanceof ApiError) {
    ui.error.textContent = err.message;
    ui.error.dataset.status = String(err.status);
    ui.error.dataset.code = err.envelope?.error?.code ?? "";
  } else {
    ui.error.textContent =
      err instanceof TypeError
        ? `Could not reach the API at ${API}.`
        : err instanceof Error
          ? err.message
          : String(err);
    ui.error.dataset.status = "";
    ui.error.dataset.code = "";
  }
}

function clearError(): void {
  ui.error.textContent = "";
  ui.error.dataset.status = "";
  ui.error.dataset.code = "";
}

function notify(message: string): void {
  ui.notice.textContent = message;
}

/** openapi-fetch's answer as data, or an ApiError with the envelope. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined)
    throw new ApiError(result.response.status, result.error as ErrorEnvelope | undefined);
  return result.data;
}

/** Runs a user action: one error shown at a time. */
function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => void {
  return (...args) => {
    clearError();
    run(...args).catch(showError);
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Account

async function loadSession(): Promise<void> {
  const { data } = await api.GET("/api/auth/get-session");
  const user = (data as { user?: User } | null | undefined)?.user;
  if (user) await signedIn(user);
  else signedOut();
}

async function signedIn(user: User): Promise<void> {
  if (state.user?.id !== user.id) clearHistory();
  state.user = user;
  document.body.dataset.signedIn = "true";
  ui.who.textContent = user.isAnonymous ? "Guest" : `Signed in as ${user.email ?? user.name ?? "you"}`;
  ui.signOut.hidden = false;
  ui.signOut.textContent = user.isAnonymous ? "Leave guest session" : "Sign out";
  // A guest may still sign up or in: the guest's credits and logos move to the account.
  ui.account.hidden = !user.isAnonymous;
  $("account-title").textContent = user.isAnonymous ? "Keep your work" : "Account";
  $("guest-hint").hidden = !user.isAnonymous;
  $("guest-row").hidden = Boolean(user.isAnonymous);
  if (user.isAnonymous) selectTab("sign-up");
  ui.credits.hidden = false;
  ui.createSection.hidden = false;
  ui.historySection.hidden = false;
  await Promise.all([refreshBalance(), loadPackages(), loadHistory()]);
}

/** Another user, or none: the page shows none of the previous one's logos. */
function clearHistory(): void {
  state.predictions.clear();
  state.assets.clear();
  state.selected = undefined;
  state.nextCursor = null;
  ui.orderPanel.hidden = true;
  document.body.append(ui.orderPanel);
  ui.history.replaceChildren();
  ui.historyEmpty.hidden = false;
  ui.more.hidden = true;
  delete document.body.dataset.history;
}

function signedOut(): void {
  state.user = undefined;
  state.balance = undefined;
  clearHistory();
  document.body.dataset.signedIn = "false";
  ui.who.textContent = "Not signed in.";
  ui.signOut.hidden = true;
  ui.account.hidden = false;
  $("account-title").textContent = "Account";
  $("guest-hint").hidden = true;
  $("guest-row").hidden = false;
  ui.credits.hidden = true;
  ui.createSection.hidden = true;
  ui.historySection.hidden = true;
  ui.balance.textContent = "–";
  gate();
}

function selectTab(tab: "sign-in" | "sign-up"): void {
  ui.tabSignIn.setAttribute("aria-selected", String(tab === "sign-in"));
  ui.tabSignUp.setAttribute("aria-selected", String(tab === "sign-up"));
  ui.signInForm.hidden = tab !== "sign-in";
  ui.signUpForm.hidden = tab !== "sign-up";
}

async function signUp(): Promise<void> {
  const value = (id: string) => $<HTMLInputElement>(id).value.trim();
  const result = unwrap(
    await api.POST("/api/auth/sign-up/email", {
      body: {
        name: value("sign-up-name"),
        email: value("sign-up-email"),
        password: $<HTMLInputElement>("sign-up-password").value,
      },
    }),
  );
  notify("Account created.");
  await signedIn(result.user as User);
}

async function signIn(): Promise<void> {
  const result = unwrap(
    await api.POST("/api/auth/sign-in/email", {
      body: {
        email: $<HTMLInputElement>("sign-in-email").value.trim(),
        password: $<HTMLInputElement>("sign-in-password").value,
      },
    }),
  );
  await signedIn(result.user as User);
}

async function continueAsGuest(): Promise<void> {
  // Better Auth answers with a Set-Cookie; the browser keeps it for the API's origin.
  const session = unwrap(await api.POST("/api/auth/sign-in/anonymous"));
  if (session.user) await signedIn(session.user as User);
}

async function signOut(): Promise<void> {
  unwrap(await api.POST("/api/auth/sign-out", { body: {} }));
  signedOut();
  notify("Signed out.");
}

// ---------------------------------------------------------------------------------------------------------------
// Credits

async function refreshBalance(): Promise<void> {
  const credits: CreditBalance = unwrap(await api.GET("/api/credits"));
  state.balance = credits.balance;
  ui.balance.textContent = String(credits.balance);
  const welcome = credits.welcome;
  ui.welcome.dataset.withheld = welcome?.withheld ?? "";
  ui.welcome.textContent = !welcome
    ? ""
    : welcome.withheld === "address_budget"
      ? "No welcome credits: this network has used up today's welcome credits. Buy credits to start."
      : welcome.withheld
        ? `Welcome credits withheld (${welcome.withheld}).`
        : welcome.granted > 0
          ? `Includes ${welcome.granted} welcome credits.`
          : "";
  gate();
}

async function loadPackages(): Promise<void> {
  const { data } = unwrap(await api.GET("/api/credits/packages"));
  ui.packages.replaceChildren(
    ...data.map((p) => {
      const buy = el("button", {
        type: "button",
        textContent: `Buy ${formatPrice(p)}`,
        disabled: !p.purchasable,
        title: p.purchasable ? "" : "Not on sale yet",
      });
      buy.dataset.package = p.id;
      buy.addEventListener(
        "click",
        action(() => buyCredits(p, buy)),
      );
      const li = el("li");
      li.append(el("span", { textContent: `${p.name}: ${p.credits} credits` }), buy);
      return li;
    }),
  );
  ui.packagesNote.textContent = data.length === 0 ? "This server sells no credit packages." : "";
  if (data.length > 0 && !data.some((p) => p.purchasable))
    ui.packagesNote.textContent = "Payments are not configured on this server.";
}

function formatPrice(p: CreditPackage): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency: p.currency.toUpperCase() }).format(
    p.priceCents / 100,
  );
}

const CHECKOUT_KEY = "logo-api-example:checkout";

/** Starts a Polar checkout and sends the browser there; Polar brings it back to `?checkout={CHECKOUT_ID}`. */
async function buyCredits(p: CreditPackage, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const back = new URL(location.href);
    back.search = "";
    back.hash = "";
    if (new URLSearchParams(location.search).get("api")) back.searchParams.set("api", API);
    // Polar replaces the literal {CHECKOUT_ID}; URLSearchParams would encode its braces.
    const successUrl = `${back.toString()}${back.search ? "&" : "?"}checkout={CHECKOUT_ID}`;
    const checkout = unwrap(await api.POST("/api/credits/purchase", { body: { packageId: p.id, successUrl } }));
    sessionStorage.setItem(
      CHECKOUT_KEY,
      JSON.stringify({ id: checkout.checkoutId, credits: p.credits, before: state.balance ?? 0 }),
    );
    location.assign(checkout.checkoutUrl);
  } finally {
    button.disabled = false;
  }
}

/**
 * Back from a checkout: the credits arrive with Polar's `order.paid` webhook, which may come after the buyer does,
 * so the balance is read again until they are there (or a minute has passed).
 */
async function returnFromCheckout(checkoutId: string): Promise<void> {
  const url = new URL(location.href);
  url.searchParams.delete("checkout");
  history.replaceState(null, "", url);
  const pending = JSON.parse(sessionStorage.getItem(CHECKOUT_KEY) ?? "null") as {
    id: string;
    credits: number;
    before: number;
  } | null;
  sessionStorage.removeItem(CHECKOUT_KEY);
  if (!state.user) return;
  if (!pending || pending.id !== checkoutId) {
    notify("Payment received. Credits appear once the payment is confirmed.");
    return;
  }
  notify("Payment received; waiting for the confirmation…");
  for (let i = 0; i < 60; i++) {
    await refreshBalance();
    if ((state.balance ?? 0) >= pending.before + pending.credits) {
      notify(`${pending.credits} credits added.`);
      document.body.dataset.checkout = "credited";
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  notify("Payment received. The credits have not arrived yet; reload the page in a minute.");
}

// ---------------------------------------------------------------------------------------------------------------
// What costs what: disabled actions say why

function selectedModel(): Model | undefined {
  return state.models.find((m) => m.id === ui.model.value);
}

function generationPrice(): number {
  return selectedModel()?.creditsPerImage ?? 1;
}

function gate(): void {
  const balance = state.balance;
  const known = balance !== undefined;
  const price = generationPrice();
  ui.price.textContent = state.models.length ? `${price} credit${price === 1 ? "" : "s"}` : "";
  const short = known && balance < price;
  ui.create.disabled = !known || short || state.creating || state.models.length === 0;
  ui.createBlocked.textContent = short
    ? `You have ${balance} credit${balance === 1 ? "" : "s"} and a logo costs ${price}. Buy credits to generate.`
    : "";
  for (const k of state.kinds) {
    const enough = known && balance >= k.info.credits;
    k.button.disabled = !enough;
    k.button.title = enough ? "" : `Needs ${k.info.credits} credits; you have ${balance ?? 0}.`;
    const needs = k.form.querySelector<HTMLElement>("small.needs");
    if (needs) needs.textContent = known && !enough ? `You have ${balance}.` : "";
  }
  const cheapest = Math.min(...state.kinds.map((k) => k.info.credits));
  ui.orderBlocked.textContent =
    known && state.kinds.length && state.kinds.some((k) => balance < k.info.credits)
      ? balance < cheapest
        ? `You have ${balance} credit${balance === 1 ? "" : "s"}; deliverables cost ${cheapest} or more. Buy credits to order.`
        : `You have ${balance} credits: the kinds that cost more are disabled.`
      : "";
}

// ---------------------------------------------------------------------------------------------------------------
// The logo form

async function loadCatalog(): Promise<void> {
  const [models, kinds] = await Promise.all([api.GET("/api/models"), api.GET("/api/assets/kinds")]);
  state.models = unwrap(models).data;
  ui.model.replaceChildren(
    ...state.models.map((m) =>
      el("option", {
        value: m.id,
        textContent: `${m.name} · ${m.creditsPerImage} credit${m.creditsPerImage === 1 ? "" : "s"}`,
      }),
    ),
  );
  ui.style.replaceChildren(
    el("option", { value: "", textContent: "(any)" }),
    ...STYLES.map((s) => el("option", { value: s, textContent: s, selected: s === "minimal" })),
  );
  ui.colors.replaceChildren(
    ...DEFAULT_COLORS.slice(0, MAX_COLORS).map((c, i) => {
      const label = el("label");
      const use = el("input", { type: "checkbox", checked: i < 2, id: `color-use-${i}` });
      const pick = el("input", { type: "color", value: c.toLowerCase(), id: `color-${i}` });
      pick.setAttribute("aria-label", `Colour ${i + 1}`);
      label.append(use, pick);
      return label;
    }),
  );
  renderKinds(unwrap(kinds).data);
  gate();
}

function chosenColors(): string[] {
  const colors: string[] = [];
  for (let i = 0; i < MAX_COLORS; i++)
    if ($<HTMLInputElement>(`color-use-${i}`)?.checked)
      colors.push($<HTMLInputElement>(`color-${i}`).value.toUpperCase());
  return colors;
}

async function createPrediction(): Promise<void> {
  state.creating = true;
  gate();
  try {
    const style = ui.style.value as Schemas["LogoStyle"] | "";
    const created = unwrap(
      await api.POST("/api/predictions", {
        params: { header: { "idempotency-key": crypto.randomUUID() } },
        body: {
          brandName: ui.brand.value.trim(),
          model: ui.model.value as Model["id"],
          ...(ui.description.value.trim() ? { description: ui.description.value.trim() } : {}),
          ...(style ? { style } : {}),
          colors: chosenColors(),
        },
      }),
    );
    state.awaited = created.id;
    upsertPrediction(created, "top");
    await refreshBalance();
    void followPrediction(created);
  } finally {
    state.creating = false;
    gate();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Following a prediction or an asset

const FINAL = new Set(["succeeded", "failed", "canceled"]);

/**
 * Follows a prediction or an asset to a final state: its stream (`EventSource`, cookie included), and long polls
 * (`Prefer: wait=10`) when the stream fails before its first event — a proxy that buffers streams, say. After a
 * first event, a dropped stream is left to EventSource's own reconnection (it resends `Last-Event-ID`).
 */
function follow<T extends { status: string }>(
  streamPath: string,
  poll: () => Promise<T>,
  onUpdate: (value: T, via: "stream" | "polling") => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let received = false;
    const source = new EventSource(`${API}${streamPath}`, { withCredentials: true });
    const onEvent = (final: boolean) => (e: MessageEvent<string>) => {
      received = true;
      const value = JSON.parse(e.data) as T;
      onUpdate(value, "stream");
      if (final || FINAL.has(value.status)) {
        source.close();
        resolve(value);
      }
    };
    source.addEventListener("status", onEvent(false));
    source.addEventListener("done", onEvent(true));
    source.addEventListener("error", () => {
      if (received && source.readyState !== EventSource.CLOSED) return; // reconnecting with Last-Event-ID
      source.close();
      if (received) return reject(new Error("The stream closed before the result."));
      void (async () => {
        for (;;) {
          const value = await poll();
          onUpdate(value, "polling");
          if (FINAL.has(value.status)) return value;
        }
      })().then(resolve, reject);
    });
  });
}

async function followPrediction(p: Prediction): Promise<void> {
  const final = await follow<Prediction>(
    p.urls.stream,
    async () =>
      unwrap(await api.GET("/api/predictions/{id}", { params: { path: { id: p.id }, header: { prefer: "wait=10" } } })),
    (value, via) => upsertPrediction(value, "keep", via),
  );
  if (final.status !== "succeeded") {
    showError(new Error(final.error?.message ?? `The logo ${final.status}.`));
    await refreshBalance();
  }
}

async function followAsset(a: Asset): Promise<void> {
  const final = await follow<Asset>(
    a.urls.stream,
    async () =>
      unwrap(await api.GET("/api/assets/{id}", { params: { path: { id: a.id }, header: { prefer: "wait=10" } } })),
    (value, via) => upsertAsset(value, via),
  );
  if (final.status !== "succeeded") {
    showError(new Error(final.error?.message ?? `The deliverable ${final.status}.`));
    await refreshBalance();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// History

async function loadHistory(cursor?: string): Promise<void> {
  const page = unwrap(
    await api.GET("/api/predictions", { params: { query: { limit: PAGE, ...(cursor ? { cursor } : {}) } } }),
  );
  state.nextCursor = page.nextCursor ?? null;
  ui.more.hidden = !state.nextCursor;
  for (const p of page.data) upsertPrediction(p, "bottom");
  ui.historyEmpty.hidden = state.predictions.size > 0;
  await Promise.all(page.data.filter((p) => p.status === "succeeded").map((p) => loadAssets(p.id)));
  for (const p of page.data) if (!FINAL.has(p.status)) void followPrediction(p).catch(showError);
  restoreSelection();
  document.body.dataset.history = "loaded";
}

async function loadAssets(predictionId: string): Promise<void> {
  const page = unwrap(
    await api.GET("/api/predictions/{id}/assets", { params: { path: { id: predictionId }, query: { limit: 100 } } }),
  );
  // Oldest first in the card, as they were ordered.
  for (const a of [...page.data].reverse()) {
    upsertAsset(a);
    if (!FINAL.has(a.status)) void followAsset(a).catch(showError);
  }
}

function card(id: string): HTMLLIElement | null {
  return ui.history.querySelector<HTMLLIElement>(`li.card[data-id="${id}"]`);
}

function upsertPrediction(p: Prediction, where: "top" | "bottom" | "keep", via = ""): void {
  state.predictions.set(p.id, p);
  let li = card(p.id);
  if (!li) {
    li = el("li", { className: "card" });
    li.dataset.id = p.id;
    li.innerHTML = `<div class="card-head"><div class="outputs"></div><div class="meta">
      <p><strong class="brand"></strong> <span class="status"></span> <small class="via"></small></p>
      <p class="details muted"></p><p class="created muted"></p>
      <div class="row"><button type="button" class="make">Deliverables…</button></div></div></div>
      <div class="deliverables"></div>`;
    li.querySelector(".make")?.addEventListener("click", () =>
      select(p.id, state.selected?.id === p.id ? state.selected.output : 0),
    );
    if (where === "top") ui.history.prepend(li);
    else ui.history.append(li);
    ui.historyEmpty.hidden = true;
  }
  li.dataset.status = p.status;
  const q = (s: string) => li.querySelector(s) as HTMLElement;
  q(".brand").textContent = p.input.brandName;
  const status = q(".status");
  status.textContent = p.status;
  status.dataset.status = p.status;
  q(".via").textContent = via && !FINAL.has(p.status) ? `(via ${via})` : "";
  q(".via").dataset.via = via || q(".via").dataset.via || "";
  const model = state.models.find((m) => m.id === p.model)?.name ?? p.model;
  q(".details").replaceChildren(
    document.createTextNode([model, p.input.style].filter(Boolean).join(" · ")),
    ...p.input.colors.map((c) => {
      const swatch = el("span", { title: c });
      swatch.style.cssText = `display:inline-block;width:.9em;height:.9em;margin-left:.3em;border-radius:2px;vertical-align:-.1em;background:${c}`;
      return swatch;
    }),
  );
  q(".created").textContent = new Date(p.createdAt).toLocaleString();
  const outputs = q(".outputs");
  if (p.status === "succeeded" && p.output) {
    if (outputs.childElementCount !== p.output.length || outputs.dataset.ready !== "true") {
      outputs.dataset.ready = "true";
      outputs.replaceChildren(
        ...p.output.map((url, i) => {
          const b = el("button", { type: "button", title: `Image ${i + 1}` });
          b.dataset.output = String(i);
          b.setAttribute("aria-pressed", "false");
          b.append(el("img", { src: url, alt: `${p.input.brandName} logo ${i + 1}`, loading: "lazy" }));
          b.addEventListener("click", () => select(p.id, i));
          return b;
        }),
      );
    }
  } else {
    outputs.replaceChildren(el("small", { textContent: FINAL.has(p.status) ? "No image" : "Generating…" }));
  }
  (q(".make") as HTMLButtonElement).hidden = p.status !== "succeeded";
  if (state.selected?.id === p.id) select(p.id, state.selected.output);
  else if (state.awaited === p.id && p.status === "succeeded") {
    state.awaited = undefined;
    select(p.id, 0);
  }
}

const KIND_FILE_PREVIEWS = 4;

function upsertAsset(a: Asset, via = ""): void {
  const list = state.assets.get(a.predictionId) ?? [];
  const i = list.findIndex((x) => x.id === a.id);
  if (i >= 0) list[i] = a;
  else list.push(a);
  state.assets.set(a.predictionId, list);
  const holder = card(a.predictionId)?.querySelector<HTMLElement>(".deliverables");
  if (!holder) return;
  let tile = holder.querySelector<HTMLElement>(`.asset[data-id="${a.id}"]`);
  if (!tile) {
    tile = el("div", { className: "asset" });
    tile.dataset.id = a.id;
    tile.dataset.kind = a.kind;
    holder.append(tile);
  }
  tile.dataset.status = a.status;
  const name = state.kinds.find((k) => k.info.kind === a.kind)?.info.name ?? a.kind;
  const status = el("span", { className: "status", textContent: a.status });
  status.dataset.status = a.status;
  const options = Object.entries(a.options ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  const head = el("div");
  head.append(el("strong", { textContent: name }), document.createTextNode(" "), status);
  if (via && !FINAL.has(a.status)) head.append(el("small", { textContent: ` (via ${via})` }));
  const parts: HTMLElement[] = [head];
  if (options) parts.push(el("small", { className: "options", textContent: options }));
  if (a.status === "succeeded") {
    const images = a.files.filter((f) => f.contentType.startsWith("image/") && f.contentType !== "image/x-icon");
    const previews = el("div", { className: "previews" });
    for (const f of images.slice(0, KIND_FILE_PREVIEWS))
      previews.append(el("img", { src: f.url, alt: f.name, title: f.name, loading: "lazy" }));
    if (images.length) parts.push(previews);
    const links = el("ul");
    for (const f of a.files) {
      const li = el("li");
      const link = el("a", { href: downloadUrl(f.url, f.name), textContent: f.name, className: "download" });
      link.download = f.name; // ignored across origins; the server's Content-Disposition names it
      li.append(link, el("small", { textContent: ` ${formatBytes(f.bytes)}` }));
      links.append(li);
    }
    parts.push(links);
  } else if (a.status === "failed" && a.error) {
    parts.push(el("small", { textContent: a.error.message }));
  }
  tile.replaceChildren(...parts);
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

/** The file's URL asking for a download under its own name, when it is served by the API's /files/. */
export function downloadUrl(url: string, name: string): string {
  const u = new URL(url);
  if (u.origin === new URL(API).origin && u.pathname.startsWith("/files/")) u.searchParams.set("download", name);
  return u.toString();
}

// ---------------------------------------------------------------------------------------------------------------
// Ordering deliverables: a form per kind, from the kind's JSON Schema

function renderKinds(kinds: KindInfo[]): void {
  state.kinds = kinds.map((info) => {
    const form = el("form", { className: "kind" });
    form.dataset.kind = info.kind;
    form.noValidate = true; // readForm checks against the schema and says what is wrong by the field
    form.append(
      el("h3", { textContent: info.name }),
      el("p", { className: "muted", textContent: info.description.replace(/`([^`]*)`/g, "$1") }),
    );
    const fields = fieldsOf(info.options as JsonSchema | undefined);
    const controls = el("div");
    renderFields(controls, fields, `kind-${info.kind}`);
    const button = el("button", {
      type: "submit",
      className: "primary order",
      textContent: `Order · ${info.credits} credit${info.credits === 1 ? "" : "s"}`,
    });
    const row = el("div", { className: "row" });
    row.append(button, el("small", { className: "needs" }));
    form.append(controls, row);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      action(() => orderAsset(info, fields, controls, button))();
    });
    ui.kinds.append(form);
    return { info, fields, form, button };
  });
}

async function orderAsset(info: KindInfo, fields: Field[], controls: HTMLElement, button: HTMLButtonElement) {
  const target = state.selected;
  if (!target) return;
  const { options, errors } = readForm(controls, fields);
  if (Object.keys(errors).length) return;
  button.disabled = true;
  try {
    const body = {
      kind: info.kind,
      outputIndex: target.output,
      ...(fields.length ? { options } : {}),
    } as Schemas["CreateAssetRequest"];
    const created = unwrap(
      await api.POST("/api/predictions/{id}/assets", {
        params: { path: { id: target.id }, header: { "idempotency-key": crypto.randomUUID() } },
        body,
      }),
    );
    upsertAsset(created);
    await refreshBalance();
    await followAsset(created);
  } finally {
    gate();
  }
}

/** Opens the order forms under a logo's card (one of its images); the choice is kept in the URL's hash. */
function select(id: string, output: number): void {
  const p = state.predictions.get(id);
  const li = card(id);
  if (!p || !li || p.status !== "succeeded") return;
  for (const other of ui.history.querySelectorAll<HTMLElement>("li.card[data-selected=true]"))
    if (other !== li) other.dataset.selected = "false";
  state.selected = { id, output };
  li.dataset.selected = "true";
  for (const b of li.querySelectorAll<HTMLButtonElement>(".outputs button"))
    b.setAttribute("aria-pressed", String(Number(b.dataset.output) === output));
  ui.orderTarget.textContent = `${p.input.brandName}${(p.output?.length ?? 0) > 1 ? `, image ${output + 1}` : ""}`;
  if (ui.orderPanel.parentElement !== li) li.append(ui.orderPanel);
  ui.orderPanel.hidden = false;
  const hash = `#logo=${id}&image=${output}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
  gate();
}

function restoreSelection(): void {
  if (state.selected) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const id = params.get("logo");
  if (id && state.predictions.has(id)) {
    select(id, Number(params.get("image") ?? 0) || 0);
    return;
  }
  const newest = [...state.predictions.values()].find((p) => p.status === "succeeded");
  if (newest) select(newest.id, 0);
}

// ---------------------------------------------------------------------------------------------------------------

ui.apiBase.textContent = API;
ui.tabSignIn.addEventListener("click", () => selectTab("sign-in"));
ui.tabSignUp.addEventListener("click", () => selectTab("sign-up"));
ui.signInForm.addEventListener("submit", (e) => {
  e.preventDefault();
  action(signIn)();
});
ui.signUpForm.addEventListener("submit", (e) => {
  e.preventDefault();
  action(signUp)();
});
ui.guest.addEventListener("click", action(continueAsGuest));
ui.signOut.addEventListener("click", action(signOut));
ui.model.addEventListener("change", gate);
ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  action(createPrediction)();
});
ui.more.addEventListener(
  "click",
  action(async () => {
    if (state.nextCursor) await loadHistory(state.nextCursor);
  }),
);

const returningFrom = new URLSearchParams(location.search).get("checkout");
loadCatalog()
  .then(loadSession)
  .then(() => (returningFrom ? returnFromCheckout(returningFrom) : undefined))
  .catch(showError)
  .finally(() => {
    document.body.dataset.ready = "true";
  });
