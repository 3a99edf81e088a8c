import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/**
 * A fake Polar API on 127.0.0.1 speaking the checkout wire contract the SDK (1.x, API 2026-04)
 * uses — `POST /v1/checkouts/` with a bearer token, 201 with a Checkout — plus a signer that signs
 * webhook events the way Polar does, and realistic Order payloads.
 *
 * With `hostCheckouts(webhookUrl)`, checkouts are also pages a browser can open, as Polar's are: the checkout's
 * `url` is `GET /checkout/{id}` on this fake, whose "Pay" button sends the signed `order.paid` webhook to
 * `webhookUrl` (the API's `/api/webhooks/polar`) and then redirects to the checkout's `success_url`.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
}

type Scripted =
  | { kind: "error"; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: "hang" }
  | { kind: "garbage" };

export interface FakePolar {
  url: string;
  accessToken: string;
  requests: RecordedRequest[];
  /** the next checkout request answers this status and body */
  failNext(status: number, body?: unknown, headers?: Record<string, string>): void;
  /** the next checkout request never answers (the SDK's timeout fires) */
  hangNext(): void;
  /** the next checkout request answers 201 with a body that is not a checkout */
  garbageNext(): void;
  reset(): void;
  /** Serve each new checkout as a page whose payment delivers `order.paid` to `webhookUrl` (see above). */
  hostCheckouts(webhookUrl: string, secret?: string): void;
  /** Paid checkouts' webhook deliveries, in order: the status the receiver answered. */
  deliveries: Array<{ checkoutId: string; status: number }>;
  close(): Promise<void>;
}

interface HostedCheckout {
  id: string;
  productId: string;
  metadata: Record<string, string | number | boolean>;
  externalCustomerId: string | null;
  successUrl: string | null;
  paid: boolean;
}

