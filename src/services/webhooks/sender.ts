import { and, eq, inArray, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { queryRows } from "../../db";
import { outgoingWebhook, webhookDelivery } from "../../db/schema";
import type { Config } from "../../env";
import { backgroundLoop, type Lifecycle } from "../../lib/lifecycle";
import { leaseFree, newHolder, nextRetry, type RetryPolicy } from "../jobs";
import { GuardedRequestError, guardedRequest } from "../net/guarded-request";
import type { Needs } from "../ports";
import { deliveryErrorMessage } from "./delivery-errors";
import type { DeliveryOutcome } from "./metrics";
import { activeSigningSecrets } from "./secrets";

/** The ports this module uses. */
type SenderDeps = Needs<"config" | "db" | "clock" | "logger" | "webhookMetrics">;

/**
 * The sender that runs on every instance: a bounded pool of WEBHOOK_CONCURRENCY slots, each delivery in its own
 * slot (a slow receiver holds only its own). Whenever a slot is free it claims due attempts with the job kit
 * (../jobs): a fresh holder (claim_id) and a lease (claimed_until) set under FOR UPDATE SKIP LOCKED, so no two
 * instances take one attempt; a send is at most WEBHOOK_TIMEOUT_MS, well inside the lease. The claim is fair:
 * users take turns (each user's earliest due attempt first, then each one's second, …), a user has at most
 * WEBHOOK_MAX_PER_USER and a receiver host WEBHOOK_MAX_PER_HOST attempts in flight over the fleet, and a host that
 * timed out WEBHOOK_HOST_TIMEOUTS times in a row is left alone for WEBHOOK_HOST_BACKOFF_MS (its attempts wait, not
 * spent). The outcome is written only by the holder of the claim, with the next attempt (if the retry policy gives
 * one: WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_BACKOFF_MS) in the same transaction, so an event has at most one attempt
 * pending at a time. An instance that dies mid-send leaves its claim to expire: the same attempt is sent again
 * later (delivery is at least once; receivers dedupe on webhook-id).
 */

/** WEBHOOK_MAX_ATTEMPTS and WEBHOOK_RETRY_BACKOFF_MS as the job kit's retry policy (±20 % jitter). */
export const webhookRetryPolicy = (config: Config): RetryPolicy => ({
  maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
  backoffMs: config.WEBHOOK_RETRY_BACKOFF_MS,
  jitter: 0.2,
});

/** How often an idle sender looks for due attempts (on the deps' clock). */
export const SENDER_POLL_MS = 1000;
/**
 * How long a claim holds its attempt before another instance may take it again: the send itself
 * (WEBHOOK_TIMEOUT_MS) and the two database steps around it (the signing secrets read before, the outcome written
 * after), each bounded by the pool's query timeout (DATABASE_CONNECT_TIMEOUT_MS). A holder still working past it
 * finds its claim taken and records nothing (deliver); the receiver may then see the attempt twice, under one
 * webhook-id, as Standard Webhooks allows. An instance that dies holding a claim (a crash, a SIGKILL) delays the
 * attempt, and holds a share of its user's and its host's caps, only this long: with a fixed 60 s margin, one killed
 * instance held them for a minute (a fleet test's innocent webhook arrived after 64 s).
 */
export function webhookLeaseMs(config: { WEBHOOK_TIMEOUT_MS: number; DATABASE_CONNECT_TIMEOUT_MS: number }): number {
  return config.WEBHOOK_TIMEOUT_MS + 2 * config.DATABASE_CONNECT_TIMEOUT_MS;
}
const USER_AGENT = "LogoAPI-Webhooks/1.0";

/**
 * This instance's memory of receiver hosts that keep timing out: after WEBHOOK_HOST_TIMEOUTS timeouts in a row a
 * host is left alone for WEBHOOK_HOST_BACKOFF_MS; any answer clears its count.
 */
export class HostBackoff {
  private readonly timeouts = new Map<string, number>();
  private readonly until = new Map<string, number>();
  constructor(private readonly config: Pick<Config, "WEBHOOK_HOST_TIMEOUTS" | "WEBHOOK_HOST_BACKOFF_MS">) {}

  /** Hosts not to send to now. */
  blocked(now: Date): string[] {
    const out: string[] = [];
    for (const [host, until] of this.until)
      if (until > now.getTime()) out.push(host);
      else this.until.delete(host);
    return out;
  }

  record(host: string | null, timedOut: boolean, now: Date): void {
    if (!host) return;
    if (!timedOut) {
      this.timeouts.delete(host);
      return;
    }
    const n = (this.timeouts.get(host) ?? 0) + 1;
    if (n < this.config.WEBHOOK_HOST_TIMEOUTS) {
      this.timeouts.set(host, n);
      return;
    }
    this.timeouts.delete(host);
    this.until.set(host, now.getTime() + this.config.WEBHOOK_HOST_BACKOFF_MS);
  }
}

interface Claimed {
  id: string;
  claimId: string;
  attempt: number;
  webhookId: string;
  userId: string;
  url: string;
  host: string | null;
  body: string;
}

/**
 * Claims at most `limit` due attempts, fairly: ranked within their user and within their host by when they were
 * due, an attempt is eligible while its rank plus what its user (host) already has in flight stays within the cap;
 * the eligible are taken by user rank first, so every user with due attempts gets one before anyone gets two.
 * The ranking reads without locks; the claim then locks what it ranked (SKIP LOCKED) and re-checks that each is
 * still due and unclaimed. Two instances claiming at once may each fill a cap: the bound is per instance then.
 */
async function claimDue(deps: SenderDeps, limit: number, blockedHosts: string[]): Promise<Claimed[]> {
  if (limit <= 0) return [];
  const { config } = deps;
  const now = deps.clock.now();
  const at = now.toISOString();
  const claimId = newHolder();
  const claimedUntil = new Date(now.getTime() + webhookLeaseMs(config));
  const d = webhookDelivery;
  const o = outgoingWebhook;
  const hostKey = sql`coalesce(${o.host}, '')`;
  const notBlocked = blockedHosts.length
    ? sql`and ${hostKey} not in (${sql.join(
        blockedHosts.map((h) => sql`${h}`),
        sql`, `,
      )})`
    : sql``;
  const ranked = await queryRows<{ id: string }>(
    deps.db,
    sql`with inflight as (
          select ${o.userId} as user_id, ${hostKey} as host
          from ${d} join ${o} on ${o.id} = ${d.webhookRowId}
          where ${d.status} = 'pending' and ${d.claimedUntil} > ${at}
        ), due as (
          select ${d.id} as id, ${o.userId} as user_id, ${hostKey} as host, ${d.nextAttemptAt} as due_at,
            row_number() over (partition by ${o.userId} order by ${d.nextAttemptAt}, ${d.id}) as user_rank,
            row_number() over (partition by ${hostKey} order by ${d.nextAttemptAt}, ${d.id}) as host_rank
          from ${d} join ${o} on ${o.id} = ${d.webhookRowId}
          where ${d.status} = 'pending' and ${d.nextAttemptAt} <= ${at}
            and (${d.claimedUntil} is null or ${d.claimedUntil} <= ${at}) ${notBlocked}
        )
        select id from due
        where user_rank + (select count(*) from inflight i where i.user_id = due.user_id) <= ${config.WEBHOOK_MAX_PER_USER}
          and host_rank + (select count(*) from inflight i where i.host = due.host) <= ${config.WEBHOOK_MAX_PER_HOST}
        order by user_rank, due_at, id
        limit ${limit}`,
  );
  if (ranked.length === 0) return [];
  const ids = await deps.db.transaction(async (tx) => {
    const free = await tx
      .select({ id: d.id })
      .from(d)
      .where(
        and(
          inArray(
            d.id,
            ranked.map((r) => r.id),
          ),
          eq(d.status, "pending"),
          leaseFree(d.claimedUntil, now),
        ),
      )
      .for("update", { skipLocked: true });
    if (free.length === 0) return [];
    const ids = free.map((r) => r.id);
    await tx.update(d).set({ claimId, claimedUntil }).where(inArray(d.id, ids));
    return ids;
  });
  if (ids.length === 0) return [];
  const rows = await deps.db
    .select({
      id: d.id,
      attempt: d.attempt,
      webhookId: o.webhookId,
      userId: o.userId,
      url: o.url,
      host: o.host,
      body: o.body,
    })
    .from(d)
    .innerJoin(o, eq(o.id, d.webhookRowId))
    .where(inArray(d.id, ids));
  return rows.map((r) => ({ ...r, claimId }));
}

export interface SendResult {
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** What went wrong, as stored and listed to the user: never an address or a name our DNS resolved. */
  error?: string;
  /** For our log only: what the error hides (the name, the address it resolved to). */
  detail?: string;
  /** Refused by the address guard: not retried. */
  refused?: boolean;
  /** No answer within the timeout (the host may be backed off). */
  timedOut?: boolean;
}

/**
 * POSTs one signed body through the guarded request (../net/guarded-request): without WEBHOOK_ALLOW_PRIVATE_URLS a
 * literal private address is refused before any connection and a name connects through the checked, pinned lookup.
 * The whole attempt — lookup, connection, request and the response's status line and headers — is bounded by
 * `timeoutMs`; once the status is known the response is destroyed unread, so a receiver that trickles a body cannot
 * hold the socket. Redirects are not followed (node:http never does): a 3xx is a failure like any other non-2xx.
 */
export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<SendResult> {
  try {
    const res = await guardedRequest(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": USER_AGENT,
        ...headers,
      },
      body,
      allowPrivate: opts.allowPrivate,
      timeoutMs: opts.timeoutMs,
    });
    // The status is the verdict: the body is not read, and the socket goes with the response.
    res.discard();
    return { status: res.status };
  } catch (e) {
    if (e instanceof GuardedRequestError) {
      if (e.kind === "timeout") return { error: e.message, timedOut: true };
      return { error: e.message, ...(e.detail ? { detail: e.detail } : {}), refused: true };
    }
    const err = e as NodeJS.ErrnoException;
    // The user sees a fixed message for the code; what the error says (addresses, names) is for our log.
    const said = err.code ? `${err.code}: ${err.message}` : err.message;
    return { error: deliveryErrorMessage(err), detail: said.slice(0, 500) };
  }
}

