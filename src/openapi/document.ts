import type { OpenAPIHono } from "@hono/zod-openapi";
import { mergeAuthDocument } from "../auth/document";
import type { Auth } from "../auth/instance";
import type { AppEnv } from "../deps";
import { HTTP_METHODS, type Json } from "./json";
import { requestIdHeader } from "./responses";

export const API_INFO = {
  title: "Logo API",
  version: "1.0.0",
  description:
    "Paid AI logo generation. Sign up (or start as a guest), buy credits through Polar, spend them on Eachlabs image models, poll predictions and browse your history.\n\n" +
    "Authenticate with a Better Auth session cookie, `Authorization: Bearer <session token>` or `x-api-key: <key>`. " +
    "Every error uses the `Error` envelope and carries the request id from `X-Request-Id`.\n\n" +
    "Rate-limited operations declare `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` on their responses and " +
    "`Retry-After` on 429. Better Auth's endpoints (`/api/auth/*`) are limited by Better Auth itself (per client address " +
    "and path, in production): they answer 429 with `Retry-After` but send no `RateLimit-*` headers.\n\n" +
    "## Webhooks\n\n" +
    "Send `webhook` (and optionally `webhookEvents`) with `POST /api/predictions` and the server POSTs `prediction.start` " +
    "and/or `prediction.completed` to that URL (see the `webhooks` of this document; `callbacks` of `createPrediction` in " +
    "the 3.0 rendition); an asset ordered with `webhook` sends `asset.completed` (`callbacks` of `createAsset`). Each delivery is signed with Standard Webhooks using your secret from `GET /api/webhooks/secret` " +
    "and retried with backoff until a 2xx, up to 8 attempts; dedupe on `webhook-id`. Verify the raw body before trusting it:\n\n" +
    "```js\n" +
    'import { Webhook } from "standardwebhooks";\n' +
    "const wh = new Webhook(process.env.LOGO_API_WEBHOOK_SECRET); // whsec_…\n" +
    "// in your handler, with the body as received (a string, not re-serialized JSON):\n" +
    'const event = wh.verify(rawBody, { "webhook-id": req.headers["webhook-id"],\n' +
    '  "webhook-timestamp": req.headers["webhook-timestamp"], "webhook-signature": req.headers["webhook-signature"] });\n' +
    "// throws on a bad or stale signature; else event.type is prediction.start or prediction.completed\n" +
    "```\n\n" +
    "After `POST /api/webhooks/secret/rotate`, deliveries carry signatures by the new and the previous secret for 24 hours, " +
    "so either secret verifies. Every attempt is listed at `GET /api/predictions/{id}/webhook-deliveries`.\n\n" +
    "The same contract as OpenAPI 3.0.3 is served at `/openapi-3.0.json`; the reference page is `/docs`.",
  contact: { name: "Logo API support", email: "support@logo-api.example", url: "https://logo-api.example/support" },
  license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
};

export const SERVERS = [{ url: "https://api.logo-api.example", description: "Production", "x-internal": false }];

/**
 * The document's servers as served by a deployment: itself (`PUBLIC_URL`) first, since generated clients (hey-api,
 * orval, OpenAPI::Client) default to the first one, then the others it does not duplicate.
 */
export function serversFor(publicUrl: string) {
  const self = SERVERS.find((s) => s.url === publicUrl) ?? {
    url: publicUrl,
    description: "This server: the deployment (local, staging or production) this document was served from",
    "x-internal": false,
  };
  return [self, ...SERVERS.filter((s) => s !== self)];
}

export const SECURITY_SCHEMES = {
  metricsToken: {
    type: "http",
    scheme: "bearer",
    description: "The `METRICS_TOKEN` of the deployment; only for `GET /metrics`, and only when it is set.",
  },
  cookieAuth: {
    type: "apiKey",
    in: "cookie",
    name: "better-auth.session_token",
    description:
      "Better Auth session cookie, set by the sign-in endpoints (`__Secure-` prefixed in production). A POST, PUT, PATCH or DELETE made with it must carry an `Origin` (or, without one, a `Referer`) in the deployment's `ALLOWED_ORIGINS`, else 403 `forbidden`.",
  },
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    description: "A Better Auth session token (returned in the `set-auth-token` header on sign-in).",
  },
  apiKeyAuth: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "An API key created by a signed-in user through `POST /api/auth/api-key/create`.",
  },
  adminCookieAuth: {
    type: "apiKey",
    in: "cookie",
    name: "better-auth.session_token",
    description:
      "The Better Auth session cookie of a user with the `admin` role (`ADMIN_EMAILS`, or set by an admin). Writes made with it need an allowed `Origin` like any cookie write.",
  },
  adminBearerAuth: {
    type: "http",
    scheme: "bearer",
    description: "A Better Auth session token of a user with the `admin` role.",
  },
  adminApiKeyAuth: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "An API key of a user with the `admin` role.",
  },
  webhookSignature: {
    type: "apiKey",
    in: "header",
    name: "webhook-signature",
    description:
      "Standard Webhooks signature (`v1,<base64 HMAC-SHA256>`) of `{webhook-id}.{webhook-timestamp}.{raw body}` with the deployment's `POLAR_WEBHOOK_SECRET`; sent by Polar with `webhook-id` and `webhook-timestamp`.",
  },
  eachlabsCallbackToken: {
    type: "apiKey",
    in: "query",
    name: "token",
    description:
      "The per-prediction token in the `webhook_url` this server gives Eachlabs when it creates a prediction (base64url HMAC-SHA256 of the prediction id, keyed from the deployment's secret). Only Eachlabs has it; it authorizes a refresh of that one prediction, nothing else.",
  },
} as const;

