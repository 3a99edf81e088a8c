import { z } from "@hono/zod-openapi";
import type { AssetRow } from "../db/schemas/assets";
import { ASSET_ERROR_CODES, ASSET_STATUSES, type AssetErrorCode } from "../domain/assets";
import { MAX_OUTPUT_IMAGES } from "../domain/limits";
import { NO_NUL } from "../domain/patterns";
import { ASSET_KINDS, type AssetKind, DELIVERABLES, optionsJsonSchema } from "../services/deliverables";
import { LivemodeSchema, NextCursorSchema, PaginationQuerySchema, TimestampSchema, webhookUrlSchema } from "./common";
import { respond } from "./respond";

export const AssetKindSchema = z.enum(ASSET_KINDS).openapi("AssetKind", {
  description: DELIVERABLES.map((d) => `${d.kind}: ${d.name} (${d.files.join(", ")})`).join("; "),
  example: "vector",
});

export const AssetStatusSchema = z.enum(ASSET_STATUSES).openapi("AssetStatus", {
  description: "queued → processing → succeeded | failed. A failed asset's credits are refunded once.",
  example: "succeeded",
});

const webhookFields = {
  outputIndex: z
    .int()
    .min(0)
    .max(MAX_OUTPUT_IMAGES - 1)
    .default(0)
    .openapi({
      description: "Which of the prediction's `output` images to use (0-based). Outside the outputs: 400.",
      example: 0,
    }),
  webhook: webhookUrlSchema(
    "Where to POST this asset's `asset.completed` event, under the same rules as a prediction's `webhook` (signed with your secret, retried, private addresses refused).",
  ),
  webhookEvents: z
    .array(z.enum(["completed"]))
    .min(1)
    .max(1)
    .default(["completed"])
    .openapi({ description: 'Events to send to `webhook`: `["completed"]` (the default).', example: ["completed"] }),
};

const requests = DELIVERABLES.map((d) =>
  z.strictObject({ kind: z.literal(d.kind), options: d.options.optional(), ...webhookFields }),
);
type KindRequest = (typeof requests)[number];

export const CreateAssetRequestSchema = z
  .discriminatedUnion("kind", requests as unknown as [KindRequest, ...KindRequest[]])
  .openapi("CreateAssetRequest", {
    description:
      "A deliverable to make from one output of the prediction: `kind` decides what `options` may hold. Unknown fields are rejected (400).",
    example: { kind: "vector", outputIndex: 0, options: { mode: "color", maxColors: 6 } },
  });
export type CreateAssetRequest = z.infer<typeof CreateAssetRequestSchema>;

const FileNameSchema = z
  .string()
  .max(100)
  .regex(/^[a-z0-9][a-z0-9./-]*$/)
  .openapi({ example: "logo.svg" });

export const AssetFileSchema = z
  .object({
    name: FileNameSchema,
    url: z.url().max(2048).openapi({ description: "Where to download it: `/files/{key}` or `S3_PUBLIC_URL`." }),
    contentType: z
      .string()
      .max(100)
      .regex(/^[a-z]+\/[a-z0-9.+-]+$/)
      .openapi({ example: "image/svg+xml" }),
    bytes: z.int().min(0).max(1_000_000_000).openapi({ example: 4123 }),
    width: z
      .int()
      .min(1)
      .max(100_000)
      .nullable()
      .openapi({ description: "Pixels (or viewBox units); null for files without a size.", example: 1024 }),
    height: z.int().min(1).max(100_000).nullable().openapi({ example: 1024 }),
  })
  .openapi("AssetFile");

type OptionsSchema = (typeof DELIVERABLES)[number]["options"];

export const AssetSchema = z
  .object({
    id: z.uuid().max(36),
    kind: AssetKindSchema,
    status: AssetStatusSchema,
    predictionId: z.uuid().max(36),
    outputIndex: z
      .int()
      .min(0)
      .max(MAX_OUTPUT_IMAGES - 1),
    options: z.union(DELIVERABLES.map((d) => d.options) as unknown as [OptionsSchema, ...OptionsSchema[]]).openapi({
      description: "The options, with the kind's defaults filled in (see the kind's options in `CreateAssetRequest`).",
      example: { mode: "color", maxColors: 8 },
    }),
    files: z.array(AssetFileSchema).max(20).openapi({ description: "Empty until `succeeded`." }),
    creditsCharged: z.int().min(0).max(1_000_000),
    creditsRefunded: z.int().min(0).max(1_000_000),
    error: z
      .object({
        code: z.enum(ASSET_ERROR_CODES),
        message: z.string().max(500).regex(NO_NUL),
      })
      .nullable()
      .openapi({ description: "Why it failed (its credits were refunded); null otherwise." }),
    createdAt: TimestampSchema,
    completedAt: TimestampSchema.nullable(),
    livemode: LivemodeSchema,
    urls: z.object({
      get: z
        .string()
        .max(100)
        .regex(/^\/api\/assets\/[0-9a-f-]{36}$/)
        .openapi({ example: "/api/assets/3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34" }),
      stream: z
        .string()
        .max(100)
        .regex(/^\/api\/assets\/[0-9a-f-]{36}\/events$/)
        .openapi({ example: "/api/assets/3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34/events" }),
    }),
  })
  .openapi("Asset", {
    description: "A deliverable made from one output of a succeeded prediction: a priced job on the same ledger.",
    example: {
      id: "3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34",
      kind: "vector",
      status: "succeeded",
      predictionId: "0b7c2f0e-5a57-4f55-9b0c-3c0c2b6b7a11",
      outputIndex: 0,
      options: { mode: "color", maxColors: 8 },
      files: [
        {
          name: "logo.svg",
          url: "https://api.logo-api.example/files/9f1c2b3a4d5e6f708192a3b4c5d6e7f8.svg",
          contentType: "image/svg+xml",
          bytes: 4123,
          width: 1024,
          height: 1024,
        },
      ],
      creditsCharged: 1,
      creditsRefunded: 0,
      error: null,
      createdAt: "2026-12-02T12:00:00.000Z",
      completedAt: "2026-12-02T12:00:00.400Z",
      livemode: true,
      urls: {
        get: "/api/assets/3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34",
        stream: "/api/assets/3f2b8a4e-9c1d-4e7a-b6f5-2d8c0e1a9b34/events",
      },
    },
  });
