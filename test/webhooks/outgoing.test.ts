import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { outgoingWebhook, webhookDelivery, webhookSecret } from "../../src/db/schema";
import { loadConfig } from "../../src/env";
import { PredictionSchema } from "../../src/schemas/predictions";
import {
  PredictionCompletedEventSchema,
  PredictionStartEventSchema,
  SigningSecretSchema,
  WebhookDeliveryListSchema,
} from "../../src/schemas/webhook-deliveries";
import { retryDelay } from "../../src/services/jobs";
import { finishPrediction } from "../../src/services/predictions";
import { decryptSecret } from "../../src/services/webhooks/secrets";
import {
  createWebhookSenderLifecycle,
  deliverDueWebhooks,
  webhookRetryPolicy,
} from "../../src/services/webhooks/sender";
import { FAKE_EACHLABS_KEY, type FakeEachlabs, startFakeEachlabs } from "../fakes/eachlabs";
import { type Receipt, startWebhookReceiver, type WebhookReceiver } from "../fakes/webhook-receiver";
import { createTestApp, type TestApp } from "../helpers/app";
import { eventually, FakeClock } from "../helpers/clock";
import { expectSchema } from "../helpers/schemas";
import { balanceOf, body } from "../predictions/helpers";

/** Outgoing prediction webhooks: outbox, signatures, retries, restarts, several senders, the address guard. */

let eachlabs: FakeEachlabs;
let receiver: WebhookReceiver;
let clock: FakeClock;
let t: TestApp;

const env = () => ({
  SIGNUP_CREDITS: "500",
  EACHLABS_API_KEY: FAKE_EACHLABS_KEY,
  EACHLABS_BASE_URL: eachlabs.url,
  WEBHOOK_TIMEOUT_MS: "500",
  WEBHOOK_MAX_ATTEMPTS: "4",
  // Every test here shares one receiver (one host) and leaves claims of "dead" senders behind: the fairness caps
  // are tested on their own (fairness.test.ts).
  WEBHOOK_MAX_PER_USER: "1000",
  WEBHOOK_MAX_PER_HOST: "1000",
});

beforeAll(async () => {
  eachlabs = await startFakeEachlabs();
  receiver = await startWebhookReceiver();
  clock = new FakeClock();
  t = await createTestApp({ env: env(), overrides: { clock } });
});
afterAll(async () => {
  await t.close();
  await receiver.close();
  await eachlabs.close();
});
beforeEach(() => {
  receiver.reset();
  eachlabs.reset();
  eachlabs.setDefault({ pendingPolls: Number.POSITIVE_INFINITY });
});

type Session = Awaited<ReturnType<TestApp["signUp"]>>;

async function create(s: Session, over: Record<string, unknown> = {}) {
  const res = await t.json("POST", "/api/predictions", {
    headers: s.headers,
    body: body({ webhook: receiver.url, ...over }),
  });
  expect(res.status).toBe(201);
  return expectSchema(PredictionSchema, res.body);
}

/** A prediction with a webhook, canceled: its `completed` event is queued. Returns the canceled prediction. */
async function completed(s: Session, over: Record<string, unknown> = {}) {
  const p = await create(s, over);
  const res = await t.json("POST", `/api/predictions/${p.id}/cancel`, { headers: s.headers });
  expect(res.status).toBe(200);
  return expectSchema(PredictionSchema, res.body);
}

async function secretOf(s: Session) {
  const res = await t.json("GET", "/api/webhooks/secret", { headers: s.headers });
  expect(res.status).toBe(200);
  return expectSchema(SigningSecretSchema, res.body).key;
}

/** Whether `key` produced one of the receipt's signatures (without the verifier's ±5 min check on real time). */
function signedBy(key: string, r: Receipt): boolean {
  const ts = new Date(Number(r.headers["webhook-timestamp"]) * 1000);
  const expected = new Webhook(key).sign(r.headers["webhook-id"] ?? "", ts, r.body);
  return (r.headers["webhook-signature"] ?? "").split(" ").includes(expected);
}

async function drain(deps = t.deps) {
  while ((await deliverDueWebhooks(deps)) > 0);
}

const retryPolicy = webhookRetryPolicy(loadConfig({}));
const backoffDelay = (attempt: number, random: () => number) => retryDelay(retryPolicy, attempt, random);
const MAX_FIRST_BACKOFF = backoffDelay(1, () => 1);
const MAX_SECOND_BACKOFF = backoffDelay(2, () => 1);

