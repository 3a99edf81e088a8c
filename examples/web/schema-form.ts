/**
 * A small JSON-Schema-to-form renderer for the options of a deliverable kind (`GET /api/assets/kinds` gives each
 * kind's `options` as a JSON Schema). It covers what option schemas use: an object of properties that are enums
 * (a select), integers and numbers with `minimum`/`maximum` (a number input), strings with a `#RRGGBB` pattern (a
 * colour picker), other strings (a text input with the schema's pattern and lengths) and booleans (a checkbox).
 * A property of another shape is left out of the form, so the server's default applies to it.
 *
 * `fieldsOf` and `readOptions` are plain functions (tested without a browser); `renderFields` and `readForm` put
 * them on the page.
 */

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

interface FieldBase {
  name: string;
  label: string;
  description?: string;
  /** Must be sent (in `required` and without a default). */
  required: boolean;
}
export type Field =
  | (FieldBase & { type: "enum"; options: Array<string | number>; default?: string | number })
  | (FieldBase & { type: "number"; integer: boolean; min?: number; max?: number; step?: number; default?: number })
  | (FieldBase & { type: "color"; pattern: string; default?: string })
  | (FieldBase & { type: "text"; pattern?: string; minLength?: number; maxLength?: number; default?: string })
  | (FieldBase & { type: "boolean"; default?: boolean });

/** What a form control holds: the text of an input or select, a checkbox's state; undefined when left unset. */
export type RawValue = string | boolean | undefined;

/** "maxColors" → "Max colors". */
export function labelOf(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[-_]+/g, " ")
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A nullable property (`anyOf: [X, {type: "null"}]`) is X; other unions are not form fields. */
function unwrapNullable(s: JsonSchema): JsonSchema | undefined {
  const union = s.anyOf ?? s.oneOf;
  if (!union) return s;
  const rest = union.filter((u) => u.type !== "null");
  if (rest.length !== 1) return undefined;
  return { ...rest[0], ...(s.default !== undefined ? { default: s.default } : {}), description: s.description };
}

function typeOf(s: JsonSchema): string | undefined {
  if (Array.isArray(s.type)) return s.type.find((t) => t !== "null");
  return s.type;
}

/** True when the pattern accepts `#RRGGBB` colours and nothing without the `#`: a colour picker fits it. */
export function isColorPattern(pattern: string | undefined): boolean {
  if (!pattern) return false;
  try {
    const re = new RegExp(pattern);
    return re.test("#1F2937") && re.test("#abcdef") && !re.test("1F2937") && !re.test("#1F293") && !re.test("red");
  } catch {
    return false;
  }
}

/** The form fields of an object schema, in its properties' order; properties of other shapes are skipped. */
export function fieldsOf(schema: JsonSchema | undefined | null): Field[] {
  if (!schema || typeof schema !== "object" || !schema.properties) return [];
  const required = new Set(schema.required ?? []);
  const fields: Field[] = [];
  for (const [name, raw] of Object.entries(schema.properties)) {
    const s = unwrapNullable(raw);
    if (!s) continue;
    const base: FieldBase = {
      name,
      label: s.title ?? labelOf(name),
      ...(s.description ? { description: s.description } : {}),
      required: required.has(name) && s.default === undefined,
    };
    const type = typeOf(s);
    if (
      Array.isArray(s.enum) &&
      s.enum.length > 0 &&
      s.enum.every((v) => typeof v === "string" || typeof v === "number")
    ) {
      const options = s.enum as Array<string | number>;
      fields.push({ ...base, type: "enum", options, ...(isIn(s.default, options) ? { default: s.default } : {}) });
    } else if (s.const !== undefined) {
      // A fixed value: nothing to choose.
    } else if (type === "integer" || type === "number") {
      const integer = type === "integer";
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 0) : undefined);
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 0) : undefined);
      const step = s.multipleOf ?? (integer ? 1 : undefined);
      fields.push({
        ...base,
        type: "number",
        integer,
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...(step !== undefined ? { step } : {}),
        ...(typeof s.default === "number" ? { default: s.default } : {}),
      });
    } else if (type === "string" && isColorPattern(s.pattern)) {
      fields.push({
        ...base,
        type: "color",
        pattern: s.pattern as string,
        ...(typeof s.default === "string" ? { default: s.default } : {}),
      });
    } else if (type === "string") {
      fields.push({
        ...base,
        type: "text",
        ...(s.pattern ? { pattern: s.pattern } : {}),
        ...(s.minLength !== undefined ? { minLength: s.minLength } : {}),
        ...(s.maxLength !== undefined ? { maxLength: s.maxLength } : {}),
        ...(typeof s.default === "string" ? { default: s.default } : {}),
      });
    } else if (type === "boolean") {
      fields.push({ ...base, type: "boolean", ...(typeof s.default === "boolean" ? { default: s.default } : {}) });
    }
  }
  return fields;
}

function isIn(v: unknown, options: Array<string | number>): v is string | number {
  return (typeof v === "string" || typeof v === "number") && options.includes(v);
}

/**
 * The options object from the controls' raw values, checked against the fields: an unset optional field is left
 * out (the server's default applies), a required one is an error, and so is a value outside the schema.
 */
