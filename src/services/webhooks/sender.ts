import { randomUUID } from "node:crypto";
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { and, asc, eq, inArray, isNull, lte, or } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { outgoingWebhook, webhookDelivery } from "../../db/schema";
import { backgroundLoop, type Lifecycle } from "../../lib/lifecycle";
import type { Needs } from "../ports";
import { guardedLookup, isPrivateAddress, NOT_PUBLIC } from "./address-guard";
import { deliveryErrorMessage } from "./delivery-errors";
import type { DeliveryOutcome } from "./metrics";
import { activeSigningSecrets } from "./secrets";

/** The ports this module uses. */
type SenderDeps = Needs<"config" | "db" | "clock" | "logger" | "webhookMetrics">;

/**
 * The sender that runs on every instance. Each pass claims due attempts under FOR UPDATE SKIP LOCKED and
 * marks them with a claim id and a lease (claimed_until) in the same statement, so no two instances take
 * one attempt; a send is at most WEBHOOK_TIMEOUT_MS, well inside the lease. The outcome is written only by
 * the holder of the claim, with the next attempt (if any) in the same transaction, so an event has at most
 * one attempt pending at a time. An instance that dies mid-send leaves its claim to expire: the same attempt
 * is sent again later (delivery is at least once; receivers dedupe on webhook-id).
 */

/** About 5 s, 30 s, 2 min, 10 min, 1 h, 6 h, 12 h after attempts 1…7 (then 12 h), ±20 % jitter. */
export const BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000, 43_200_000] as const;
const JITTER = 0.2;
/** How often an idle sender looks for due attempts (on the deps' clock). */
export const SENDER_POLL_MS = 1000;
const BATCH = 20;
const PARALLEL = 10;
/** A claim outlives the send it covers by this much before another instance may take the attempt again. */
const LEASE_MARGIN_MS = 60_000;
const USER_AGENT = "LogoAPI-Webhooks/1.0";

/** The wait before the attempt after `attempt` (1-based) failed. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length) - 1] ?? BACKOFF_MS[0];
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

interface Claimed {
  id: string;
  claimId: string;
  attempt: number;
  webhookId: string;
  userId: string;
  url: string;
  body: string;
}

async function claimDue(deps: SenderDeps): Promise<Claimed[]> {
  const now = deps.clock.now();
  const claimId = randomUUID();
  const claimedUntil = new Date(now.getTime() + deps.config.WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS);
  const ids = await deps.db.transaction(async (tx) => {
    const due = await tx
      .select({ id: webhookDelivery.id })
      .from(webhookDelivery)
      .where(
        and(
          eq(webhookDelivery.status, "pending"),
          lte(webhookDelivery.nextAttemptAt, now),
          or(isNull(webhookDelivery.claimedUntil), lte(webhookDelivery.claimedUntil, now)),
        ),
      )
      .orderBy(asc(webhookDelivery.nextAttemptAt))
      .limit(BATCH)
      .for("update", { skipLocked: true });
    if (due.length === 0) return [];
    const ids = due.map((d) => d.id);
    await tx.update(webhookDelivery).set({ claimId, claimedUntil }).where(inArray(webhookDelivery.id, ids));
    return ids;
  });
  if (ids.length === 0) return [];
  const rows = await deps.db
    .select({
      id: webhookDelivery.id,
      attempt: webhookDelivery.attempt,
      webhookId: outgoingWebhook.webhookId,
      userId: outgoingWebhook.userId,
      url: outgoingWebhook.url,
      body: outgoingWebhook.body,
    })
    .from(webhookDelivery)
    .innerJoin(outgoingWebhook, eq(outgoingWebhook.id, webhookDelivery.webhookRowId))
    .where(inArray(webhookDelivery.id, ids));
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
}

/**
 * POSTs one signed body. Without WEBHOOK_ALLOW_PRIVATE_URLS the connection goes through guardedLookup (and a
 * literal address is checked before any connection). The whole attempt — lookup, connection, request and the
 * response's status line and headers — is bounded by `timeoutMs`; once the status is known the response is
 * destroyed unread, so a receiver that trickles a body cannot hold the socket. Redirects are not followed
 * (node:http never does): a 3xx is a failure like any other non-2xx.
 */
export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<SendResult> {
  return new Promise((resolve) => {
    let settled = false;
    let refused: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (r: SendResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(r);
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return done({ error: "invalid URL", refused: true });
    }
    const send = target.protocol === "https:" ? httpsRequest : target.protocol === "http:" ? httpRequest : null;
    if (!send) return done({ error: `unsupported scheme ${target.protocol}`, refused: true });
    if (!opts.allowPrivate && isPrivateAddress(target.hostname))
      return done({ error: NOT_PUBLIC, detail: `${target.hostname} is a private address`, refused: true });
    const options: RequestOptions = {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": USER_AGENT,
        ...headers,
      },
      agent: false,
      ...(opts.allowPrivate ? {} : { lookup: guardedLookup((detail) => (refused = detail)) }),
    };
    const req = send(target, options, (res: IncomingMessage) => {
      // The status is the verdict: the body is not read, and the socket goes with the response.
      done({ status: res.statusCode ?? 0 });
      res.on("error", () => undefined);
      res.destroy();
    });
    timer = setTimeout(() => {
      done({ error: `no answer within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (refused) return done({ error: NOT_PUBLIC, detail: refused, refused: true });
      // The user sees a fixed message for the code; what the error says (addresses, names) is for our log.
      const said = err.code ? `${err.code}: ${err.message}` : err.message;
      done({ error: deliveryErrorMessage(err), detail: said.slice(0, 500) });
    });
    req.end(body);
  });
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

async function deliver(deps: SenderDeps, c: Claimed): Promise<DeliveryOutcome | null> {
  const { config } = deps;
  const headers = await signatureHeaders(deps, c);
  const result = await postWebhook(c.url, c.body, headers, {
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_URLS,
  });
  const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
  const retry = !ok && !result.refused && c.attempt < config.WEBHOOK_MAX_ATTEMPTS;
  const outcome: DeliveryOutcome = ok ? "succeeded" : result.refused ? "refused" : retry ? "retrying" : "failed";
  const now = deps.clock.now();
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
    if (retry)
      await tx.insert(webhookDelivery).values({
        webhookRowId: row.webhookRowId,
        attempt: c.attempt + 1,
        status: "pending",
        nextAttemptAt: new Date(now.getTime() + backoffDelay(c.attempt)),
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

/** One pass: claims due attempts and sends them. Returns how many were claimed. */
export async function deliverDueWebhooks(deps: SenderDeps): Promise<number> {
  const claimed = await claimDue(deps);
  for (let i = 0; i < claimed.length; i += PARALLEL)
    await Promise.all(
      claimed.slice(i, i + PARALLEL).map((c) =>
        deliver(deps, c).catch((err: unknown) =>
          // The claim expires and the attempt is sent again; the database may be away.
          deps.logger.error({ err, webhookId: c.webhookId }, "webhook delivery could not be recorded"),
        ),
      ),
    );
  return claimed.length;
}

/** Runs the sender on the deps' clock: passes back to back while there is work, else every SENDER_POLL_MS. */
export function createWebhookSenderLifecycle(deps: SenderDeps): Lifecycle {
  return backgroundLoop(async (signal) => {
    while (!signal.aborted) {
      let claimed = 0;
      try {
        claimed = await deliverDueWebhooks(deps);
      } catch (err) {
        deps.logger.error({ err }, "webhook sender pass failed");
      }
      if (claimed === 0) await deps.clock.sleep(SENDER_POLL_MS, signal);
    }
  });
}