describe("delivery", () => {
  test("500 twice then 200: three attempts with one webhook-id, each verified; listed newest first", async () => {
    const s = await t.signUp();
    const key = await secretOf(s);
    const p = await completed(s);
    receiver.respond(500, 500);

    await drain();
    expect(receiver.receipts).toHaveLength(1);
    // Not due before its backoff.
    clock.advance(backoffDelay(1, () => 0) - 1);
    await drain();
    expect(receiver.receipts).toHaveLength(1);
    clock.advance(MAX_FIRST_BACKOFF);
    await drain();
    expect(receiver.receipts).toHaveLength(2);
    clock.advance(MAX_SECOND_BACKOFF);
    await drain();
    expect(receiver.receipts).toHaveLength(3);
    clock.advance(24 * 3600_000);
    await drain();
    expect(receiver.receipts).toHaveLength(3);

    const ids = new Set(receiver.receipts.map((r) => r.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    for (const r of receiver.receipts) {
      const event = expectSchema(PredictionCompletedEventSchema, new Webhook(key).verify(r.body, r.headers));
      expect(event.type).toBe("prediction.completed");
      // data is what GET /api/predictions/{id} answers.
      const got = await t.json("GET", `/api/predictions/${p.id}`, { headers: s.headers });
      expect(event.data).toEqual(got.body);
      expect(event.data).toEqual(p);
      expect(r.headers["content-type"]).toBe("application/json");
    }
    // The same body on every retry.
    expect(new Set(receiver.receipts.map((r) => r.body)).size).toBe(1);

    const list = await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries`, { headers: s.headers });
    expect(list.status).toBe(200);
    const page = expectSchema(WebhookDeliveryListSchema, list.body);
    expect(page.data.map((d) => [d.attempt, d.status, d.responseStatus])).toEqual([
      [3, "succeeded", 200],
      [2, "failed", 500],
      [1, "failed", 500],
    ]);
    expect(page.data.every((d) => d.event === "completed" && d.webhookId === [...ids][0])).toBe(true);
    // Paginated like every list.
    const first = await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries?limit=2`, { headers: s.headers });
    expect(first.body.data).toHaveLength(2);
    const next = await t.json(
      "GET",
      `/api/predictions/${p.id}/webhook-deliveries?limit=2&cursor=${first.body.nextCursor}`,
      { headers: s.headers },
    );
    expect(next.body.data.map((d: { attempt: number }) => d.attempt)).toEqual([1]);
    expect(next.body.nextCursor).toBeNull();
  });

  test("start and completed: start once the provider accepted it, completed once it is final", async () => {
    const s = await t.signUp();
    const p = await create(s, { webhookEvents: ["start", "completed"] });
    await drain();
    expect(receiver.receipts).toHaveLength(1);
    const started = expectSchema(PredictionStartEventSchema, JSON.parse(receiver.receipts[0]?.body ?? ""));
    expect(started.data).toEqual(p);
    expect(started.data.status).toBe("processing");
    await t.json("POST", `/api/predictions/${p.id}/cancel`, { headers: s.headers });
    await drain();
    expect(receiver.receipts.map((r) => JSON.parse(r.body).type)).toEqual(["prediction.start", "prediction.completed"]);
    expect(receiver.receipts[0]?.headers["webhook-id"]).not.toBe(receiver.receipts[1]?.headers["webhook-id"]);
  });

  test("default events: completed only; no webhook: no deliveries; a webhook never moves money", async () => {
    const s = await t.signUp();
    const before = await balanceOf(t, s.userId);
    const p = await create(s);
    await drain();
    expect(receiver.receipts).toHaveLength(0);
    receiver.setDefault(500);
    await t.json("POST", `/api/predictions/${p.id}/cancel`, { headers: s.headers });
    for (let i = 0; i < 5; i++) {
      await drain();
      clock.advance(13 * 3600_000);
    }
    // WEBHOOK_MAX_ATTEMPTS = 4, then failed for good; the refund happened once, whatever the receiver said.
    expect(receiver.receiptsFor(p.id)).toHaveLength(4);
    expect(await balanceOf(t, s.userId)).toBe(before);
    const list = await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries`, { headers: s.headers });
    expect(list.body.data.map((d: { status: string }) => d.status)).toEqual(["failed", "failed", "failed", "failed"]);

    const plain = await t.json("POST", "/api/predictions", { headers: s.headers, body: body() });
    await t.json("POST", `/api/predictions/${plain.body.id}/cancel`, { headers: s.headers });
    const none = await t.json("GET", `/api/predictions/${plain.body.id}/webhook-deliveries`, { headers: s.headers });
    expect(none.body).toEqual({ data: [], nextCursor: null });
  });

  test("a redirect is not followed and a hanging receiver times out: both are failed attempts, retried", async () => {
    const s = await t.signUp();
    const p = await completed(s);
    receiver.respond({ status: 302, headers: { location: "http://127.0.0.1:1/elsewhere" } }, "hang");
    await drain();
    clock.advance(MAX_FIRST_BACKOFF);
    await drain();
    clock.advance(MAX_SECOND_BACKOFF);
    await drain();
    const list = await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries`, { headers: s.headers });
    const rows = list.body.data as { attempt: number; status: string; responseStatus: number | null; error: string }[];
    expect(rows.map((d) => [d.attempt, d.status, d.responseStatus])).toEqual([
      [3, "succeeded", 200],
      [2, "failed", null],
      [1, "failed", 302],
    ]);
    expect(rows[1]?.error).toContain("no answer within 500 ms");
    expect(receiver.receipts.map((r) => r.path)).toEqual(["/hooks", "/hooks", "/hooks"]);
  });

  test("the deliveries of someone else's prediction are 403; an unknown id is 404", async () => {
    const owner = await t.signUp();
    const other = await t.signUp();
    const p = await completed(owner);
    expect(
      (await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries`, { headers: other.headers })).status,
    ).toBe(403);
    const unknown = await t.json("GET", `/api/predictions/${crypto.randomUUID()}/webhook-deliveries`, {
      headers: owner.headers,
    });
    expect(unknown.status).toBe(404);
    expect((await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries`)).status).toBe(401);
    await drain();
  });

  test("metrics: deliveries by outcome and the queue depth", async () => {
    const s = await t.signUp();
    await completed(s);
    const before = await t.fetch("/metrics").then((r) => r.text());
    expect(before).toMatch(/^logo_webhook_queue_depth [1-9]\d*$/m);
    await drain();
    const after = await t.fetch("/metrics").then((r) => r.text());
    expect(after).toMatch(/^logo_webhook_queue_depth 0$/m);
    expect(after).toMatch(/^logo_webhook_deliveries_total\{outcome="succeeded"\} [1-9]\d*$/m);
    expect(after).toMatch(/^logo_webhook_deliveries_total\{outcome="failed"\} \d+$/m);
  });
});

