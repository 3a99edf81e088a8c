/**
 * The Eachlabs client: create, get and cancel predictions over HTTP (`{base}/v1/prediction`, its id field is
 * `predictionID`), each call bounded by its own timeout. Every failure is a typed ProviderError; the provider's
 * own message stays in it for logs.
 */
import { isRecord } from "../../lib/validation";
import { interpretEachlabsPrediction } from "./eachlabs-response";
import { type GenerationProvider, ProviderError, type ProviderPrediction } from "./provider";

export interface EachlabsOptions {
  apiKey: string;
  /** e.g. https://api.eachlabs.ai — with or without a trailing slash. */
  baseUrl: string;
  /** Per call (EACHLABS_TIMEOUT_MS). */
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** Older models still expect it; the current API ignores it. */
const MODEL_VERSION = "0.0.1";
/** How much of a non-JSON or error body we keep for logs. */
const MAX_LOGGED_BODY = 500;

type Method = "GET" | "POST";
interface Answer {
  status: number;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  json: unknown;
  text: string;
}

/** The `error` (or `message` / `detail`) string of an Eachlabs error body, else the start of the raw text. */
function providerMessageOf(answer: Answer): string | undefined {
  const j = answer.json;
  if (isRecord(j)) {
    for (const key of ["error", "message", "detail"]) {
      const v = j[key];
      if (typeof v === "string" && v.trim()) return v.trim().slice(0, MAX_LOGGED_BODY);
    }
  }
  const text = answer.text.trim();
  return text ? text.slice(0, MAX_LOGGED_BODY) : undefined;
}

export function createEachlabsProvider(options: EachlabsOptions): GenerationProvider {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const headers = {
    Accept: "application/json",
    // older docs use X-API-Key, current ones Authorization: Bearer — send both
    "X-API-Key": options.apiKey,
    Authorization: `Bearer ${options.apiKey}`,
  };

  /**
   * Redirects are followed only within the Eachlabs origin (at most 3): fetch would carry the custom
   * X-API-Key header to any host a redirect names (it drops only Authorization across origins).
   * Only method-keeping redirects (307/308) are followed for writes.
   */
  async function fetchFollowingSameOrigin(first: string, what: string, init: RequestInit): Promise<Response> {
    const origin = new URL(base).origin;
    let url = first;
    for (let hop = 0; ; hop++) {
      const res = await doFetch(url, { ...init, redirect: "manual" });
      const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
      if (!location) return res;
      await res.body?.cancel();
      const next = new URL(location, url);
      const keepsMethod = res.status === 307 || res.status === 308 || init.method === "GET";
      if (next.origin !== origin || hop >= 3 || !keepsMethod)
        throw new ProviderError(
          `${what} answered a ${res.status} redirect to ${next.origin === origin ? next.pathname : "another host"}; not followed`,
          "http",
          res.status,
        );
      url = next.href;
    }
  }

  async function call(method: Method, path: string, body?: unknown): Promise<Answer> {
    const what = `Eachlabs ${method} ${path}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    try {
      const res = await fetchFollowingSameOrigin(`${base}${path}`, what, {
        method,
        headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      // the timeout covers reading the body too: a server may send headers and then stall
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      if (controller.signal.aborted) {
        throw new ProviderError(`${what} timed out after ${options.timeoutMs} ms`, "timeout");
      }
      const reason = e instanceof Error ? e.message : String(e);
      throw new ProviderError(`${what} failed: ${reason}`, "network", undefined, reason);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Non-2xx → "http" (404 → "not_found" where the caller says so); 2xx without a JSON body → "malformed". */
  function expectJson(answer: Answer, what: string, notFoundKind: boolean): unknown {
    if (answer.status < 200 || answer.status > 299) {
      const providerMessage = providerMessageOf(answer);
      const kind = notFoundKind && answer.status === 404 ? "not_found" : "http";
      throw new ProviderError(
        `${what} answered ${answer.status}${providerMessage ? `: ${providerMessage}` : ""}`,
        kind,
        answer.status,
        providerMessage,
        answer.json ?? answer.text.slice(0, MAX_LOGGED_BODY),
      );
    }
    if (answer.json === undefined) {
      throw new ProviderError(
        `${what} answered ${answer.status} without a JSON body`,
        "malformed",
        answer.status,
        undefined,
        answer.text.slice(0, MAX_LOGGED_BODY),
      );
    }
    return answer.json;
  }

  const predictionPath = (id: string) => `/v1/prediction/${encodeURIComponent(id)}`;

  return {
    mode: "eachlabs",

    async create({ slug, input, webhookUrl }) {
      const body = { model: slug, version: MODEL_VERSION, input, ...(webhookUrl ? { webhook_url: webhookUrl } : {}) };
      let answer = await call("POST", "/v1/prediction", body);
      // older deployments only route the trailing-slash form of the create path: a router-level 404/405 (no
      // Eachlabs `{error}` body, which would mean the route exists and refused us) is tried once there
      const eachlabsError = isRecord(answer.json) && typeof answer.json.error === "string";
      if ((answer.status === 404 || answer.status === 405) && !eachlabsError) {
        answer = await call("POST", "/v1/prediction/", body);
      }
      const json = expectJson(answer, "Eachlabs create", false);
      // the id field is `predictionID`, not `id`
      const rawId = isRecord(json) ? json.predictionID : undefined;
      const id = typeof rawId === "number" ? String(rawId) : typeof rawId === "string" ? rawId.trim() : "";
      if (!id || id.length > 255) {
        throw new ProviderError(
          `Eachlabs create answered ${answer.status} without a predictionID`,
          "malformed",
          answer.status,
          isRecord(json) ? providerMessageOf(answer) : undefined,
          json,
        );
      }
      return { id, raw: json };
    },

    async get(id): Promise<ProviderPrediction> {
      const what = `Eachlabs get ${id}`;
      const json = expectJson(await call("GET", predictionPath(id)), what, true);
      if (!isRecord(json)) {
        throw new ProviderError(`${what} answered a non-object`, "malformed", 200, undefined, json);
      }
      return interpretEachlabsPrediction(id, json);
    },

    async cancel(id) {
      const answer = await call("POST", `${predictionPath(id)}/cancel`);
      if (answer.status === 404) {
        throw new ProviderError(`Eachlabs cancel ${id} answered 404`, "not_found", 404, providerMessageOf(answer));
      }
      if (answer.status < 200 || answer.status > 299) {
        const providerMessage = providerMessageOf(answer);
        throw new ProviderError(
          `Eachlabs cancel ${id} answered ${answer.status}${providerMessage ? `: ${providerMessage}` : ""}`,
          "http",
          answer.status,
          providerMessage,
          answer.json,
        );
      }
    },
  };
}