/** Signs with every active secret of the user (two during a rotation's overlap), space-separated. */
export async function signatureHeaders(deps: SenderDeps, c: Pick<Claimed, "userId" | "webhookId" | "body">) {
  const now = deps.clock.now();
  const secrets = await activeSigningSecrets(deps, c.userId);
  return {
    "webhook-id": c.webhookId,
    "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
    "webhook-signature": secrets.map((s) => new Webhook(s).sign(c.webhookId, now, c.body)).join(" "),
  };
}

async function deliver(
  deps: SenderDeps,
  c: Claimed,
  policy: RetryPolicy,
  hosts: HostBackoff,
): Promise<DeliveryOutcome | null> {
  const { config } = deps;
  const headers = await signatureHeaders(deps, c);
  const result = await postWebhook(c.url, c.body, headers, {
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_URLS,
  });
  const now = deps.clock.now();
  hosts.record(c.host, result.timedOut === true, now);
  const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
  const next = ok || result.refused ? null : nextRetry(policy, c.attempt);
  const retry = next?.retry === true;
  const outcome: DeliveryOutcome = ok ? "succeeded" : result.refused ? "refused" : retry ? "retrying" : "failed";
  const recorded = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookDelivery)
      .set({
        status: ok ? "succeeded" : "failed",
        responseStatus: result.status ?? null,
        error: ok ? null : oneLine(result.error ?? `HTTP ${result.status}`),
        nextAttemptAt: null,
        completedAt: now,
        claimId: null,
        claimedUntil: null,
      })
      .where(
        and(
          eq(webhookDelivery.id, c.id),
          eq(webhookDelivery.claimId, c.claimId),
          eq(webhookDelivery.status, "pending"),
        ),
      )
      .returning({ webhookRowId: webhookDelivery.webhookRowId, createdAt: webhookDelivery.createdAt });
    // Our claim expired and another sender took the attempt over: its outcome counts, not ours.
    if (!row) return false;
    if (next?.retry)
      await tx.insert(webhookDelivery).values({
        webhookRowId: row.webhookRowId,
        attempt: c.attempt + 1,
        status: "pending",
        nextAttemptAt: new Date(now.getTime() + next.delayMs),
        // Lists are newest first by (created_at, id): a later attempt is never listed before an earlier one,
        // even when it is scheduled within the same millisecond.
        createdAt: new Date(Math.max(now.getTime(), row.createdAt.getTime() + 1)),
      });
    return true;
  });
  if (!recorded) return null;
  deps.webhookMetrics.record(outcome);
  const log = {
    webhookId: c.webhookId,
    attempt: c.attempt,
    status: result.status,
    error: result.error,
    detail: result.detail,
    outcome,
  };
  if (ok) deps.logger.debug(log, "webhook delivered");
  else deps.logger.warn(log, "webhook attempt failed");
  return outcome;
}

