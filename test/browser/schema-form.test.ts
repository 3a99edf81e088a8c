import { describe, expect, test } from "bun:test";
import { fieldsOf, isColorPattern, type JsonSchema, labelOf, readOptions } from "../../examples/web/schema-form";
import { optionsJsonSchema } from "../../src/services/deliverables";
import { icons } from "../../src/services/deliverables/icons";
import { vector } from "../../src/services/deliverables/vector";

/**
 * examples/web's form renderer, on the kinds' options as `GET /api/assets/kinds` serves them (optionsJsonSchema)
 * and on the other shapes it claims to handle. The browser test renders and submits these forms.
 */

const asJsonSchema = (kind: "vector" | "icons") => optionsJsonSchema(kind) as JsonSchema;
/** The fields without their descriptions (the API's prose), which are checked to be there. */
const shapes = (fields: ReturnType<typeof fieldsOf>) =>
  fields.map(({ description, ...f }) => {
    expect(description).toBeString();
    return f;
  });
const VectorOptionsSchema = vector.options;
const IconsOptionsSchema = icons.options;

describe("fieldsOf", () => {
  test("vector options: an enum with its default and a bounded integer", () => {
    expect(shapes(fieldsOf(asJsonSchema("vector")))).toEqual([
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
      {
        name: "background",
        label: "Background",
        required: false,
        type: "enum",
        options: ["drop", "keep"],
        default: "drop",
      },
    ]);
  });

  test("icons options: an optional #RRGGBB string is a colour field without a default", () => {
    expect(shapes(fieldsOf(asJsonSchema("icons")))).toEqual([
      { name: "background", label: "Background", required: false, type: "color", pattern: "^#[0-9A-Fa-f]{6}$" },
      { name: "mark", label: "Mark", required: false, type: "enum", options: ["auto", "whole"], default: "auto" },
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
  const vectorFields = fieldsOf(asJsonSchema("vector"));
  const iconsFields = fieldsOf(asJsonSchema("icons"));

  test("values become typed options that the API's own schema accepts", () => {
    const read = readOptions(vectorFields, { mode: "mono", maxColors: "4" });
    expect(read).toEqual({ options: { mode: "mono", maxColors: 4 }, errors: {} });
    expect(VectorOptionsSchema.parse(read.options)).toEqual({ mode: "mono", maxColors: 4, background: "drop" });
    const colour = readOptions(iconsFields, { background: "#ffeedd" });
    expect(colour.options).toEqual({ background: "#FFEEDD" });
    expect(IconsOptionsSchema.parse(colour.options)).toEqual({ background: "#FFEEDD", mark: "auto" });
  });

  test("an unset optional field is left out, so the server's default applies", () => {
    expect(readOptions(iconsFields, {})).toEqual({ options: {}, errors: {} });
    expect(readOptions(vectorFields, { mode: "", maxColors: " " })).toEqual({ options: {}, errors: {} });
  });

  test("values outside the schema are errors by field, and are not sent", () => {
    expect(readOptions(vectorFields, { mode: "sepia", maxColors: "40" })).toEqual({
      options: {},
      errors: { mode: "One of: color, mono.", maxColors: "From 2 to 16." },
    });
    expect(readOptions(vectorFields, { maxColors: "2.5" }).errors).toEqual({ maxColors: "A whole number." });
    expect(readOptions(vectorFields, { maxColors: "many" }).errors).toEqual({ maxColors: "A number." });
    expect(readOptions(iconsFields, { background: "red" }).errors).toEqual({ background: "A colour like #1F2937." });
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
