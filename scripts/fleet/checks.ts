import type pg from "pg";
import type { Receipt } from "../../test/fakes/webhook-receiver";
import { LEDGER_VIOLATIONS_SQL } from "../../test/helpers/db";

/**
 * What the fleet test checks afterwards, on the database directly (not through the proxy): every job final,
 * every balance equal to its ledger, every charge with exactly one outcome, every webhook event delivered under
 * one id. Each returns the offending rows as readable lines (empty when sound).
 */

export async function activeJobs(db: pg.Pool) {
  const { rows } = await db.query<{ kind: string; id: string; status: string; age_s: number }>(`
    select 'prediction' as kind, id, status::text, extract(epoch from now() - created_at)::int as age_s
      from prediction where status in ('queued', 'processing')
    union all
    select 'asset', id, status::text, extract(epoch from now() - created_at)::int
      from asset where status in ('queued', 'processing')`);
  return rows.map((r) => `${r.kind} ${r.id} still ${r.status} (${r.age_s} s old)`);
}

/** Pending deliveries, leaving out those of `exceptUsers` (the hostile user's, to a receiver that never answers). */
export async function pendingDeliveries(db: pg.Pool, exceptUsers: string[] = []) {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from webhook_delivery d join outgoing_webhook w on w.id = d.outgoing_webhook_id
     where d.status = 'pending' and w.user_id <> all($1::uuid[])`,
    [exceptUsers],
  );
  return rows[0]?.n ?? 0;
}

/** balance = sum(ledger), balance >= 0 and the lifetime totals (the query the test suite checks after every file). */
export async function ledgerViolationLines(db: pg.Pool) {
  const { rows } = await db.query<{ user_id: string; balance: number | null; ledger: number | null }>(
    LEDGER_VIOLATIONS_SQL,
  );
  return rows.map((r) => `user ${r.user_id}: balance ${r.balance}, ledger ${r.ledger}`);
}

/**
 * Every job has exactly one charge, and the charge exactly one outcome: succeeded without a refund, or
 * failed/canceled with exactly one refund of the whole charge.
 */
export async function chargeOutcomeViolations(db: pg.Pool) {
  const { rows } = await db.query<{
    kind: string;
    id: string;
    status: string;
    charges: number;
    charged: number;
    refunds: number;
    refunded: number;
  }>(`
    with p as (
      select 'prediction' as kind, j.id, j.status::text as status, j.credits_charged as price,
        count(*) filter (where t.type = 'generation')::int as charges,
        coalesce(-sum(t.amount) filter (where t.type = 'generation'), 0)::int as charged,
        count(*) filter (where t.type = 'refund')::int as refunds,
        coalesce(sum(t.amount) filter (where t.type = 'refund'), 0)::int as refunded
      from prediction j left join credit_transaction t on t.prediction_id = j.id
      group by j.id
      union all
      select 'asset', j.id, j.status::text, j.credits_charged,
        count(*) filter (where t.type = 'asset')::int,
        coalesce(-sum(t.amount) filter (where t.type = 'asset'), 0)::int,
        count(*) filter (where t.type = 'asset_refund')::int,
        coalesce(sum(t.amount) filter (where t.type = 'asset_refund'), 0)::int
      from asset j left join credit_transaction t on t.asset_id = j.id
      group by j.id)
    select * from p
    where (price > 0 and (charges <> 1 or charged <> price))
       or (status = 'succeeded' and refunds <> 0)
       or (status in ('failed', 'canceled') and price > 0 and (refunds <> 1 or refunded <> charged))
       or status in ('queued', 'processing') and refunds <> 0`);
  return rows.map(
    (r) =>
      `${r.kind} ${r.id} ${r.status}: ${r.charges} charge(s) of ${r.charged}, ${r.refunds} refund(s) of ${r.refunded}`,
  );
}

/**
 * Every outgoing_webhook row (but those of `exceptUsers`, checked by hostileWebhookViolations) reached the receiver
 * under its webhook-id, and no event (job, type) reached it under two ids. Receipts are the receiver's, with
 * lowercased headers.
 */
export async function webhookViolations(db: pg.Pool, receipts: Receipt[], exceptUsers: string[] = []) {
  const { rows } = await db.query<{
    webhook_id: string;
    job_type: string;
    job_id: string;
    event: string;
    last: string | null;
  }>(
    `
    select w.webhook_id, w.job_type, w.job_id::text, w.event,
      (select d.status || coalesce(' ' || d.response_status, '') || coalesce(' ' || d.error, '')
         from webhook_delivery d where d.outgoing_webhook_id = w.id order by d.attempt desc limit 1) as last
    from outgoing_webhook w where w.user_id <> all($1::uuid[])`,
    [exceptUsers],
  );
  const seen = new Set(receipts.map((r) => r.headers["webhook-id"]));
  const lines: string[] = [];
  for (const r of rows)
    if (!seen.has(r.webhook_id))
      lines.push(
        `${r.job_type}.${r.event} of ${r.job_id} (${r.webhook_id}) never delivered (last attempt: ${r.last ?? "none"})`,
      );
  const idsByEvent = new Map<string, Set<string>>();
  for (const r of receipts) {
    let key = "unparsable";
    try {
      const body = JSON.parse(r.body) as { type?: string; data?: { id?: string } };
      key = `${body.type} of ${body.data?.id}`;
    } catch {}
    const ids = idsByEvent.get(key) ?? new Set<string>();
    ids.add(r.headers["webhook-id"] ?? "(none)");
    idsByEvent.set(key, ids);
  }
  for (const [key, ids] of idsByEvent)
    if (ids.size !== 1) lines.push(`${key} delivered under ${ids.size} ids: ${[...ids].join(", ")}`);
  return { rows: rows.length, lines };
}
