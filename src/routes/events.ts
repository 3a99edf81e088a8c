import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { currentUser } from "../auth/session";
import type { AppEnv } from "../deps";
import { isAssetFinal } from "../domain/assets";
import { isFinal } from "../domain/predictions";
import { defineRoute, owned } from "../openapi/kit";
import { requestIdHeader } from "../openapi/responses";
import { toAsset } from "../schemas/assets";
import { UuidParamSchema } from "../schemas/common";
import { toPrediction } from "../schemas/predictions";
import { findAsset } from "../services/assets/queries";
import { loadRow, MIN_SYNC_INTERVAL_MS, refreshPrediction } from "../services/predictions";
import { providerFor } from "../services/providers/provider";
import {
  type JobSnapshot,
  type JobStream,
  parseLastEventId,
  runJobStream,
  STREAM_PING_MS,
  STREAM_RETRY_MS,
} from "../services/streams";
import { ownAsset, ownPredictionView } from "./owners";

/** GET /api/predictions/{id}/events and /api/assets/{id}/events: a paid job as Server-Sent Events. */

const LastEventIdHeaderSchema = z.object({
  "last-event-id": z
    .string()
    .max(15)
    .regex(/^[0-9]+$/)
    .optional()
    .openapi({
      description:
        "The `id` of the last event received (a version), as `EventSource` sends it on a reconnect: the current state is sent only if it is newer. A final resource is sent as `done` whatever this says.",
      example: "3",
    }),
});

const eventStream = (what: string, example: string) => ({
  description:
    `A \`text/event-stream\`: at once \`event: status\` with the ${what} as its GET answers it (\`data:\` JSON), one more on every change, then \`event: done\` with the final ${what}, and the stream ends. ` +
    `Each event's \`id:\` is the ${what}'s version, a decimal integer that grows with every change. A comment line (\`: ping\`) comes at least every ${STREAM_PING_MS / 1000} s. ` +
    `When the server ends a stream that is not done (after \`STREAM_MAX_MS\`, on shutdown, during a database outage) it sends \`retry: ${STREAM_RETRY_MS}\` first: reconnect with \`Last-Event-ID\`.`,
  headers: { ...requestIdHeader },
  content: {
    "text/event-stream": {
      // No maxLength: a stream is as long as the job takes (bounded in time by STREAM_MAX_MS, not in bytes).
      schema: z.string().openapi({
        description: "Server-Sent Events (`event`, `id` and `data` lines; `data` is the resource as JSON).",
        pattern: "^((event|id|data|retry): [^\\n]*\\n|:[^\\n]*\\n|\\n)*$",
        example,
      }),
    },
  },
});

const PREDICTION_EXAMPLE =
  'event: status\ndata: {"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","status":"processing",…}\nid: 2\n\n: ping\n\nevent: done\ndata: {"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","status":"succeeded",…}\nid: 3\n\n';
const ASSET_EXAMPLE =
  'event: status\ndata: {"id":"3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34","status":"processing",…}\nid: 2\n\nevent: done\ndata: {"id":"3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34","status":"succeeded",…}\nid: 3\n\n';

const limits =
  "At most `STREAMS_PER_USER` (default 10) open streams per user on one instance: one more is 429. A stream ends after `STREAM_MAX_MS` (default 10 minutes). " +
  "A browser's `EventSource` authenticates with the session cookie (`withCredentials`); bearer and API-key clients read the stream with `fetch`.";

const predictionEvents = defineRoute({
  method: "get",
  path: "/api/predictions/{id}/events",
  operationId: "streamPredictionEvents",
  tags: ["Predictions"],
  summary: "Follow a prediction (Server-Sent Events)",
  description:
    "The prediction's status as it changes, pushed the moment any instance commits the change: `status` events, then `done` with the final prediction (`output` on success). A prediction that is already final gets one `done` and the stream ends. " +
    limits,
  access: "owner",
  owner: ownPredictionView,
  rateLimit: "poll",
  request: { params: UuidParamSchema, headers: LastEventIdHeaderSchema },
  responses: { 200: eventStream("prediction", PREDICTION_EXAMPLE) },
  errors: [400],
});

const assetEvents = defineRoute({
  method: "get",
  path: "/api/assets/{id}/events",
  operationId: "streamAssetEvents",
  tags: ["Assets"],
  summary: "Follow a deliverable (Server-Sent Events)",
  description:
    "The asset's status as it changes: `status` events, then `done` with the final asset (`files` on success). An asset that is already final gets one `done` and the stream ends. " +
    limits,
  access: "owner",
  owner: ownAsset,
  rateLimit: "poll",
  request: { params: UuidParamSchema, headers: LastEventIdHeaderSchema },
  responses: { 200: eventStream("asset", ASSET_EXAMPLE) },
  errors: [400],
});

/** The SSE answer: the slot is taken before the stream starts, so over the limit is a plain 429 envelope. */
function sse(c: Context<AppEnv>, job: Omit<JobStream, "slot" | "lastEventId">) {
  const deps = c.env.deps;
  const slot = deps.streams.open(currentUser(c).id);
  const lastEventId = parseLastEventId(c.req.header("last-event-id"));
  const res = streamSSE(c, (stream) => runJobStream(deps, stream, { ...job, slot, lastEventId }));
  // streamSSE says no-cache; a private answer is no-store like every other (the kit's header).
  res.headers.set("Cache-Control", "no-store");
  // nginx and similar proxies would otherwise buffer the stream.
  res.headers.set("X-Accel-Buffering", "no");
  return res;
}

export function registerEventRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(predictionEvents, (c) => {
    const deps = c.env.deps;
    const { id, livemode } = owned(c, ownPredictionView);
    // A provider without completion callbacks is only heard by asking it: then re-read (and so refresh) about as
    // often as a `Prefer: wait` does; otherwise the change signal carries every change.
    const polled = providerFor(deps, livemode)?.mode === "eachlabs" && !deps.config.EACHLABS_CALLBACKS;
    return sse(c, {
      type: "prediction",
      id,
      rereadEveryMs: polled ? MIN_SYNC_INTERVAL_MS : undefined,
      read: async (): Promise<JobSnapshot> => {
        const row = await refreshPrediction(deps, await loadRow(deps.db, id));
        return { version: row.version, final: isFinal(row.status), resource: toPrediction(row) };
      },
    }) as never;
  });

  app.openapi(assetEvents, (c) => {
    const deps = c.env.deps;
    const { id } = owned(c, ownAsset);
    return sse(c, {
      type: "asset",
      id,
      read: async (): Promise<JobSnapshot> => {
        const row = await findAsset(deps.db, id);
        if (!row) throw new Error("the asset is gone");
        return {
          version: row.version,
          final: isAssetFinal(row.status),
          resource: toAsset(row, deps.storage.publicUrl),
        };
      },
    }) as never;
  });
}