export type Asset = z.infer<typeof AssetSchema>;

export const AssetListSchema = z
  .object({ data: z.array(AssetSchema).max(100), nextCursor: NextCursorSchema })
  .openapi("AssetList", { description: "A page of assets, newest first." });

export const AssetListQuerySchema = PaginationQuerySchema.extend({
  kind: AssetKindSchema.optional().openapi({ param: { name: "kind", in: "query" }, description: "Only this kind." }),
  status: AssetStatusSchema.optional().openapi({
    param: { name: "status", in: "query" },
    description: "Only assets with this status.",
  }),
});

export const AssetKindInfoSchema = z
  .object({
    kind: AssetKindSchema,
    name: z.string().max(100).regex(NO_NUL).openapi({ example: "Vector logo (SVG)" }),
    description: z.string().max(1000).regex(NO_NUL),
    credits: z.int().min(0).max(1000).openapi({ description: "Price in credits (`ASSET_CREDITS`).", example: 1 }),
    files: z
      .array(FileNameSchema)
      .max(20)
      .openapi({ example: ["logo.svg"] }),
    options: z.record(z.string(), z.unknown()).openapi({
      description:
        "The kind's `options` as a JSON Schema (draft 2020-12): each property's type, bounds, enum, pattern and default, so a client can build a form from it.",
      example: {
        type: "object",
        properties: { mode: { type: "string", enum: ["color", "mono"], default: "color" } },
        additionalProperties: false,
      },
    }),
  })
  .openapi("AssetKindInfo");

export const AssetKindListSchema = z
  .object({ data: z.array(AssetKindInfoSchema).max(10) })
  .openapi("AssetKindList", { description: "Every kind of deliverable, with its price and files." });

export const AssetLocationHeader = {
  Location: {
    description: "The new asset's URL (`/api/assets/{id}`).",
    schema: { type: "string", maxLength: 100, pattern: "^/api/assets/[0-9a-f-]{36}$" },
  },
} as const;

/** A row as clients see it; `fileUrl` turns a stored key into its public URL. */
export function toAsset(row: AssetRow, fileUrl: (key: string) => string): Asset {
  const path = `/api/assets/${row.id}`;
  return respond(AssetSchema, {
    id: row.id,
    kind: row.kind as AssetKind,
    status: row.status,
    predictionId: row.predictionId,
    outputIndex: row.outputIndex,
    options: row.options as Asset["options"],
    files:
      row.status === "succeeded"
        ? (row.files ?? []).map((f) => ({
            name: f.name,
            url: fileUrl(f.key),
            contentType: f.contentType,
            bytes: f.bytes,
            width: f.width,
            height: f.height,
          }))
        : [],
    creditsCharged: row.creditsCharged,
    creditsRefunded: row.creditsRefunded,
    error: (row.error ?? null) as { code: AssetErrorCode; message: string } | null,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    livemode: row.livemode,
    urls: { get: path, stream: `${path}/events` },
  });
}

type AssetKindList = z.infer<typeof AssetKindListSchema>;
const kindLists = new WeakMap<Record<AssetKind, number>, { list: AssetKindList; text: string }>();

/**
 * Every kind with its price, files and options' JSON Schema, and that answer serialized: made once per price table
 * (the configuration's, for the app's life). Making the JSON Schemas from Zod on every request was two thirds of
 * the read's CPU, serializing the 6 KB answer most of the rest.
 */
export function assetKindList(prices: Record<AssetKind, number>): { list: AssetKindList; text: string } {
  let made = kindLists.get(prices);
  if (!made) {
    const list = respond(AssetKindListSchema, {
      data: DELIVERABLES.map((d) => ({
        kind: d.kind,
        name: d.name,
        description: d.description,
        credits: prices[d.kind],
        files: [...d.files],
        options: optionsJsonSchema(d.kind),
      })),
    });
    made = { list, text: JSON.stringify(list) };
    kindLists.set(prices, made);
  }
  return made;
}
