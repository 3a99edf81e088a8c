import { z } from "@hono/zod-openapi";
import type { AssetRow } from "../db/schemas/assets";
import {
  ASSET_ERROR_CODES,
  ASSET_KIND_CATALOG,
  ASSET_KINDS,
  ASSET_STATUSES,
  type AssetErrorCode,
  type AssetKind,
} from "../domain/assets";
import { MAX_OUTPUT_IMAGES } from "../domain/limits";
import { HEX_COLOR, NO_NUL } from "../domain/patterns";
import { LivemodeSchema, NextCursorSchema, PaginationQuerySchema, TimestampSchema, webhookUrlSchema } from "./common";
import { respond } from "./respond";

export const AssetKindSchema = z.enum(ASSET_KINDS).openapi("AssetKind", {
  description:
    "vector: logo.svg; transparent: logo.png without its background; icons: favicons, app icons, manifest and head snippet; brand-kit: brand-kit.zip with all of it.",
  example: "vector",
});

export const AssetStatusSchema = z.enum(ASSET_STATUSES).openapi("AssetStatus", {
  description: "queued → processing → succeeded | failed. A failed asset's credits are refunded once.",
  example: "succeeded",
});

export const VectorOptionsSchema = z
  .strictObject({
    mode: z.enum(["color", "mono"]).default("color").openapi({
      description: "`color` keeps the palette; `mono` gives one fill colour plus transparency.",
    }),
    maxColors: z.int().min(2).max(16).default(8).openapi({
      description: "The palette is reduced to at most this many colours (background included) before tracing.",
    }),
  })
  .openapi("VectorOptions", { example: { mode: "color", maxColors: 8 } });

export const TransparentOptionsSchema = z
  .strictObject({
    mode: z.enum(["border", "all"]).default("border").openapi({
      description:
        "`border`: remove the background where it touches the image's edge (enclosed regions stay opaque); `all`: remove every pixel within `tolerance` of the background colour.",
    }),
    tolerance: z.int().min(0).max(100).default(10).openapi({
      description:
        "How far a pixel may be from the background colour and still count as background: % of 255 per channel.",
    }),
  })
  .openapi("TransparentOptions", { example: { mode: "border", tolerance: 10 } });

export const IconsOptionsSchema = z
  .strictObject({
    background: z.string().regex(HEX_COLOR).max(7).optional().openapi({
      description:
        "The background of the opaque and maskable icons, `#RRGGBB`; default: the source's background colour.",
      example: "#FFFFFF",
    }),
  })
  .openapi("IconsOptions", { example: { background: "#FFFFFF" } });

export const BrandKitOptionsSchema = z.strictObject({}).openapi("BrandKitOptions", { example: {} });

const OPTIONS_OF = {
  vector: VectorOptionsSchema,
  transparent: TransparentOptionsSchema,
  icons: IconsOptionsSchema,
  "brand-kit": BrandKitOptionsSchema,
} as const satisfies Record<AssetKind, z.ZodType>;

/** The options of a kind with their defaults filled in, as stored and as the worker receives them. */
export function assetOptions(kind: AssetKind, options: unknown): Record<string, unknown> {
  return OPTIONS_OF[kind].parse(options ?? {}) as Record<string, unknown>;
}

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

const request = <K extends AssetKind>(kind: K) =>
  z.strictObject({
    kind: z.literal(kind),
    options: OPTIONS_OF[kind].optional(),
    ...webhookFields,
  });

export const CreateAssetRequestSchema = z
  .discriminatedUnion("kind", [request("vector"), request("transparent"), request("icons"), request("brand-kit")])
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
    options: z
      .strictObject({
        mode: z.enum(["color", "mono", "border", "all"]).optional(),
        maxColors: z.int().min(2).max(16).optional(),
        tolerance: z.int().min(0).max(100).optional(),
        background: z.string().regex(HEX_COLOR).max(7).optional(),
      })
      .openapi({
        description:
          "The options, with the kind's defaults filled in (see the kind's options in `CreateAssetRequest`).",
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

export function toAssetKindList(prices: Record<AssetKind, number>) {
  return respond(AssetKindListSchema, {
    data: ASSET_KINDS.map((kind) => ({
      kind,
      ...ASSET_KIND_CATALOG[kind],
      files: [...ASSET_KIND_CATALOG[kind].files],
      credits: prices[kind],
    })),
  });
}
