import { z } from "@hono/zod-openapi";
import { brandKit } from "./brand-kit";
import type { Deliverable } from "./define";
import { icons } from "./icons";
import { lockup } from "./lockup";
import { transparent } from "./transparent";
import { vector } from "./vector";

/**
 * The registry of deliverables: every kind, in the order clients see them. Everything that depends on the set
 * of kinds (their names and prices, ASSET_CREDITS, the request and `Asset.options` schemas, the kinds list with
 * each kind's options as JSON Schema, the worker's dispatch, the database's check on `asset.kind`) is derived
 * from this list. Pure: no database, no native module, so the worker thread and the schema import it too.
 * Adding a kind is one declaration file and one entry here.
 */
export const DELIVERABLES = [vector, transparent, icons, lockup, brandKit] as const;

type AnyDeliverable = (typeof DELIVERABLES)[number];
export type AssetKind = AnyDeliverable["kind"];
export type { Deliverable, MakeContext } from "./define";
export { defineDeliverable } from "./define";

export const ASSET_KINDS = DELIVERABLES.map((d) => d.kind) as [AssetKind, ...AssetKind[]];

const BY_KIND = new Map<string, Deliverable>(DELIVERABLES.map((d) => [d.kind, d as unknown as Deliverable]));

/** The declaration of `kind`, or undefined for a kind this server does not make. */
export const deliverableOf = (kind: string): Deliverable | undefined => BY_KIND.get(kind);

/** Prices in credits unless ASSET_CREDITS says otherwise. */
export const DEFAULT_ASSET_CREDITS = Object.fromEntries(DELIVERABLES.map((d) => [d.kind, d.credits])) as Record<
  AssetKind,
  number
>;

/** The options of a kind with their defaults filled in, as stored and as the worker receives them. */
export function assetOptions(kind: AssetKind, options: unknown): Record<string, unknown> {
  const d = deliverableOf(kind);
  if (!d) throw new Error(`unknown asset kind ${kind}`);
  return d.options.parse(options ?? {}) as Record<string, unknown>;
}

/** A kind's options as a JSON Schema (draft 2020-12, as OpenAPI 3.1 uses), so a client can build a form from it. */
export function optionsJsonSchema(kind: AssetKind): Record<string, unknown> {
  const d = deliverableOf(kind);
  if (!d) throw new Error(`unknown asset kind ${kind}`);
  const { $schema: _drop, ...schema } = z.toJSONSchema(d.options, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return schema;
}
