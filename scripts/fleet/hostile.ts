import { randomUUID } from "node:crypto";
import { createServer, type Socket } from "node:net";
import type pg from "pg";
import type { Receipt } from "../../test/fakes/webhook-receiver";
import type { createLoad, Identity } from "./load";

/**
 * The fleet test's hostile user and the innocent one it must not slow down.
 *
 * Hostile: HOSTILE_ACCOUNTS accounts create predictions naming a receiver that accepts connections and never answers
 * (`webhookEvents: start, completed`) and cancel each at once (refunded in full: the churn costs nothing), and the
 * first of them keeps a queue of brand kits as full as the per-user cap allows (its 429s are expected). Innocent:
 * one account that, all along, makes a prediction with a webhook to the normal receiver and, when it succeeds,
 * orders a vector with a webhook too. Afterwards: each innocent event's delivery time (the event row's created_at
 * to its first receipt) and each innocent vector's time from its order to its completion.
 */

const HOSTILE_ACCOUNTS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP server on 127.0.0.1 that accepts and never answers; counts connections and the most open at once. */
export async function startSilentReceiver() {
  const sockets = new Set<Socket>();
  let connections = 0;
  let maxOpen = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    maxOpen = Math.max(maxOpen, sockets.size);
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    stats: () => ({ connections, maxOpen }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

type Load = ReturnType<typeof createLoad>;

export interface HostileCounts {
  churned: number;
  kitsCreated: number;
  kits429: number;
  kitsOther: string[];
}

export function createHostile(load: Load, opts: { silentUrl: string; receiverUrl: string }) {
  const counts: HostileCounts = { churned: 0, kitsCreated: 0, kits429: 0, kitsOther: [] };
  const emails = { hostile: [] as string[], innocent: "" };
  const innocentVectors: string[] = [];

  async function account(label: string, n: number): Promise<Identity> {
    const email = `fleet-${label}-${randomUUID().slice(0, 8)}@example.com`;
    const address = `10.250.${n}.1`;
    const token = await load.signUp(email, address);
    if (!token) throw new Error(`fleet: the ${label} account could not sign up`);
    return { label, token, guest: false, address, email } as Identity & { email: string };
  }

  async function succeededPrediction(who: Identity): Promise<string | null> {
    for (let i = 0; i < 4 && load.running(); i++) {
      const a = await load.post("hostile prediction", "/api/predictions", who, { brandName: "Hostile" });
      if (a.status !== 201) continue;
      const id = String((a.json as { id: string }).id);
      const final = await load.follow("hostile prediction", `/api/predictions/${id}`, who);
      if (final?.status === "succeeded") return id;
    }
    return null;
  }

  /** Create + cancel at once, naming the silent receiver, until the load ends. */
  async function churn(who: Identity) {
    while (load.running()) {
      const a = await load.post("hostile churn", "/api/predictions", who, {
        brandName: "Churn",
        webhook: opts.silentUrl,
        webhookEvents: ["start", "completed"],
      });
      if (a.status === 201) {
        const id = String((a.json as { id: string }).id);
        const c = await load.request("hostile cancel", "POST", `/api/predictions/${id}/cancel`, { who });
        if (c.status === 200) counts.churned++;
      }
      await sleep(500);
    }
  }

  /** Keeps the account's deliverables queue at the cap: a 429 waits its Retry-After (at most 1 s), a 402 stops. */
  async function kits(who: Identity) {
    const id = await succeededPrediction(who);
    if (!id) return;
    while (load.running()) {
      const a = await load.request("hostile kit", "POST", `/api/predictions/${id}/assets`, {
        who,
        body: { kind: "brand-kit" },
        headers: { "idempotency-key": randomUUID() },
        expect: [429],
      });
      if (a.status === 201) counts.kitsCreated++;
      else if (a.status === 429) {
        counts.kits429++;
        await sleep(1000);
      } else if (a.status === 402) return;
      else {
        counts.kitsOther.push(String(a.status));
        await sleep(1000);
      }
    }
  }

  async function innocent(who: Identity) {
    while (load.running()) {
      const a = await load.post("innocent prediction", "/api/predictions", who, {
        brandName: "Innocent",
        webhook: opts.receiverUrl,
        webhookEvents: ["start", "completed"],
      });
      if (a.status === 402) return;
      if (a.status === 201) {
        const id = String((a.json as { id: string }).id);
        const final = await load.follow("innocent prediction", `/api/predictions/${id}`, who);
        if (final?.status === "succeeded" && load.running()) {
          const v = await load.post("innocent vector", `/api/predictions/${id}/assets`, who, {
            kind: "vector",
            webhook: opts.receiverUrl,
            webhookEvents: ["completed"],
          });
          if (v.status === 201) {
            const vid = String((v.json as { id: string }).id);
            innocentVectors.push(vid);
            await load.follow("innocent vector", `/api/assets/${vid}`, who);
          }
        }
      }
      await sleep(1000);
    }
  }

  async function run() {
    const hostiles: Identity[] = [];
    for (let i = 0; i < HOSTILE_ACCOUNTS; i++) hostiles.push(await account(`hostile${i + 1}`, i + 1));
    const good = await account("innocent", 100);
    emails.hostile = hostiles.map((h) => (h as Identity & { email: string }).email);
    emails.innocent = (good as Identity & { email: string }).email;
    await Promise.all([...hostiles.map(churn), kits(hostiles[0] as Identity), innocent(good)]);
  }

  return { run, counts, emails, innocentVectors };
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};
export const spread = (ms: number[]) =>
  ms.length === 0
    ? "none"
    : `n ${ms.length}, median ${(quantile(ms, 0.5) / 1000).toFixed(2)} s, p95 ${(quantile(ms, 0.95) / 1000).toFixed(2)} s, max ${(Math.max(...ms) / 1000).toFixed(2)} s`;

export async function userIds(db: pg.Pool, emails: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`select id::text from "user" where email = any($1)`, [emails]);
  return rows.map((r) => r.id);
}

/**
 * The innocent user's figures: each webhook event's time from its row (written with the job's state change) to its
 * first receipt, leaving out (and naming) an event whose first attempt met the receiver's one scripted 500 (retried
 * about 5 s later by design); and each vector's time from its turn (its claim by a worker, started_at) to its
 * completion, with what came before its turn: its wait (created_at to started_at) and how many of the hostile user's
 * kits were claimed between its order and its claim (round-robin: at most one per worker). A vector taken over after
 * its instance was killed (attempts > 1) is left out and named.
 */
export async function innocentFigures(
  db: pg.Pool,
  innocentId: string,
  hostileIds: string[],
  receipts: Receipt[],
  /** The run's start (Date.now()), so an event's time reads as the test's log does: seconds into the run. */
  startedMs = 0,
) {
  const { rows: events } = await db.query<{
    webhook_id: string;
    created_ms: number;
    failed: boolean;
    event: string;
    attempts: string;
  }>(
    `select w.webhook_id, (extract(epoch from w.created_at) * 1000)::float8 as created_ms,
       exists (select 1 from webhook_delivery d where d.outgoing_webhook_id = w.id and d.response_status = 500) as failed,
       w.event,
       coalesce((select string_agg(format('attempt %s %s%s at +%s s%s', d.attempt, d.status,
           coalesce(' ' || d.response_status, ''),
           round(extract(epoch from coalesce(d.completed_at, d.created_at) - w.created_at)::numeric, 2),
           coalesce(' (' || left(d.error, 80) || ')', '')), '; ' order by d.attempt)
         from webhook_delivery d where d.outgoing_webhook_id = w.id), 'no attempt') as attempts
     from outgoing_webhook w where w.user_id = $1`,
    [innocentId],
  );
  const firstAt = new Map<string, number>();
  for (const r of receipts) {
    const id = r.headers["webhook-id"] ?? "";
    firstAt.set(id, Math.min(firstAt.get(id) ?? Number.POSITIVE_INFINITY, r.at));
  }
  const webhookMs: number[] = [];
  // Each measured event, in the order of webhookMs: when it was written and first received (epoch ms), and what it
  // went through, so a late one explains itself (its event, its time into the run, its attempts after created_at).
  const webhooks: { createdMs: number; receivedMs: number; story: string }[] = [];
  const excluded: string[] = [];
  const missing: string[] = [];
  for (const e of events) {
    const at = firstAt.get(e.webhook_id);
    if (at === undefined) missing.push(e.webhook_id);
    else if (e.failed) excluded.push(`${e.webhook_id}: its first attempt met the scripted 500`);
    else {
      webhookMs.push(Math.max(0, at - e.created_ms));
      webhooks.push({
        createdMs: e.created_ms,
        receivedMs: at,
        story: `${e.event} event at ${((e.created_ms - startedMs) / 1000).toFixed(1)} s into the run, received +${((at - e.created_ms) / 1000).toFixed(2)} s: ${e.attempts}`,
      });
    }
  }
  const { rows: vectors } = await db.query<{
    id: string;
    status: string;
    attempts: number;
    wait: number;
    run: number;
    total: number;
    hostile_ahead: number;
    others_ahead: number;
  }>(
    `select a.id::text, a.status::text, a.attempts,
       (extract(epoch from a.started_at - a.created_at) * 1000)::float8 as wait,
       (extract(epoch from a.completed_at - a.started_at) * 1000)::float8 as run,
       (extract(epoch from a.completed_at - a.created_at) * 1000)::float8 as total,
       (select count(*) from asset h where h.user_id = any($2::uuid[])
          and h.started_at > a.created_at and h.started_at < a.started_at)::int as hostile_ahead,
       (select count(*) from asset o where o.user_id <> all($2::uuid[]) and o.user_id <> a.user_id
          and o.started_at > a.created_at and o.started_at < a.started_at)::int as others_ahead
     from asset a where a.user_id = $1`,
    [innocentId, hostileIds],
  );
  const vectorRuns: number[] = [];
  const vectorTotals: number[] = [];
  const vectorWaits: number[] = [];
  const hostileAhead: number[] = [];
  const othersAhead: number[] = [];
  for (const v of vectors) {
    if (v.attempts > 1) excluded.push(`vector ${v.id}: taken over after a fault (${v.attempts} attempts)`);
    else if (v.status !== "succeeded") missing.push(`vector ${v.id} ${v.status}`);
    else {
      vectorRuns.push(v.run);
      vectorTotals.push(v.total);
      vectorWaits.push(v.wait);
      hostileAhead.push(v.hostile_ahead);
      othersAhead.push(v.others_ahead);
    }
  }
  return {
    webhookMs,
    webhooks,
    vectorRuns,
    vectorTotals,
    vectorWaits,
    hostileAhead,
    othersAhead,
    excluded,
    missing,
    events: events.length,
    vectors: vectors.length,
  };
}

/**
 * The hostile receiver's events: each has a delivery row (never lost), its latest attempt pending or failed, and no
 * event more attempts than WEBHOOK_MAX_ATTEMPTS.
 */
export async function hostileWebhookViolations(db: pg.Pool, hostileIds: string[], maxAttempts: number) {
  const { rows } = await db.query<{ webhook_id: string; attempts: number | null; last: string | null }>(
    `select w.webhook_id, (select max(d.attempt) from webhook_delivery d where d.outgoing_webhook_id = w.id) as attempts,
       (select d.status::text from webhook_delivery d where d.outgoing_webhook_id = w.id order by d.attempt desc limit 1) as last
     from outgoing_webhook w where w.user_id = any($1::uuid[])`,
    [hostileIds],
  );
  const lines: string[] = [];
  const byAttempts = new Map<number, number>();
  let failed = 0;
  for (const r of rows) {
    if (r.attempts === null) lines.push(`${r.webhook_id}: no delivery row`);
    else if (r.attempts > maxAttempts) lines.push(`${r.webhook_id}: ${r.attempts} attempts (max ${maxAttempts})`);
    if (r.last !== null && r.last !== "pending" && r.last !== "failed") lines.push(`${r.webhook_id}: ${r.last}`);
    if (r.last === "failed") failed++;
    byAttempts.set(r.attempts ?? 0, (byAttempts.get(r.attempts ?? 0) ?? 0) + 1);
  }
  const attempts = [...byAttempts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([a, n]) => `${n} at attempt ${a}`)
    .join(", ");
  return { events: rows.length, failed, attempts, lines };
}