describe("a guest that signs up", () => {
  // Found by the fleet test: an event of a guest's prediction queued before the guest signed up stayed with the
  // deleted guest, could never be signed (its secret was deleted with it) and was never delivered.
  test("events of its jobs, queued before and after the link, are delivered, signed with the secret the guest read", async () => {
    const guest = await t.signInAnonymous();
    const key = await secretOf(guest);
    const before = await completed(guest, { webhookEvents: ["start", "completed"] });
    const account = await t.signUp({ headers: guest.headers });
    expect(account.userId).not.toBe(guest.userId);
    await drain();
    const receipts = receiver.receiptsFor(before.id);
    expect(receipts.map((r) => JSON.parse(r.body).type).sort()).toEqual(["prediction.completed", "prediction.start"]);
    for (const r of receipts) expect(signedBy(key, r)).toBe(true);
    // The account signs with the guest's secret from now on.
    expect(await secretOf(account)).toBe(key);
    const after = await completed(account);
    await drain();
    expect(receiver.receiptsFor(after.id)).toHaveLength(1);
    expect(signedBy(key, receiver.receiptsFor(after.id)[0] as Receipt)).toBe(true);
    const [left] = await t.db
      .select({ n: sql<number>`count(*)::int` })
      .from(webhookDelivery)
      .where(eq(webhookDelivery.status, "pending"));
    expect(left?.n).toBe(0);
  });
});