export function readOptions(
  fields: Field[],
  raw: Record<string, RawValue>,
): { options: Record<string, unknown>; errors: Record<string, string> } {
  const options: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = raw[f.name];
    if (f.type === "boolean") {
      if (typeof v === "boolean") options[f.name] = v;
      continue;
    }
    const text = typeof v === "string" ? v.trim() : "";
    if (text === "") {
      if (f.required) errors[f.name] = "Required.";
      continue;
    }
    switch (f.type) {
      case "enum": {
        const match = f.options.find((o) => String(o) === text);
        if (match === undefined) errors[f.name] = `One of: ${f.options.join(", ")}.`;
        else options[f.name] = match;
        break;
      }
      case "number": {
        const n = Number(text);
        if (!Number.isFinite(n)) errors[f.name] = "A number.";
        else if (f.integer && !Number.isInteger(n)) errors[f.name] = "A whole number.";
        else if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max))
          errors[f.name] = `From ${f.min ?? "−∞"} to ${f.max ?? "∞"}.`;
        else options[f.name] = n;
        break;
      }
      case "color":
        if (!new RegExp(f.pattern).test(text)) errors[f.name] = "A colour like #1F2937.";
        else options[f.name] = text.toUpperCase();
        break;
      case "text":
        if (f.minLength !== undefined && text.length < f.minLength)
          errors[f.name] = `At least ${f.minLength} characters.`;
        else if (f.maxLength !== undefined && text.length > f.maxLength)
          errors[f.name] = `At most ${f.maxLength} characters.`;
        else if (f.pattern && !new RegExp(f.pattern, "u").test(text)) errors[f.name] = "Not in the expected format.";
        else options[f.name] = text;
        break;
    }
  }
  return { options, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// On the page

function el(tag: "select", props?: Record<string, unknown>): HTMLSelectElement;
function el(tag: "input", props?: Record<string, unknown>): HTMLInputElement;
function el(tag: string, props?: Record<string, unknown>): HTMLElement;
function el(tag: string, props: Record<string, unknown> = {}): HTMLElement {
  return Object.assign(document.createElement(tag), props);
}

/**
 * Appends one labelled control per field to `container`. Controls are named after the field (`data-field`); an
 * optional colour without a default has a "set" checkbox, since a colour input always holds a colour.
 */
export function renderFields(container: HTMLElement, fields: Field[], idPrefix: string): void {
  for (const f of fields) {
    const id = `${idPrefix}-${f.name}`;
    const row = el("div", { className: `field field-${f.type}` });
    row.dataset.field = f.name;
    const label = el("label", { htmlFor: id, textContent: f.label });
    let control: HTMLInputElement | HTMLSelectElement;
    switch (f.type) {
      case "enum": {
        const select = el("select", { id, name: f.name, required: f.required });
        if (f.default === undefined)
          select.append(el("option", { value: "", textContent: f.required ? "Choose…" : "(default)" }));
        for (const o of f.options)
          select.append(el("option", { value: String(o), textContent: String(o), selected: o === f.default }));
        control = select;
        break;
      }
      case "number":
        control = el("input", { id, name: f.name, type: "number", required: f.required, inputMode: "numeric" });
        if (f.min !== undefined) control.min = String(f.min);
        if (f.max !== undefined) control.max = String(f.max);
        control.step = f.step !== undefined ? String(f.step) : "any";
        if (f.default !== undefined) control.value = String(f.default);
        break;
      case "color":
        control = el("input", { id, name: f.name, type: "color", value: (f.default ?? "#000000").toLowerCase() });
        break;
      case "text":
        control = el("input", { id, name: f.name, type: "text", required: f.required, value: f.default ?? "" });
        if (f.pattern) control.pattern = f.pattern;
        if (f.maxLength !== undefined) control.maxLength = f.maxLength;
        if (f.minLength !== undefined) control.minLength = f.minLength;
        break;
      case "boolean":
        control = el("input", { id, name: f.name, type: "checkbox", checked: f.default ?? false });
        break;
    }
    control.dataset.field = f.name;
    if (f.type === "boolean") row.append(control, label);
    else row.append(label, control);
    if (f.type === "color" && f.default === undefined && !f.required) {
      // Unset until ticked: the server's default (e.g. the logo's own background) applies.
      const set = el("input", { type: "checkbox", id: `${id}-set`, title: `Set ${f.label.toLowerCase()}` });
      set.dataset.set = f.name;
      control.disabled = true;
      set.addEventListener("change", () => {
        (control as HTMLInputElement).disabled = !set.checked;
      });
      row.insertBefore(set, control);
    }
    if (f.description) row.append(el("small", { className: "help", textContent: stripMarkdown(f.description) }));
    row.append(el("small", { className: "field-error" }));
    container.append(row);
  }
}

/** The raw values of the controls `renderFields` made, read back and checked; errors are shown by their field. */
export function readForm(container: HTMLElement, fields: Field[]): ReturnType<typeof readOptions> {
  const raw: Record<string, RawValue> = {};
  for (const f of fields) {
    const control = container.querySelector<HTMLInputElement | HTMLSelectElement>(`[data-field="${f.name}"][name]`);
    if (!control || control.disabled) continue;
    raw[f.name] = control instanceof HTMLInputElement && control.type === "checkbox" ? control.checked : control.value;
  }
  const result = readOptions(fields, raw);
  for (const f of fields) {
    const message = container.querySelector<HTMLElement>(`.field[data-field="${f.name}"] .field-error`);
    if (message) message.textContent = result.errors[f.name] ?? "";
  }
  return result;
}

/** Descriptions are written for the API document (Markdown backticks); a form shows them as plain text. */
function stripMarkdown(s: string): string {
  return s.replace(/`([^`]*)`/g, "$1");
}