export const TAGS: [string, string][] = [
  ["Health", "Service status and metrics."],
  // Not "Models": Scalar lists the schemas under "Models", and two sections of one name confuse readers.
  ["Catalog", "The catalog of generation models and their prices."],
  ["Predictions", "Create logo generations and follow them to completion."],
  ["Generations", "Your generation history, read from storage."],
  [
    "Assets",
    "Deliverables made from a succeeded prediction's output: a vector SVG, a transparent PNG, favicons and app icons, a brand kit. Priced in credits, run as jobs.",
  ],
  ["Files", "Output images kept in our own storage: the URLs in a succeeded prediction's `output`."],
  ["Credits", "Balances, packages, purchases and the credit ledger."],
  [
    "Webhooks",
    "Signed callbacks from Polar and completion callbacks from Eachlabs, and the webhooks this server sends you about your predictions: your signing secret and the delivery attempts.",
  ],
  ["Admin", "Analytics, users and credit adjustments (admin role)."],
  [
    "Sandbox",
    "Images drawn by the sandbox provider, when the server runs without an Eachlabs key (never in production).",
  ],
  [
    "Auth",
    "Better Auth: sign-up, sign-in (email/password, anonymous), sessions, API keys and admin user management. Paths are under /api/auth. Its errors use the `Error` envelope too, with Better Auth's own code in `details.authCode`.",
  ],
];

/**
 * The live OpenAPI 3.1 document: our routes plus Better Auth's, merged under /api/auth (tag Auth), naming the server
 * it is served from (`PUBLIC_URL`) first.
 */
export async function buildOpenApiDocument(app: OpenAPIHono<AppEnv>, auth: Auth, publicUrl: string): Promise<Json> {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES))
    app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: API_INFO,
    servers: serversFor(publicUrl),
    security: [{ cookieAuth: [] }, { bearerAuth: [] }, { apiKeyAuth: [] }],
    tags: [],
  }) as Json;
  const authDoc = (await auth.api.generateOpenAPISchema()) as Json;
  return finalizeDocument(mergeAuthDocument(doc, authDoc));
}

const CORS_HEADER = {
  "Access-Control-Allow-Origin": {
    description:
      "Present when the request's `Origin` is one of the deployment's `ALLOWED_ORIGINS` (echoed, with `Access-Control-Allow-Credentials: true`); absent otherwise.",
    schema: { type: "string", format: "uri", maxLength: 2048 },
  },
};

/** Longest text of a value in these formats (date-time: "2026-11-25T12:00:00.123456789+05:30" is 35). */
const FORMAT_MAX_LENGTH: Record<string, number> = { uuid: 36, "date-time": 64, date: 10, ipv4: 15, ipv6: 45 };

/** Smallest integer format whose range holds the schema's bounds. */
function integerFormat(s: Json): "int32" | "int64" {
  const lo =
    typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum : -Infinity;
  const hi =
    typeof s.maximum === "number" ? s.maximum : typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum : Infinity;
  return lo >= -2_147_483_648 && hi <= 2_147_483_647 ? "int32" : "int64";
}

function walkSchemas(v: unknown, fn: (s: Json) => void): void {
  if (Array.isArray(v)) for (const x of v) walkSchemas(x, fn);
  else if (v && typeof v === "object") {
    fn(v as Json);
    for (const x of Object.values(v)) walkSchemas(x, fn);
  }
}

/**
 * Things every operation must say, filled where a source left them out: X-Request-Id and the CORS
 * header on every response (the app sets both on every route), an int32/int64 format on every
 * integer (from its bounds), and the top-level tags that operations use.
 */
export function finalizeDocument(doc: Json): Json {
  const used = new Set<string>();
  for (const item of Object.values<Json>(doc.paths ?? {}))
    for (const m of HTTP_METHODS) {
      const op = item[m];
      if (!op) continue;
      for (const t of op.tags ?? []) used.add(t);
      for (const response of Object.values<Json>(op.responses ?? {})) {
        if (response.$ref) continue;
        response.headers = {
          ...structuredClone(requestIdHeader),
          ...structuredClone(CORS_HEADER),
          ...response.headers,
        };
      }
    }
  const bound = (s: Json) => {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (types.includes("integer") && !s.format) s.format = integerFormat(s);
    // A format that fixes the length also bounds it: say so, as OWASP asks for maxLength.
    if (types.includes("string") && s.maxLength === undefined && FORMAT_MAX_LENGTH[s.format])
      s.maxLength = FORMAT_MAX_LENGTH[s.format];
  };
  walkSchemas(doc.paths, bound);
  walkSchemas(doc.components?.schemas, bound);
  // Only tags described in TAGS are declared: an operation with a new tag fails the lint and the contract
  // test until its description is added there.
  doc.tags = TAGS.filter(([n]) => used.has(n)).map(([name, description]) => ({ name, description }));
  if (doc.webhooks && !Object.keys(doc.webhooks).length) delete doc.webhooks;
  return doc;
}
