import { randomUUID } from "node:crypto";
import { ASSET_KINDS } from "../../src/services/deliverables";

/**
 * The fleet test's clients: virtual users doing through nginx what users do — guests and sign-ups (a guest
 * now and then signs up and is linked), predictions (some with a webhook), polling with `Prefer: wait` or a
 * stream when the server has them, deliverables (vector, transparent, now and then a brand kit), credits and
 * ledgers. Every request has a bound; every POST carries an Idempotency-Key and is retried with the same key
 * when the answer says it may not have run (a 502 from nginx, no answer) or could not run yet (503, 409 in
 * flight), as a careful client does.
 */

export interface LoadOptions {
  baseUrl: string;
  origin: string;
  webhookUrl: string;
  users: number;
  durationMs: number;
  /** Follow predictions and assets by their event streams (when the server has them). */
  streams: boolean;
  /** Total requests at most (the load stops creating work past it). */
  maxRequests: number;
}

/** What a request answered: "502 nginx" (the proxy found no instance) is told apart from the API's own 502. */
type StatusKey = string;

export interface StreamRecord {
  what: string;
  /** Connections made for it (1 + resumptions). */
  connections: number;
  done: boolean;
  /** Why it neither ended with done nor resumed. */
  lost?: string;
}

export class LoadStats {
  sent = 0;
  byStatus = new Map<StatusKey, number>();
  pastBound: string[] = [];
  serverErrors: string[] = [];
  unanswered: string[] = [];
  gaveUp: string[] = [];
  /** 4xx answers other than 402 (a short balance) and 409 (an Idempotency-Key in flight): worth a look. */
  clientErrors: string[] = [];
  streams: StreamRecord[] = [];
  counts = {
    guests: 0,
    signups: 0,
    linked: 0,
    predictions: 0,
    predictionsWithWebhook: 0,
    assets: 0,
    brandKits: 0,
    postRetries: 0,
    replayed: 0,
  };
  count(key: StatusKey) {
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
  }
}