/** Stored and listed as one line (WebhookDelivery.error): control characters become spaces. */
const oneLine = (text: string) =>
  [...text.slice(0, 1000)].map((ch) => (ch.charCodeAt(0) < 0x20 || ch === "\u007f" ? " " : ch)).join("");

/** Sends one claimed attempt; a failure to record it is logged (the claim expires and it is sent again). */
function send(deps: SenderDeps, c: Claimed, policy: RetryPolicy, hosts: HostBackoff): Promise<void> {
  return deliver(deps, c, policy, hosts).then(
    () => undefined,
    (err: unknown) =>
      // The database may be away.
      deps.logger.error({ err, webhookId: c.webhookId }, "webhook delivery could not be recorded"),
  );
}

/**
 * One pass for tests and scripts: claims what the caps allow (at most WEBHOOK_CONCURRENCY), sends each at once,
 * and waits for them all. Returns how many were claimed.
 */
export async function deliverDueWebhooks(deps: SenderDeps, hosts = new HostBackoff(deps.config)): Promise<number> {
  const claimed = await claimDue(deps, deps.config.WEBHOOK_CONCURRENCY, hosts.blocked(deps.clock.now()));
  const policy = webhookRetryPolicy(deps.config);
  await Promise.all(claimed.map((c) => send(deps, c, policy, hosts)));
  return claimed.length;
}