describe("signing secrets", () => {
  test("created on first read, stored encrypted; after a rotation both verify for 24 h, then only the new one", async () => {
    const s = await t.signUp();
    const old = await secretOf(s);
    expect(await secretOf(s)).toBe(old);
    const [stored] = await t.db.select().from(webhookSecret).where(eq(webhookSecret.userId, s.userId));
    expect(stored?.currentEncrypted).not.toContain(old.slice(6));
    expect(decryptSecret(stored?.currentEncrypted ?? "", t.config.BETTER_AUTH_SECRET)).toBe(old);

    const rotated = await t.json("POST", "/api/webhooks/secret/rotate", { headers: s.headers });
    expect(rotated.status).toBe(200);
    const fresh = expectSchema(SigningSecretSchema, rotated.body).key;
    expect(fresh).not.toBe(old);
    expect(await secretOf(s)).toBe(fresh);

    await completed(s);
    await drain();
    const during = receiver.receipts.at(-1) as Receipt;
    expect(during.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    // (The clock of this file has moved days ahead of real time, so the verifier's ±5 min check cannot pass.)
    expect(signedBy(fresh, during) && signedBy(old, during)).toBe(true);

    clock.advance(24 * 3600_000 - 1000);
    await completed(s);
    await drain();
    const late = receiver.receipts.at(-1) as Receipt;
    expect(signedBy(fresh, late) && signedBy(old, late)).toBe(true);

    clock.advance(2000);
    await completed(s);
    await drain();
    const after = receiver.receipts.at(-1) as Receipt;
    expect(after.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(signedBy(fresh, after)).toBe(true);
    expect(signedBy(old, after)).toBe(false);
  });

  test("the secret routes need a user", async () => {
    expect((await t.json("GET", "/api/webhooks/secret")).status).toBe(401);
    expect((await t.json("POST", "/api/webhooks/secret/rotate")).status).toBe(401);
  });
});

describe("validation and the address guard", () => {
  test("schema: an absolute http(s) URL of at most 2048 characters, events a non-empty subset", async () => {
    const s = await t.signUp();
    for (const over of [
      { webhook: "ftp://example.com/x" },
      { webhook: "/relative" },
      { webhook: `https://example.com/${"a".repeat(2048)}` },
      { webhookEvents: [] },
      { webhookEvents: ["start", "start", "completed"] },
      { webhookEvents: ["done"] },
    ]) {
      const res = await t.json("POST", "/api/predictions", { headers: s.headers, body: body(over) });
      expect(res.status).toBe(400);
      expect(res.body.error.details.issues[0].path).toStartWith("webhook");
    }
  });

  test("in production configuration a loopback, private or metadata URL (and http:) is refused with 400, nothing charged", async () => {
    expect(loadConfig({ NODE_ENV: "production", BETTER_AUTH_SECRET: "x".repeat(32) }).WEBHOOK_ALLOW_PRIVATE_URLS).toBe(
      false,
    );
    expect(loadConfig({ NODE_ENV: "test" }).WEBHOOK_ALLOW_PRIVATE_URLS).toBe(true);
    const prod = await createTestApp({
      database: t.database,
      env: { ...env(), WEBHOOK_ALLOW_PRIVATE_URLS: "false" },
      overrides: { clock },
    });
    try {
      const s = await prod.signUp();
      const before = await balanceOf(t, s.userId);
      for (const url of [
        "https://127.0.0.1/hook",
        "https://127.1.2.3:8443/hook",
        "https://10.0.0.5/hook",
        "https://172.16.9.9/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.100.100.200/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:a9fe:a9fe]/hook",
        "https://localhost/hook",
        "https://api.localhost/hook",
        "http://example.com/hook",
      ]) {
        const res = await prod.json("POST", "/api/predictions", { headers: s.headers, body: body({ webhook: url }) });
        expect(res.status, url).toBe(400);
        expect(res.body.error.code).toBe("validation_error");
        expect(res.body.error.details.issues).toEqual([{ path: "webhook", message: expect.any(String) }]);
      }
      expect(await balanceOf(t, s.userId)).toBe(before);
      const ok = await prod.json("POST", "/api/predictions", {
        headers: s.headers,
        body: body({ webhook: "https://hooks.example.com/logo" }),
      });
      expect(ok.status).toBe(201);
    } finally {
      await prod.close();
    }
  });

  test("at send time a name that resolves to a private address fails the delivery, without a retry", async () => {
    const s = await t.signUp();
    const p = await completed(s, { webhook: receiver.url.replace("127.0.0.1", "localhost") });
    const prod = await createTestApp({
      database: t.database,
      env: { ...env(), WEBHOOK_ALLOW_PRIVATE_URLS: "false" },
      overrides: { clock },
    });
    try {
      await drain(prod.deps);
      clock.advance(24 * 3600_000);
      await drain(prod.deps);
    } finally {
      await prod.close();
    }
    expect(receiver.receipts).toHaveLength(0);
    const list = await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries`, { headers: s.headers });
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({ attempt: 1, status: "failed", responseStatus: null });
    // The listed error does not tell the user what our DNS answered.
    expect(list.body.data[0].error).toBe("the receiver's address is not public");
  });

  test("a literal private address stored while private URLs were allowed is marked failed at send time, not retried", async () => {
    const s = await t.signUp();
    const p = await completed(s); // receiver.url is http://127.0.0.1:…
    const prod = await createTestApp({
      database: t.database,
      env: { ...env(), WEBHOOK_ALLOW_PRIVATE_URLS: "false" },
      overrides: { clock },
    });
    try {
      await drain(prod.deps);
      clock.advance(24 * 3600_000);
      await drain(prod.deps);
    } finally {
      await prod.close();
    }
    expect(receiver.receipts).toHaveLength(0);
    const list = await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries`, { headers: s.headers });
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({
      attempt: 1,
      status: "failed",
      responseStatus: null,
      error: "the receiver's address is not public",
      nextAttemptAt: null,
    });
  });
});

describe("outbox and senders", () => {
  test("a restart in the middle of the backoff still delivers", async () => {
    const s = await t.signUp();
    const p = await completed(s);
    receiver.respond(503);
    const a = await createTestApp({ database: t.database, env: env(), overrides: { clock } });
    const senderA = createWebhookSenderLifecycle(a.deps);
    senderA.start();
    await eventually(() => receiver.receiptsFor(p.id).length === 1);
    await eventually(async () => {
      const [row] = await t.db
        .select({ n: sql<number>`count(*)::int` })
        .from(webhookDelivery)
        .innerJoin(outgoingWebhook, eq(outgoingWebhook.id, webhookDelivery.webhookRowId))
        .where(eq(outgoingWebhook.jobId, p.id));
      return row?.n === 2;
    });
    await senderA.stop();
    await a.close();

    const b = await createTestApp({ database: t.database, env: env(), overrides: { clock } });
    const senderB = createWebhookSenderLifecycle(b.deps);
    senderB.start();
    try {
      clock.advance(MAX_FIRST_BACKOFF + 1000);
      await eventually(() => {
        if (receiver.receiptsFor(p.id).length < 2) clock.advance(1000);
        return receiver.receiptsFor(p.id).length === 2;
      });
    } finally {
      await senderB.stop();
      await b.close();
    }
    const ids = receiver.receiptsFor(p.id).map((r) => r.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(1);
    const list = await t.json("GET", `/api/predictions/${p.id}/webhook-deliveries`, { headers: s.headers });
    expect(list.body.data.map((d: { status: string }) => d.status)).toEqual(["succeeded", "failed"]);
  });

  test("100 predictions finishing at once (cancel, failure and timeout racing) get exactly one completed event each; two instances never send one attempt twice", async () => {
    const s = await t.signUp();
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await create(s)).id);

    const results = await Promise.all(
      ids.flatMap((id) => [
        t.json("POST", `/api/predictions/${id}/cancel`, { headers: s.headers }).then((r) => r.status === 200),
        finishPrediction(t.deps, id, { status: "failed", error: "timeout" }).then((r) => r !== null),
        finishPrediction(t.deps, id, { status: "failed", error: "generation_failed" }).then((r) => r !== null),
      ]),
    );
    expect(results.filter(Boolean)).toHaveLength(100);
    const events = await t.db
      .select({ predictionId: outgoingWebhook.jobId, event: outgoingWebhook.event })
      .from(outgoingWebhook)
      .where(sql`${outgoingWebhook.jobId} in ${ids}`);
    expect(events).toHaveLength(100);
    expect(new Set(events.map((e) => e.predictionId)).size).toBe(100);

    // Two instances on the database, each with several passes at once, racing for the same attempts.
    const other = await createTestApp({ database: t.database, env: env(), overrides: { clock } });
    try {
      for (let round = 0; round < 20; round++) {
        const claimed = await Promise.all([
          ...Array.from({ length: 4 }, () => deliverDueWebhooks(t.deps)),
          ...Array.from({ length: 4 }, () => deliverDueWebhooks(other.deps)),
        ]);
        if (claimed.every((n) => n === 0)) break;
      }
    } finally {
      await other.close();
    }
    const receipts = ids.map((id) => receiver.receiptsFor(id));
    expect(receipts.every((r) => r.length === 1)).toBe(true);
    expect(receiver.receipts).toHaveLength(100);
    for (const [i, [r]] of receipts.entries()) {
      const event = expectSchema(PredictionCompletedEventSchema, JSON.parse(r?.body ?? ""));
      expect(event.data.id).toBe(ids[i] as string);
      expect(event.data.creditsRefunded).toBe(event.data.creditsCharged);
    }
  });
});