interface Answer {
  status: number;
  key: StatusKey;
  json: unknown;
  headers: Headers;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
const jitter = (min: number, max: number) => min + Math.random() * (max - min);

export interface Identity {
  label: string;
  token: string;
  guest: boolean;
  /** The address this user appears from (nginx appends its peer; the instances trust 127.0.0.1). */
  address: string;
}

export function createLoad(opts: LoadOptions) {
  const stats = new LoadStats();
  const started = Date.now();
  const end = started + opts.durationMs;
  const running = () => Date.now() < end && stats.sent < opts.maxRequests;

  async function request(
    what: string,
    method: string,
    path: string,
    o: { who?: Identity; body?: unknown; headers?: Record<string, string>; boundMs?: number; expect?: number[] } = {},
  ): Promise<Answer> {
    const bound = o.boundMs ?? 15_000;
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.who) {
      headers.authorization = `Bearer ${o.who.token}`;
      headers["x-forwarded-for"] = o.who.address;
    }
    if (o.body !== undefined) headers["content-type"] = "application/json";
    stats.sent++;
    const t0 = Date.now();
    try {
      const res = await fetch(`${opts.baseUrl}${path}`, {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        signal: AbortSignal.timeout(bound),
        redirect: "manual",
      });
      const text = await res.text();
      const type = res.headers.get("content-type") ?? "";
      let json: unknown;
      if (type.includes("json") && text) json = JSON.parse(text);
      const fromProxy = (res.status === 502 || res.status === 504) && !type.includes("json");
      const key = fromProxy ? `${res.status} nginx` : String(res.status);
      stats.count(key);
      if (
        res.status >= 400 &&
        res.status < 500 &&
        res.status !== 402 &&
        res.status !== 409 &&
        !o.expect?.includes(res.status)
      )
        stats.clientErrors.push(`${what}: ${method} ${path} → ${res.status} ${text.slice(0, 200)}`);
      if (res.status === 500 || (res.status > 503 && !fromProxy) || res.status === 504)
        stats.serverErrors.push(`${what}: ${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
      return { status: res.status, key, json, headers: res.headers };
    } catch (err) {
      const name = (err as Error).name;
      if (name === "TimeoutError" || name === "AbortError") {
        stats.count("past bound");
        stats.pastBound.push(`${what}: ${method} ${path} after ${Date.now() - t0} ms (bound ${bound} ms)`);
      } else {
        stats.count("no answer");
        stats.unanswered.push(`${what}: ${method} ${path}: ${(err as Error).message}`);
      }
      return { status: 0, key: "none", json: undefined, headers: new Headers() };
    }
  }

  /** A POST with an Idempotency-Key, retried with the same key while its outcome is unknown or it could not run yet. */
  async function post(what: string, path: string, who: Identity, body: unknown): Promise<Answer> {
    const key = randomUUID();
    const deadline = Date.now() + 40_000;
    for (let attempt = 1; ; attempt++) {
      const a = await request(what, "POST", path, { who, body, headers: { "idempotency-key": key } });
      const retry = a.status === 0 || a.key === "502 nginx" || a.status === 503 || a.status === 409 || a.status === 429;
      // 409 is also "the prediction is not succeeded" for assets: that one is final.
      const inFlight =
        a.status !== 409 || (a.json as { error?: { message?: string } })?.error?.message?.includes("Idempotency-Key");
      if (a.headers.get("idempotent-replayed") === "true") stats.counts.replayed++;
      if (!retry || !inFlight) return a;
      if (Date.now() > deadline) {
        stats.gaveUp.push(`${what}: POST ${path} still ${a.key} after ${attempt} attempts`);
        return a;
      }
      stats.counts.postRetries++;
      const after = Number(a.headers.get("retry-after"));
      await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 3) * 1000 : jitter(300, 1000));
    }
  }

  /** Better Auth's POSTs (no Idempotency-Key there): a retry of a lost sign-up that did run finds the email taken. */
  async function auth(what: string, path: string, body: unknown, address: string, bearer?: string) {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const headers: Record<string, string> = { origin: opts.origin, "x-forwarded-for": address };
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      const a = await request(what, "POST", path, { body, headers });
      if (a.status === 200) return a.headers.get("set-auth-token");
      if (a.status !== 0 && a.key !== "502 nginx" && a.status !== 503 && a.status !== 429) return null;
      await sleep(jitter(300, 1000));
    }
    return null;
  }

  async function newIdentity(vu: number, n: number): Promise<Identity | null> {
    const address = `10.${vu}.${(n >> 8) & 255}.${n & 255}`;
    const label = `vu${vu}.${n}`;
    if (Math.random() < 0.5) {
      const token = await auth("guest", "/api/auth/sign-in/anonymous", undefined, address);
      if (!token) return null;
      stats.counts.guests++;
      return { label, token, guest: true, address };
    }
    const email = `fleet-${label}-${randomUUID().slice(0, 8)}@example.com`;
    const token = await signUp(email, address);
    return token ? { label, token, guest: false, address } : null;
  }

  async function signUp(email: string, address: string, guestToken?: string) {
    const password = "fleet-test-password-1";
    const token =
      (await auth("sign-up", "/api/auth/sign-up/email", { email, password, name: "Fleet" }, address, guestToken)) ??
      (await auth("sign-in", "/api/auth/sign-in/email", { email, password }, address));
    if (token) stats.counts.signups++;
    return token;
  }

  const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

  /** Until the resource is final (or the client gives up): Prefer: wait polls, or its stream. */
  async function follow(what: string, path: string, who: Identity): Promise<Record<string, unknown> | null> {
    if (opts.streams && Math.random() < 0.5) {
      const viaStream = await stream(what, `${path}/events`, who);
      if (viaStream) return viaStream;
    }
    // Bounded: 60 s, and at most 15 s past the end of the load.
    const deadline = Math.min(Date.now() + 60_000, end + 15_000);
    while (Date.now() < deadline) {
      const a = await request(`${what} wait`, "GET", path, {
        who,
        headers: { prefer: "wait=8" },
        boundMs: 8_000 + 15_000,
      });
      const body = a.json as Record<string, unknown> | undefined;
      if (a.status === 200 && TERMINAL.has(String(body?.status))) return body ?? null;
      if (a.status !== 200) await sleep(jitter(300, 800));
    }
    stats.gaveUp.push(`${what}: ${path} not final when the client stopped polling`);
    return null;
  }

  /**
   * A Server-Sent Events stream: reads events until `done`; a stream that ends (or breaks) before is resumed with
   * Last-Event-ID. Lost: one that could neither finish nor be resumed.
   */
  async function stream(what: string, path: string, who: Identity): Promise<Record<string, unknown> | null> {
    const rec: StreamRecord = { what, connections: 0, done: false };
    stats.streams.push(rec);
    let lastId: string | null = null;
    let final: Record<string, unknown> | null = null;
    const deadline = Date.now() + 90_000;
    while (!rec.done && Date.now() < deadline) {
      rec.connections++;
      stats.sent++;
      const headers: Record<string, string> = {
        authorization: `Bearer ${who.token}`,
        "x-forwarded-for": who.address,
        accept: "text/event-stream",
      };
      if (lastId) headers["last-event-id"] = lastId;
      try {
        const res = await fetch(`${opts.baseUrl}${path}`, { headers, signal: AbortSignal.timeout(60_000) });
        const type = res.headers.get("content-type") ?? "";
        stats.count(res.status === 502 && !type.includes("json") ? "502 nginx" : String(res.status));
        if (res.status === 500) stats.serverErrors.push(`${what}: GET ${path} → 500`);
        if (res.status !== 200 || !res.body) {
          await res.arrayBuffer();
          if (res.status === 0 || res.status === 502 || res.status === 503 || res.status === 429) {
            await sleep(jitter(300, 1000));
            continue;
          }
          rec.lost = `answered ${res.status}`;
          return null;
        }
        const decoder = new TextDecoder();
        let buf = "";
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let sep = buf.indexOf("\n\n");
          while (sep >= 0) {
            const block = buf.slice(0, sep);
            buf = buf.slice(sep + 2);
            sep = buf.indexOf("\n\n");
            let event = "message";
            let data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data += line.slice(5).trim();
              else if (line.startsWith("id:")) lastId = line.slice(3).trim();
            }
            if (event === "done") {
              rec.done = true;
              final = data ? (JSON.parse(data) as Record<string, unknown>) : null;
            }
          }
          if (rec.done) break;
        }
      } catch (err) {
        // Broken (instance killed, timeout): resumed below with Last-Event-ID.
        if ((err as Error).name === "TimeoutError") stats.pastBound.push(`${what}: stream ${path} open 60 s`);
      }
    }
    if (!rec.done) rec.lost = `no done after ${rec.connections} connections`;
    return final;
  }

  async function readAround(who: Identity) {
    const reads: [string, string][] = [
      ["credits", "/api/credits"],
      ["ledger", "/api/credits/transactions?limit=20"],
      ["predictions list", "/api/predictions?limit=10"],
      ["assets list", "/api/assets?limit=10"],
      ["models", "/api/models"],
    ];
    for (const [what, path] of reads) if (Math.random() < 0.6) await request(what, "GET", path, { who });
  }

  async function orderAsset(who: Identity, predictionId: string) {
    const r = Math.random();
    // Brand kits are the heavy ones: 6%; every other declared kind shares the rest.
    const light = ASSET_KINDS.filter((k) => k !== "brand-kit");
    const kind = r < 0.06 ? "brand-kit" : (light[Math.floor(((r - 0.06) / 0.94) * light.length)] ?? "vector");
    const body: Record<string, unknown> = { kind };
    if (Math.random() < 0.4) Object.assign(body, { webhook: opts.webhookUrl, webhookEvents: ["completed"] });
    const a = await post(`asset ${kind}`, `/api/predictions/${predictionId}/assets`, who, body);
    if (a.status !== 201) return;
    stats.counts.assets++;
    if (kind === "brand-kit") stats.counts.brandKits++;
    const id = String((a.json as { id: string }).id);
    await follow(`asset ${kind}`, `/api/assets/${id}`, who);
  }

  async function session(vu: number, n: number) {
    const who = await newIdentity(vu, n);
    if (!who) {
      await sleep(1000);
      return;
    }
    const rounds = who.guest ? 2 : 4;
    for (let k = 0; k < rounds && running(); k++) {
      const body: Record<string, unknown> = {
        model: pick(["nano-banana", "seedream-v4", "logo-generator"]),
        brandName: pick(["Acme Coffee", "Northwind", "Blue Fern", "Lumen Labs"]),
        description: "a fleet test logo",
        colors: ["#1F2937", "#F59E0B"],
      };
      const withWebhook = Math.random() < 0.4;
      if (withWebhook) Object.assign(body, { webhook: opts.webhookUrl, webhookEvents: ["start", "completed"] });
      const a = await post("prediction", "/api/predictions", who, body);
      if (a.status === 201) {
        stats.counts.predictions++;
        if (withWebhook) stats.counts.predictionsWithWebhook++;
        const id = String((a.json as { id: string }).id);
        const final = await follow("prediction", `/api/predictions/${id}`, who);
        if (final?.status === "succeeded" && Math.random() < 0.6 && running()) await orderAsset(who, id);
      }
      await readAround(who);
      await sleep(jitter(100, 500));
    }
    // A guest who liked it signs up: its balance, ledger and predictions move to the account.
    if (who.guest && Math.random() < 0.3 && running()) {
      const token = await signUp(
        `fleet-linked-${who.label}-${randomUUID().slice(0, 8)}@example.com`,
        who.address,
        who.token,
      );
      if (token) {
        stats.counts.linked++;
        await request("credits after link", "GET", "/api/credits", { who: { ...who, token } });
      }
    }
  }

  async function run() {
    await Promise.all(
      Array.from({ length: opts.users }, async (_, i) => {
        await sleep(i * 150);
        for (let n = 0; running(); n++) await session(i + 1, n);
      }),
    );
  }

  return { stats, run, request, post, follow, signUp, running };
}
