import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { defineRoute, owned } from "../openapi/kit";
import { jsonBody, jsonResponse } from "../openapi/responses";
import {
  AssetKindListSchema,
  AssetListQuerySchema,
  AssetListSchema,
  AssetLocationHeader,
  AssetSchema,
  assetKindList,
  CreateAssetRequestSchema,
  toAsset,
} from "../schemas/assets";
import { PaginationQuerySchema, UuidParamSchema } from "../schemas/common";
import { PreferenceAppliedHeader, PreferWaitHeaderSchema, parsePreferWait } from "../schemas/predictions";
import { createAsset } from "../services/assets/create";
import { listAssets, readOwnedAsset } from "../services/assets/queries";
import { ASSET_KINDS } from "../services/deliverables";
import { ownAsset, ownPrediction } from "./owners";

const kinds = defineRoute({
  method: "get",
  path: "/api/assets/kinds",
  operationId: "listAssetKinds",
  tags: ["Assets"],
  summary: "List the kinds of deliverable",
  description: `What each deliverable (${ASSET_KINDS.map((k) => `\`${k}\``).join(", ")}) is, the files it makes, its price in credits (\`ASSET_CREDITS\`) and its \`options\` as a JSON Schema. Public.`,
  access: "public",
  responses: { 200: jsonResponse(AssetKindListSchema, "Every kind, with its price and files.") },
});

const create = defineRoute({
  method: "post",
  path: "/api/predictions/{id}/assets",
  operationId: "createAsset",
  tags: ["Assets"],
  summary: "Order a deliverable",
  description:
    "Makes a deliverable from one output (`outputIndex`, default 0) of your **succeeded** prediction, read from our storage: a vector SVG, a transparent PNG, an icon set or a brand kit (see `GET /api/assets/kinds`). " +
    "Charges the kind's price in the same transaction as the asset is recorded (402 with `details {required, balance}` and nothing charged when the balance is short); the work runs on worker threads of any instance. " +
    "Poll `urls.get` with `Prefer: wait=N`, or pass `webhook` to get `asset.completed`. A source that is not an image, corrupt or truncated, larger than `ASSET_MAX_PIXELS`, with a side over `ASSET_MAX_SIDE`, or longer than 20 times its width (or the reverse) fails the asset and refunds it (`error.code` `source_invalid`, `source_too_large`); so does a job not done by `ASSET_DEADLINE_MS` (`deadline_exceeded`). " +
    "A prediction that is not `succeeded` is 409; `outputIndex` outside its outputs is 400. " +
    "At most `ASSET_MAX_ACTIVE_PER_USER` (default 10) of your assets are `queued` or `processing` at once: one more is 429 `rate_limited` with `Retry-After`, nothing charged. Jobs are taken round-robin across users, so another user's long queue delays yours by one job at most. " +
    "A failure caused by the source is final at once (refunded), never retried. Send an `Idempotency-Key` to retry safely.",
  access: "owner",
  owner: ownPrediction,
  rateLimit: "strict",
  idempotent: "assets.create",
  request: {
    params: UuidParamSchema,
    body: jsonBody(CreateAssetRequestSchema, "What to make, and from which output."),
  },
  responses: {
    201: jsonResponse(AssetSchema, "Accepted: the asset is `queued` (or already further along).", {
      headers: AssetLocationHeader,
    }),
  },
  errors: [400, 402, 409, 503],
});

const listForPrediction = defineRoute({
  method: "get",
  path: "/api/predictions/{id}/assets",
  operationId: "listPredictionAssets",
  tags: ["Assets"],
  summary: "List a prediction's deliverables",
  description: "The deliverables ordered from this prediction, newest first, cursor-paginated.",
  access: "owner",
  owner: ownPrediction,
  rateLimit: "poll",
  request: { params: UuidParamSchema, query: PaginationQuerySchema },
  responses: { 200: jsonResponse(AssetListSchema, "A page of assets.") },
  errors: [400],
});

const list = defineRoute({
  method: "get",
  path: "/api/assets",
  operationId: "listAssets",
  tags: ["Assets"],
  summary: "List your deliverables",
  description: "Your deliverables, newest first, cursor-paginated, optionally filtered by `kind` and `status`.",
  access: "user",
  rateLimit: "moderate",
  request: { query: AssetListQuerySchema },
  responses: { 200: jsonResponse(AssetListSchema, "A page of assets.") },
  errors: [400],
});

const get = defineRoute({
  method: "get",
  path: "/api/assets/{id}",
  operationId: "getAsset",
  tags: ["Assets"],
  summary: "Get a deliverable",
  description:
    "The asset; `files` lists what to download once it is `succeeded`. With `Prefer: wait=N` (N ≤ 30) the server holds the request until the asset is final or N seconds pass, and answers `Preference-Applied: wait=N`. 403 for another user's asset, 404 for an unknown id.",
  access: "owner",
  owner: ownAsset,
  rateLimit: "poll",
  request: { params: UuidParamSchema, headers: PreferWaitHeaderSchema },
  responses: { 200: jsonResponse(AssetSchema, "The asset.", { headers: PreferenceAppliedHeader }) },
  errors: [400],
});

export function registerAssetRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(kinds, (c) => {
    const { list, text } = assetKindList(c.env.deps.config.ASSET_CREDITS);
    c.header("Cache-Control", "public, max-age=300");
    c.header("Content-Type", "application/json");
    // The same bytes c.json(list) would send, serialized once; typed as its answer for the route's declared response.
    return c.body(text, 200) as unknown as ReturnType<typeof c.json<typeof list, 200>>;
  });

  app.openapi(create, async (c) => {
    const deps = c.env.deps;
    const row = await createAsset(
      deps,
      currentUser(c),
      owned(c, ownPrediction),
      c.req.valid("json"),
      c.get("idempotencyKey"),
    );
    const body = toAsset(row, deps.storage.publicUrl);
    c.header("Location", body.urls.get);
    return c.json(body, 201);
  });

  app.openapi(listForPrediction, async (c) => {
    const deps = c.env.deps;
    const source = owned(c, ownPrediction);
    const page = await listAssets(deps.db, { predictionId: source.id }, c.req.valid("query"));
    return c.json({ data: page.data.map((r) => toAsset(r, deps.storage.publicUrl)), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(list, async (c) => {
    const deps = c.env.deps;
    const page = await listAssets(
      deps.db,
      { userId: currentUser(c).id, livemode: currentUser(c).livemode },
      c.req.valid("query"),
    );
    return c.json({ data: page.data.map((r) => toAsset(r, deps.storage.publicUrl)), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(get, async (c) => {
    const deps = c.env.deps;
    const wait = parsePreferWait(c.req.valid("header").prefer);
    const signal = wait ? c.req.raw.signal : undefined;
    const row = await readOwnedAsset(deps, owned(c, ownAsset), wait ?? 0, signal);
    if (wait !== null) c.header("Preference-Applied", `wait=${wait}`);
    return c.json(toAsset(row, deps.storage.publicUrl), 200);
  });
}
