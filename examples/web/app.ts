/**
 * A small frontend on the Logo API: openapi-fetch with the repository's generated types, plain DOM.
 *
 * It runs on its own origin (http://localhost:5173 by `npm run example:web`) against the API (default
 * http://localhost:3000), so everything a real frontend meets is here: the session cookie on a cross-origin
 * API (`credentials: "include"`), CORS preflights for `Idempotency-Key` and `Prefer`, a stream read by
 * `EventSource` with `withCredentials`, images and a download served by the API.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "../../openapi/schema";

type Prediction = components["schemas"]["Prediction"];
type Asset = components["schemas"]["Asset"];
type ErrorEnvelope = components["schemas"]["Error"];

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
const ui = {
  apiBase: $("api-base"),
  error: $("error"),
  signIn: $<HTMLButtonElement>("sign-in"),
  who: $("who"),
  balance: $("balance"),
  form: $<HTMLFormElement>("create-form"),
  brand: $<HTMLInputElement>("brand"),
  create: $<HTMLButtonElement>("create"),
  predictionStatus: $("prediction-status"),
  predictionVia: $("prediction-via"),
  image: $<HTMLImageElement>("image"),
  orderKit: $<HTMLButtonElement>("order-kit"),
  kitStatus: $("kit-status"),
  kitVia: $("kit-via"),
  download: $<HTMLAnchorElement>("download"),
};

let prediction: Prediction | undefined;

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
}

/** openapi-fetch's answer as data, or an ApiError with the envelope. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined)
    throw new ApiError(result.response.status, result.error as ErrorEnvelope | undefined);
  return result.data;
}

async function refreshBalance(): Promise<void> {
  const credits = unwrap(await api.GET("/api/credits"));
  ui.balance.textContent = String(credits.balance);
}

async function loadSession(): Promise<void> {
  const { data } = await api.GET("/api/auth/get-session");
  const user = (data as { user?: { id: string; isAnonymous?: boolean | null } } | null | undefined)?.user;
  if (!user) return;
  signedIn(user);
  await refreshBalance();
}

function signedIn(user: { id: string; isAnonymous?: boolean | null }): void {
  ui.who.textContent = user.isAnonymous ? "Signed in as a guest." : "Signed in.";
  ui.signIn.disabled = true;
  ui.create.disabled = false;
  document.body.dataset.signedIn = "true";
}

async function signInAsGuest(): Promise<void> {
  // Better Auth answers with a Set-Cookie; the browser keeps it for the API's origin.
  const session = unwrap(await api.POST("/api/auth/sign-in/anonymous"));
  if (session.user) signedIn(session.user);
  await refreshBalance();
}

const FINAL = new Set(["succeeded", "failed", "canceled"]);

/**
 * Follows a prediction or an asset to a final state: its stream (`EventSource`, cookie included) when the
 * server offers one, and long polls (`Prefer: wait=10`) when the stream fails before its first event — a
 * server without streams, or a proxy that buffers them. After a first event, a dropped stream is left to
 * EventSource's own reconnection (it resends `Last-Event-ID`).
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

function streamOf(resource: { urls: { get: string } }): string {
  // `urls.stream` names the stream where the server has one; its path is the resource's plus /events.
  return (resource.urls as { get: string; stream?: string }).stream ?? `${resource.urls.get}/events`;
}

async function createPrediction(brandName: string): Promise<void> {
  ui.image.removeAttribute("src");
  ui.download.hidden = true;
  ui.orderKit.disabled = true;
  ui.create.disabled = true;
  try {
    const created = unwrap(
      await api.POST("/api/predictions", {
        params: { header: { "idempotency-key": crypto.randomUUID() } },
        body: { brandName, style: "minimal" },
      }),
    );
    showPrediction(created, "");
    await refreshBalance();
    const final = await follow<Prediction>(
      streamOf(created),
      async () =>
        unwrap(
          await api.GET("/api/predictions/{id}", {
            params: { path: { id: created.id }, header: { prefer: "wait=10" } },
          }),
        ),
      showPrediction,
    );
    prediction = final;
    if (final.status !== "succeeded") {
      showError(new Error(final.error?.message ?? `The prediction ${final.status}.`));
      await refreshBalance();
      return;
    }
    const url = final.output?.[0];
    if (url) {
      ui.image.src = url;
      await ui.image.decode();
      document.body.dataset.image = "shown";
    }
    ui.orderKit.disabled = false;
  } finally {
    ui.create.disabled = false;
  }
}

function showPrediction(p: Prediction, via: string): void {
  ui.predictionStatus.textContent = p.status;
  ui.predictionStatus.dataset.status = p.status;
  ui.predictionVia.textContent = via ? `(via ${via})` : "";
  ui.predictionVia.dataset.via = via;
}

function showAsset(a: Asset, via: string): void {
  ui.kitStatus.textContent = a.status;
  ui.kitStatus.dataset.status = a.status;
  ui.kitVia.textContent = via ? `(via ${via})` : "";
  ui.kitVia.dataset.via = via;
}

/** The file's URL asking for a download under its own name, when it is served by the API's /files/. */
export function downloadUrl(url: string, name: string): string {
  const u = new URL(url);
  if (u.origin === new URL(API).origin && u.pathname.startsWith("/files/")) u.searchParams.set("download", name);
  return u.toString();
}

async function orderBrandKit(): Promise<void> {
  if (!prediction) return;
  ui.orderKit.disabled = true;
  ui.download.hidden = true;
  try {
    const created = unwrap(
      await api.POST("/api/predictions/{id}/assets", {
        params: { path: { id: prediction.id }, header: { "idempotency-key": crypto.randomUUID() } },
        body: { kind: "brand-kit" },
      }),
    );
    showAsset(created, "");
    await refreshBalance();
    const final = await follow<Asset>(
      streamOf(created),
      async () =>
        unwrap(
          await api.GET("/api/assets/{id}", { params: { path: { id: created.id }, header: { prefer: "wait=10" } } }),
        ),
      showAsset,
    );
    if (final.status !== "succeeded") {
      showError(new Error(final.error?.message ?? `The brand kit ${final.status}.`));
      await refreshBalance();
      return;
    }
    const zip = final.files.find((f) => f.name.endsWith(".zip")) ?? final.files[0];
    if (zip) {
      ui.download.href = downloadUrl(zip.url, zip.name);
      ui.download.download = zip.name; // ignored across origins; the server's Content-Disposition names it
      ui.download.hidden = false;
      ui.download.textContent = `Download ${zip.name} (${Math.round(zip.bytes / 1024)} KiB)`;
    }
  } finally {
    ui.orderKit.disabled = false;
  }
}

/** Runs a user action: one error shown at a time, and the balance kept current. */
function action(run: () => Promise<void>): () => void {
  return () => {
    clearError();
    run().catch(showError);
  };
}

ui.apiBase.textContent = API;
ui.signIn.addEventListener("click", action(signInAsGuest));
ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  action(() => createPrediction(ui.brand.value.trim() || "Acme"))();
});
ui.orderKit.addEventListener("click", action(orderBrandKit));
loadSession()
  .catch(showError)
  .finally(() => {
    document.body.dataset.ready = "true";
  });
