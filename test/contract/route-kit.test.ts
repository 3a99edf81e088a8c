import { afterAll, describe, expect, test } from "bun:test";
import { edge } from "../../src/middleware/edge";
import { errorHandler } from "../../src/middleware/errors";
import { createRouter, defineRoute, type OwnerResolver, owned, verified } from "../../src/openapi/kit";
import { jsonResponse } from "../../src/openapi/responses";
import { UuidParamSchema } from "../../src/schemas/common";
import { WebhookAckSchema } from "../../src/schemas/webhooks";
import { eachlabsCallbackToken } from "../../src/services/providers/eachlabs-callback";
import { polarEvent, signWebhook } from "../fakes/polar";
import { createTestApp } from "../helpers/app";

/**
 * The checks an access implies run in the kit's middleware, before any handler: routes declared here with
 * handlers that only record that they ran show that a bad signature, a bad callback token, an unknown id or
 * someone else's resource never reaches them.
 */

const SECRET = "polar_whs_route_kit_test";
const t = await createTestApp({ env: { POLAR_WEBHOOK_SECRET: SECRET } });
afterAll(() => t.close());

const a = await t.signUp();
const b = await t.signUp();
const mine: string = crypto.randomUUID();
const rows = new Map<string, { userId: string; livemode: boolean; label: string }>([
  [mine, { userId: a.userId, livemode: true, label: "A's thing" }],
]);
const loads: string[] = [];
const thing: OwnerResolver<{ userId: string; livemode: boolean; label: string }> = {
  name: "Thing",
  load: async (_deps, id) => {
    loads.push(id);
    return rows.get(id);
  },
};

const ran: string[] = [];
const ack = { 200: jsonResponse(WebhookAckSchema, "ok") };
const app = createRouter();
edge(app, t.deps);
app.onError(errorHandler);
app.openapi(defineRoute({ method: "post", path: "/signed", access: "signature", responses: ack }), (c) => {
  ran.push(`signature ${verified(c, "polarEvent").type}`);
  return c.json({ received: true as const }, 200);
});
app.openapi(defineRoute({ method: "post", path: "/callback", access: "callback", responses: ack }), (c) => {
  ran.push(`callback ${verified(c, "callbackPredictionId")}`);
  return c.json({ received: true as const }, 200);
});
app.openapi(
  defineRoute({
    method: "get",
    path: "/things/{id}",
    access: "owner",
    owner: thing,
    request: { params: UuidParamSchema },
    responses: ack,
  }),
  (c) => {
    ran.push(`owner ${owned(c, thing).label}`);
    return c.json({ received: true as const }, 200);
  },
);
const call = async (path: string, init: RequestInit = {}) => {
  const res = await app.request(path, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};

describe('access: "signature"', () => {
  test("a missing, bad or stale signature is 403 and the handler never runs", async () => {
    ran.length = 0;
    const good = signWebhook(polarEvent("order.paid", {}), SECRET);
    const attempts = [
      { body: good.body, headers: { "content-type": "application/json" } },
      { body: good.body, headers: { ...good.headers, "webhook-signature": "v1,AAAA" } },
      { body: `${good.body} `, headers: good.headers },
      signWebhook(polarEvent("order.paid", {}), SECRET, { timestamp: new Date(Date.now() - 3_600_000) }),
    ];
    for (const d of attempts) {
      const res = await call("/signed", { method: "POST", body: d.body, headers: d.headers });
      expect([res.status, res.body.error.code]).toEqual([403, "forbidden"]);
    }
    expect(ran).toEqual([]);
  });

  test("a good one reaches the handler with the verified event", async () => {
    ran.length = 0;
    const d = signWebhook(polarEvent("order.paid", {}), SECRET);
    expect((await call("/signed", { method: "POST", body: d.body, headers: d.headers })).status).toBe(200);
    expect(ran).toEqual(["signature order.paid"]);
  });
});

describe('access: "callback"', () => {
  const id = crypto.randomUUID();
  const token = eachlabsCallbackToken(t.config.BETTER_AUTH_SECRET, id);
  test("a missing token, a wrong one or one minted for another prediction is 403 before the handler", async () => {
    ran.length = 0;
    for (const query of [
      `prediction=${id}`,
      `prediction=${id}&token=x`,
      `prediction=${crypto.randomUUID()}&token=${token}`,
      "",
    ]) {
      const res = await call(`/callback?${query}`, { method: "POST" });
      expect([res.status, res.body.error.code]).toEqual([403, "forbidden"]);
    }
    expect(ran).toEqual([]);
  });

  test("the right token reaches the handler with its prediction id", async () => {
    ran.length = 0;
    expect((await call(`/callback?prediction=${id}&token=${token}`, { method: "POST" })).status).toBe(200);
    expect(ran).toEqual([`callback ${id}`]);
  });
});

describe('access: "owner"', () => {
  test("an unknown or malformed id is 404, someone else's 403, and the handler never runs", async () => {
    ran.length = 0;
    loads.length = 0;
    const cases = [
      [`/things/${crypto.randomUUID()}`, a.headers, 404, "not_found"],
      ["/things/not-a-uuid", a.headers, 404, "not_found"],
      [`/things/${mine}`, b.headers, 403, "forbidden"],
      [`/things/${mine}`, {}, 401, "unauthorized"],
    ] as const;
    for (const [path, headers, status, code] of cases) {
      const res = await call(path, { headers });
      expect([path, res.status, res.body.error.code]).toEqual([path, status, code]);
    }
    expect(ran).toEqual([]);
    // A malformed id is refused without a read; the others are read once each.
    expect(loads).toHaveLength(2);
  });

  test("the owner's request reaches the handler with the row, read once, answered no-store", async () => {
    ran.length = 0;
    loads.length = 0;
    const res = await call(`/things/${mine}`, { headers: a.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(ran).toEqual(["owner A's thing"]);
    expect(loads).toEqual([mine]);
  });
});

describe("derived error responses", () => {
  test("an idempotent route answers 400, 409 and 422 (the key check's) without listing them", () => {
    const route = defineRoute({
      method: "post",
      path: "/orders",
      access: "user",
      idempotent: "orders.create",
      responses: ack,
    });
    const statuses = Object.keys(route.responses).map(Number);
    expect(statuses).toEqual(expect.arrayContaining([400, 401, 409, 413, 422, 500, 503]));
    const plain = defineRoute({ method: "post", path: "/notes", access: "user", responses: ack });
    expect(Object.keys(plain.responses).map(Number)).not.toContain(422);
  });
});