/**
 * The sender on the deps' clock: whenever a slot is free it claims due attempts for the free slots and starts
 * each in its own; it looks again as soon as a slot frees, or every SENDER_POLL_MS while slots stand free.
 * Stopping waits for the sends in flight (each at most WEBHOOK_TIMEOUT_MS).
 */
export function createWebhookSenderLifecycle(deps: SenderDeps): Lifecycle {
  const policy = webhookRetryPolicy(deps.config);
  const hosts = new HostBackoff(deps.config);
  const slots = deps.config.WEBHOOK_CONCURRENCY;
  return backgroundLoop(async (signal) => {
    const inFlight = new Set<Promise<void>>();
    let slotFreed: (() => void) | null = null;
    while (!signal.aborted) {
      const free = slots - inFlight.size;
      let claimed: Claimed[] = [];
      try {
        claimed = await claimDue(deps, free, hosts.blocked(deps.clock.now()));
      } catch (err) {
        deps.logger.error({ err }, "webhook sender claim failed");
      }
      for (const c of claimed) {
        const sending: Promise<void> = send(deps, c, policy, hosts).finally(() => {
          inFlight.delete(sending);
          slotFreed?.();
        });
        inFlight.add(sending);
      }
      // Every free slot filled: there may be more due at once.
      if ((claimed.length > 0 && claimed.length === free) || signal.aborted) continue;
      await new Promise<void>((resolve) => {
        const waiting = new AbortController();
        const done = () => {
          slotFreed = null;
          waiting.abort();
          signal.removeEventListener("abort", done);
          resolve();
        };
        slotFreed = done;
        signal.addEventListener("abort", done, { once: true });
        // With every slot busy, only a freed slot can let more go; otherwise look again after the poll interval.
        if (inFlight.size < slots) void deps.clock.sleep(SENDER_POLL_MS, waiting.signal).then(done);
      });
    }
    await Promise.all(inFlight);
  });
}
