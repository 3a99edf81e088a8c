import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db";
import { loadConfig } from "../../src/env";
import { AssetKindListSchema, CreateAssetRequestSchema } from "../../src/schemas/assets";
import { ASSET_KINDS, assetOptions, DELIVERABLES, optionsJsonSchema } from "../../src/services/deliverables";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectSchema } from "../helpers/schemas";

/**
 * The registry is the one place a kind is declared: the kinds list, prices, ASSET_CREDITS, the request schema,
 * the options' JSON Schemas and the database's check on `asset.kind` all follow it. These tests run over
 * DELIVERABLES, so a new kind is covered without being named here.
 */

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const ajv = new Ajv2020({ strict: false });

describe("the deliverables registry", () => {
  test("GET /api/assets/kinds lists every declared kind in order, with its price, files and options schema", async () => {
    const res = await t.json("GET", "/api/assets/kinds");
    expect(res.status).toBe(200);
    const body = expectSchema(AssetKindListSchema, res.body);
    expect(body.data.map((k) => k.kind)).toEqual([...ASSET_KINDS]);
    for (const d of DELIVERABLES) {
      const listed = body.data.find((k) => k.kind === d.kind);
      expect(listed).toMatchObject({ name: d.name, description: d.description, credits: d.credits });
      expect(listed?.files).toEqual([...d.files]);
      expect(listed?.options).toEqual(optionsJsonSchema(d.kind));
    }
  });

  test("each kind's JSON Schema accepts its defaults and refuses what its Zod schema refuses", () => {
    for (const kind of ASSET_KINDS) {
      const schema = optionsJsonSchema(kind);
      expect(schema.type).toBe("object");
      expect(schema.additionalProperties).toBe(false);
      const validate = ajv.compile(schema);
      const defaults = assetOptions(kind, {});
      expect(validate(defaults)).toBe(true);
      expect(validate({ ...defaults, notAnOption: 1 })).toBe(false);
      expect(() => assetOptions(kind, { notAnOption: 1 })).toThrow();
      // Every enum value the schema offers is one the kind accepts, and a value outside it is refused by both.
      for (const [field, prop] of Object.entries((schema.properties ?? {}) as Record<string, { enum?: string[] }>)) {
        for (const value of prop.enum ?? []) {
          expect(validate({ [field]: value })).toBe(true);
          expect(assetOptions(kind, { [field]: value })[field]).toBe(value);
        }
        if (prop.enum) {
          expect(validate({ [field]: "not-a-value" })).toBe(false);
          expect(() => assetOptions(kind, { [field]: "not-a-value" })).toThrow();
        }
      }
    }
  });

  test("the request schema takes every kind, and no other", () => {
    for (const kind of ASSET_KINDS) expect(CreateAssetRequestSchema.safeParse({ kind }).success).toBe(true);
    expect(CreateAssetRequestSchema.safeParse({ kind: "mockup" }).success).toBe(false);
  });

  test("ASSET_CREDITS takes a price for every kind, and refuses an unknown kind", () => {
    const prices = Object.fromEntries(ASSET_KINDS.map((k, i) => [k, i + 2]));
    expect(loadConfig({ ASSET_CREDITS: JSON.stringify(prices) }).ASSET_CREDITS as Record<string, number>).toEqual(
      prices,
    );
    expect(loadConfig({}).ASSET_CREDITS as Record<string, number>).toEqual(
      Object.fromEntries(DELIVERABLES.map((d) => [d.kind, d.credits])),
    );
    expect(() => loadConfig({ ASSET_CREDITS: '{"mockup":1}' })).toThrow(/mockup|kinds/);
  });

  test("the database's check on asset.kind names exactly the declared kinds", async () => {
    const [row] = await queryRows<{ def: string }>(
      t.db,
      sql`select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'asset_kind'`,
    );
    const def = row?.def;
    expect(def).toBeString();
    const named = [...(def ?? "").matchAll(/'([a-z-]+)'/g)].map((m) => m[1]).sort();
    expect(named).toEqual([...ASSET_KINDS].sort());
  });
});