export async function startFakePolar(opts: { accessToken?: string } = {}): Promise<FakePolar> {
  const accessToken = opts.accessToken ?? "polar_oat_test_token";
  const requests: RecordedRequest[] = [];
  const script: Scripted[] = [];
  const hanging = new Set<ServerResponse>();
  let hosting: { webhookUrl: string; secret: string } | undefined;
  const checkouts = new Map<string, HostedCheckout>();
  const deliveries: FakePolar["deliveries"] = [];

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    requests.push({ method: req.method ?? "GET", path: url.pathname, headers, body });

    // The hosted checkout pages: a buyer's browser, no token.
    const page = /^\/checkout\/([0-9a-f-]{36})(\/pay)?$/.exec(url.pathname);
    if (page && hosting) {
      const checkout = checkouts.get(page[1] as string);
      if (!checkout) return send(res, 404, { error: "ResourceNotFound", detail: "Not found" });
      if (!page[2] && req.method === "GET") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        return res.end(checkoutPage(checkout));
      }
      if (page[2] && req.method === "POST") {
        if (!checkout.paid) {
          checkout.paid = true;
          const order = polarOrder({
            productId: checkout.productId,
            externalCustomerId: checkout.externalCustomerId,
            metadata: checkout.metadata,
          });
          const delivery = signWebhook(
            polarEvent("order.paid", { ...order, checkout_id: checkout.id }),
            hosting.secret,
          );
          const answer = await fetch(hosting.webhookUrl, {
            method: "POST",
            headers: delivery.headers,
            body: delivery.body,
          });
          deliveries.push({ checkoutId: checkout.id, status: answer.status });
        }
        const back = (checkout.successUrl ?? "about:blank").replace("{CHECKOUT_ID}", checkout.id);
        res.writeHead(303, { location: back });
        return res.end();
      }
      return send(res, 405, { error: "MethodNotAllowed" });
    }

    if (headers.authorization !== `Bearer ${accessToken}`)
      return send(res, 401, { error: "Unauthorized", detail: "Invalid or missing access token." });
    if (req.method !== "POST" || url.pathname !== "/v1/checkouts/")
      return send(res, 404, { error: "ResourceNotFound", detail: "Not found" });

    const next = script.shift();
    if (next?.kind === "hang") {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (next?.kind === "error") return send(res, next.status, next.body, next.headers);
    if (next?.kind === "garbage") return send(res, 201, { ok: true });

    if (!Array.isArray(body?.products) || body.products.length === 0)
      return send(res, 422, {
        detail: [{ loc: ["body", "products"], msg: "Field required", type: "missing", input: body }],
      });
    const checkout = checkoutResponse(body);
    if (hosting) {
      checkouts.set(checkout.id, {
        id: checkout.id,
        productId: checkout.product_id,
        metadata: checkout.metadata,
        externalCustomerId: checkout.external_customer_id,
        successUrl: body.success_url ?? null,
        paid: false,
      });
      checkout.url = `http://127.0.0.1:${port}/checkout/${checkout.id}`;
    }
    return send(res, 201, checkout);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accessToken,
    requests,
    failNext(status, body = { error: "Internal Server Error" }, headers) {
      script.push({ kind: "error", status, body, headers });
    },
    hangNext() {
      script.push({ kind: "hang" });
    },
    garbageNext() {
      script.push({ kind: "garbage" });
    },
    reset() {
      requests.length = 0;
      script.length = 0;
    },
    hostCheckouts(webhookUrl, secret = WEBHOOK_SECRET) {
      hosting = { webhookUrl, secret };
    },
    deliveries,
    async close() {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The hosted checkout: what is bought, and a button that pays (a form POST, so it works without script). */
function checkoutPage(c: HostedCheckout): string {
  const esc = (v: unknown) => String(v).replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><link rel="icon" href="data:,">
<title>Checkout (fake Polar)</title><style>body{font:16px system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}
button{font:inherit;padding:.5rem 1rem;background:#0062ff;color:#fff;border:0;border-radius:6px}</style></head>
<body><h1>Checkout</h1><p>Fake Polar, test mode. Product <code>${esc(c.productId)}</code>${
    c.metadata.packageId ? ` (package <code>${esc(c.metadata.packageId)}</code>)` : ""
  }.</p>
<form method="post" action="/checkout/${esc(c.id)}/pay"><button id="pay" type="submit">Pay</button></form></body></html>`;
}

/** The Checkout Polar answers to `POST /v1/checkouts/` (the fields clients read, and enough of the rest). */
function checkoutResponse(body: any) {
  const id = crypto.randomUUID();
  const now = new Date();
  const productId = body.products[0];
  return {
    id,
    created_at: now.toISOString(),
    modified_at: null,
    payment_processor: "stripe",
    status: "open",
    client_secret: `polar_c_${crypto.randomUUID().replace(/-/g, "")}`,
    url: `https://sandbox.polar.sh/checkout/polar_c_${id.replace(/-/g, "").slice(0, 24)}`,
    expires_at: new Date(now.getTime() + 60 * 60 * 1000).toISOString(),
    success_url: body.success_url ?? "https://sandbox.polar.sh/checkout/success",
    return_url: null,
    embed_origin: null,
    amount: 2000,
    discount_amount: 0,
    net_amount: 2000,
    tax_amount: null,
    total_amount: 2000,
    currency: "usd",
    organization_id: "9d1c5b0e-0000-4000-8000-00000000f00d",
    product_id: productId,
    product_price_id: crypto.randomUUID(),
    discount_id: null,
    allow_discount_codes: true,
    require_billing_address: false,
    is_discount_applicable: true,
    is_free_product_price: false,
    is_payment_required: true,
    is_payment_setup_required: false,
    is_payment_form_required: true,
    customer_id: null,
    is_business_customer: false,
    customer_name: null,
    customer_email: body.customer_email ?? null,
    customer_ip_address: null,
    customer_billing_name: null,
    customer_billing_address: null,
    customer_tax_id: null,
    payment_method_type: null,
    payment_processor_metadata: {},
    metadata: body.metadata ?? {},
    external_customer_id: body.external_customer_id ?? null,
    customer_metadata: {},
    products: [{ id: productId, name: "Credits", is_recurring: false }],
    subscription_id: null,
    attached_custom_fields: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Webhooks

export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
  webhookId: string;
}

/**
 * Signs like Polar: Standard Webhooks over `${id}.${timestamp}.${body}` with the UTF-8 bytes of the
 * whole secret as the HMAC key. The standardwebhooks package base64-decodes its secret, so the
 * secret is base64-encoded first.
 */
export function signWebhook(
  payload: unknown,
  secret: string,
  opts: { webhookId?: string; timestamp?: Date; body?: string } = {},
): SignedDelivery {
  const body = opts.body ?? JSON.stringify(payload);
  const webhookId = opts.webhookId ?? `msg_${crypto.randomUUID().replace(/-/g, "")}`;
  const timestamp = opts.timestamp ?? new Date();
  const signature = new Webhook(Buffer.from(secret, "utf8").toString("base64")).sign(webhookId, timestamp, body);
  return {
    body,
    webhookId,
    headers: {
      "content-type": "application/json",
      "webhook-id": webhookId,
      "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "webhook-signature": signature,
    },
  };
}

export interface OrderOptions {
  id?: string;
  productId?: string | null;
  /** the checkout's external_customer_id (our user id) */
  externalCustomerId?: string | null;
  metadata?: Record<string, string | number | boolean>;
  totalAmount?: number;
  refundedAmount?: number;
  status?: "pending" | "paid" | "refunded" | "partially_refunded" | "void";
  currency?: string;
}

/** A realistic Polar Order (API 2026-04), as it appears in `data` of order.* webhooks. */
export function polarOrder(o: OrderOptions = {}) {
  const id = o.id ?? crypto.randomUUID();
  const total = o.totalAmount ?? 2000;
  const refunded = o.refundedAmount ?? 0;
  const status = o.status ?? (refunded === 0 ? "paid" : refunded >= total ? "refunded" : "partially_refunded");
  const productId = o.productId === undefined ? "prod-pro" : o.productId;
  const now = new Date().toISOString();
  const customerId = crypto.randomUUID();
  return {
    id,
    created_at: now,
    modified_at: now,
    status,
    paid: status !== "pending" && status !== "void",
    subtotal_amount: total,
    discount_amount: 0,
    net_amount: total,
    tax_amount: 0,
    total_amount: total,
    applied_balance_amount: 0,
    due_amount: 0,
    refunded_amount: refunded,
    refunded_tax_amount: 0,
    currency: o.currency ?? "usd",
    billing_reason: "purchase",
    billing_name: "Ada Lovelace",
    billing_address: { country: "GB", line1: null, line2: null, postal_code: null, city: null, state: null },
    invoice_number: `POLAR-0001-${id.slice(0, 4).toUpperCase()}`,
    is_invoice_generated: false,
    receipt_number: null,
    seats: null,
    units: null,
    customer_id: customerId,
    product_id: productId,
    discount_id: null,
    subscription_id: null,
    checkout_id: crypto.randomUUID(),
    metadata: o.metadata ?? {},
    custom_field_data: {},
    platform_fee_amount: Math.round(total * 0.05),
    platform_fee_currency: "usd",
    customer: {
      id: customerId,
      created_at: now,
      modified_at: null,
      metadata: {},
      external_id: o.externalCustomerId === undefined ? null : o.externalCustomerId,
      email: "ada@example.com",
      email_verified: true,
      type: "individual",
      name: "Ada Lovelace",
      billing_name: null,
      billing_address: null,
      tax_id: null,
      locale: null,
      organization_id: "9d1c5b0e-0000-4000-8000-00000000f00d",
      deleted_at: null,
      first_user_event_at: null,
      avatar_url: "https://www.gravatar.com/avatar/0?d=404",
    },
    product: productId
      ? {
          metadata: {},
          id: productId,
          created_at: now,
          modified_at: null,
          trial_interval: null,
          trial_interval_count: null,
          name: "Credits",
          description: null,
          visibility: "public",
          recurring_interval: null,
          recurring_interval_count: null,
          meter_interval: null,
          meter_interval_count: null,
          is_recurring: false,
          is_archived: false,
          organization_id: "9d1c5b0e-0000-4000-8000-00000000f00d",
        }
      : null,
    discount: null,
    subscription: null,
    items: [
      {
        created_at: now,
        modified_at: null,
        id: crypto.randomUUID(),
        label: "Credits",
        amount: total,
        tax_amount: 0,
        proration: false,
        product_price_id: crypto.randomUUID(),
      },
    ],
    description: "Credits",
    refundable_amount: total - refunded,
    refundable_tax_amount: 0,
  };
}

/** A webhook event envelope around a resource. */
export function polarEvent(type: string, data: unknown) {
  return { type, timestamp: new Date().toISOString(), api_version: "2026-04", data };
}

/** Configuration shared by the tests that talk to this fake. */
export const WEBHOOK_SECRET = "polar_whs_test_8Jx2kQ9mZr4Tn7Vb";

export const PACKAGES = [
  { id: "starter", name: "Starter", credits: 10, priceCents: 500, currency: "usd", polarProductId: "prod-starter" },
  { id: "pro", name: "Pro", credits: 50, priceCents: 2000, currency: "usd", polarProductId: "prod-pro" },
  { id: "legacy", name: "Legacy", credits: 5, priceCents: 300, currency: "eur", polarProductId: null },
];

export function polarEnv(fake: { url: string; accessToken: string }, extra: Record<string, string> = {}) {
  return {
    POLAR_ACCESS_TOKEN: fake.accessToken,
    POLAR_WEBHOOK_SECRET: WEBHOOK_SECRET,
    POLAR_BASE_URL: fake.url,
    CREDIT_PACKAGES: JSON.stringify(PACKAGES),
    SIGNUP_CREDITS: "3",
    ANONYMOUS_CREDITS: "1",
    ...extra,
  };
}
