import { describe, expect, test } from "bun:test";
import { z } from "@hono/zod-openapi";
import { fieldsOf, isColorPattern, type JsonSchema, labelOf, readOptions } from "../../examples/web/schema-form";
import { IconsOptionsSchema, VectorOptionsSchema } from "../../src/schemas/assets";

/**
 * examples/web's form renderer, on the JSON Schemas Zod writes for the kinds' options (what `GET /api/assets/kinds`
 * serves) and on the other shapes it claims to handle. The browser test renders and submits these forms.
 */

const asJsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input" }) as JsonSchema;

describe("fieldsOf", () => {
  test("vector options: an enum with its default and a bounded integer", () => {
    expect(fieldsOf(asJsonSchema(VectorOptionsSchema))).toEqual([
      { name: "mode", label: "Mode", required: false, type: "enum", options: ["color", "mono"], default: "color" },
      {
        name: "maxColors",
        label: "Max colors",
        required: false,
        type: "number",
        integer: true,
        min: 2,
        max: 16,
        step: 1,
        default: 8,
      },
    ]);
  });

  test("icons options: an optional #RRGGBB string is a colour field without a default", () => {
    expect(fieldsOf(asJsonSchema(IconsOptionsSchema))).toEqual([
      { name: "background", label: "Background", required: false, type: "color", pattern: "^#[0-9A-Fa-f]{6}$" },
    ]);
  });

  test("strings with other patterns, booleans, nullable and required properties; unsupported shapes are left out", () => {
    const fields = fieldsOf({
      type: "object",
      required: ["text", "layout"],
      properties: {
        text: { type: "string", minLength: 1, maxLength: 40, description: "The `name` shown" },
        layout: { type: "string", enum: ["horizontal", "stacked"], default: "horizontal" },
        round: { type: "boolean", default: true },
        scale: { anyOf: [{ type: "number", exclusiveMinimum: 0, maximum: 4 }, { type: "null" }] },
        code: { type: "string", pattern: "^[a-z]{3}$" },
        tags: { type: "array" } as JsonSchema,
        fixed: { const: "x" },
      },
    });
    expect(fields).toEqual([
      {
        name: "text",
        label: "Text",
        description: "The `name` shown",
        required: true,
        type: "text",
        minLength: 1,
        maxLength: 40,
      },
      {
        name: "layout",
        label: "Layout",
        required: false,
        type: "enum",
        options: ["horizontal", "stacked"],
        default: "horizontal",
      },
      { name: "round", label: "Round", required: false, type: "boolean", default: true },
      { name: "scale", label: "Scale", required: false, type: "number", integer: false, min: 0, max: 4 },
      { name: "code", label: "Code", required: false, type: "text", pattern: "^[a-z]{3}$" },
    ]);
  });

  test("no schema, or one without properties, gives no fields", () => {
    expect(fieldsOf(undefined)).toEqual([]);
    expect(fieldsOf(null)).toEqual([]);
    expect(fieldsOf({ type: "object", additionalProperties: false } as JsonSchema)).toEqual([]);
  });

  test("colour patterns are told from other string patterns", () => {
    expect(isColorPattern("^#[0-9A-Fa-f]{6}$")).toBe(true);
    expect(isColorPattern("^#[0-9a-fA-F]{6}$")).toBe(true);
    expect(isColorPattern("^#?[0-9A-Fa-f]{6}$")).toBe(false);
    expect(isColorPattern("^[a-z]+$")).toBe(false);
    expect(isColorPattern("(")).toBe(false);
    expect(labelOf("short_name")).toBe("Short name");
  });
});

describe("readOptions", () => {
  const vector = fieldsOf(asJsonSchema(VectorOptionsSchema));
  const icons = fieldsOf(asJsonSchema(IconsOptionsSchema));

  test("values become typed options that the API's own schema accepts", () => {
    const read = readOptions(vector, { mode: "mono", maxColors: "4" });
    expect(read).toEqual({ options: { mode: "mono", maxColors: 4 }, errors: {} });
    expect(VectorOptionsSchema.parse(read.options)).toEqual({ mode: "mono", maxColors: 4 });
    const colour = readOptions(icons, { background: "#ffeedd" });
    expect(colour.options).toEqual({ background: "#FFEEDD" });
    expect(IconsOptionsSchema.parse(colour.options)).toEqual({ background: "#FFEEDD" });
  });

  test("an unset optional field is left out, so the server's default applies", () => {
    expect(readOptions(icons, {})).toEqual({ options: {}, errors: {} });
    expect(readOptions(vector, { mode: "", maxColors: " " })).toEqual({ options: {}, errors: {} });
  });

  test("values outside the schema are errors by field, and are not sent", () => {
    expect(readOptions(vector, { mode: "sepia", maxColors: "40" })).toEqual({
      options: {},
      errors: { mode: "One of: color, mono.", maxColors: "From 2 to 16." },
    });
    expect(readOptions(vector, { maxColors: "2.5" }).errors).toEqual({ maxColors: "A whole number." });
    expect(readOptions(vector, { maxColors: "many" }).errors).toEqual({ maxColors: "A number." });
    expect(readOptions(icons, { background: "red" }).errors).toEqual({ background: "A colour like #1F2937." });
    const text = fieldsOf({
      type: "object",
      required: ["text"],
      properties: { text: { type: "string", maxLength: 3 }, code: { type: "string", pattern: "^[a-z]+$" } },
    });
    expect(readOptions(text, {}).errors).toEqual({ text: "Required." });
    expect(readOptions(text, { text: "abcd", code: "A1" }).errors).toEqual({
      text: "At most 3 characters.",
      code: "Not in the expected format.",
    });
    const flag = fieldsOf({ type: "object", properties: { on: { type: "boolean" } } });
    expect(readOptions(flag, { on: false })).toEqual({ options: { on: false }, errors: {} });
  });
});
