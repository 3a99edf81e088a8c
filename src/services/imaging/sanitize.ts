import { ImagingError } from "./types";

/**
 * A strict SVG sanitiser: a small tokenizer builds a tree of the allowed shape elements only, keeps an
 * allowlist of geometry and paint attributes whose values reference nothing, and writes well-formed XML.
 * Everything else (script, style, image, foreignObject, use, text, defs, gradients, event handlers,
 * hrefs, url(…) values, DOCTYPE entities, processing instructions) is dropped with its subtree. Input that
 * is not well-formed XML, or whose root is not <svg>, is refused: a renderer would refuse it too.
 */

export interface SvgNode {
  name: string;
  attrs: Map<string, string>;
  children: SvgNode[];
  /** Text content; kept only for title and desc. */
  text: string;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const ELEMENTS = new Set(["svg", "g", "path", "rect", "circle", "ellipse", "polygon", "polyline", "title", "desc"]);
const TEXT_ELEMENTS = new Set(["title", "desc"]);
const PAINT = new Set([
  "fill",
  "fill-opacity",
  "fill-rule",
  "stroke",
  "stroke-width",
  "stroke-opacity",
  "stroke-linecap",
  "stroke-linejoin",
  "stroke-miterlimit",
  "stroke-dasharray",
  "stroke-dashoffset",
  "opacity",
  "clip-rule",
  "color",
  "visibility",
  "display",
  "vector-effect",
  "shape-rendering",
  "paint-order",
]);
const GEOMETRY = new Set([
  "x",
  "y",
  "width",
  "height",
  "rx",
  "ry",
  "cx",
  "cy",
  "r",
  "d",
  "points",
  "pathLength",
  "transform",
]);
const SVG_ONLY = new Set(["viewBox", "preserveAspectRatio", "version"]);
const ARIA = new Set(["role", "aria-label", "aria-hidden"]);
const MAX_DEPTH = 128;
const MAX_ELEMENTS = 200_000;

function invalid(message: string): never {
  throw new ImagingError("source_invalid", `SVG: ${message}`);
}

function allowedAttr(element: string, name: string): boolean {
  if (TEXT_ELEMENTS.has(element)) return false;
  if (PAINT.has(name) || GEOMETRY.has(name) || ARIA.has(name)) return true;
  return element === "svg" && SVG_ONLY.has(name);
}

/** A value is kept only if it can reference nothing: no url(), no scheme, no CSS escapes or markup. */
export function safeValue(value: string): boolean {
  if (value.length > 2_000_000) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are stripped on purpose
  const v = value.toLowerCase().replace(/[\s\u0000-\u001f\u007f]+/g, "");
  return !/url\(|javascript:|vbscript:|data:|expression\(|var\(|attr\(|@import|[<>\\]/.test(v);
}

const ENTITY = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos|[A-Za-z_][\w.-]*);|&/g;
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Decodes the XML entities; returns null when an undeclared/custom entity or a bare & is present. */
function decodeEntities(s: string): string | null {
  let ok = true;
  const out = s.replace(ENTITY, (_m, ent: string | undefined) => {
    if (ent === undefined) {
      ok = false;
      return "";
    }
    if (ent.startsWith("#")) {
      const code = ent[1] === "x" ? Number.parseInt(ent.slice(2), 16) : Number.parseInt(ent.slice(1), 10);
      if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) {
        ok = false;
        return "";
      }
      return String.fromCodePoint(code);
    }
    const named = NAMED[ent];
    if (named === undefined) ok = false;
    return named ?? "";
  });
  return ok ? out : null;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (ch) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[ch] ?? ch);
}

const NAME = /[A-Za-z_][\w.:-]*/y;
const ATTR = /\s*([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Parses `<line>` into the equivalent `<path>` (line is not on the element list, its geometry is). */
function lineToPath(attrs: Map<string, string>): Map<string, string> {
  const n = (k: string) => {
    const v = attrs.get(k)?.trim() ?? "0";
    return NUMBER.test(v) ? v : "0";
  };
  const out = new Map<string, string>();
  for (const [k, v] of attrs) if (PAINT.has(k) || k === "transform") out.set(k, v);
  out.set("d", `M${n("x1")} ${n("y1")}L${n("x2")} ${n("y2")}`);
  return out;
}

function applyStyle(attrs: Map<string, string>, style: string): void {
  for (const decl of style.split(";")) {
    const i = decl.indexOf(":");
    if (i < 0) continue;
    const prop = decl.slice(0, i).trim().toLowerCase();
    const value = decl
      .slice(i + 1)
      .replace(/!important/i, "")
      .trim();
    if (PAINT.has(prop) && value && safeValue(value)) attrs.set(prop, value);
  }
}

/** Parses and sanitises; the returned root is an `svg` node holding only allowed content. */
export function parseSvg(input: string): SvgNode {
  const s = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  let i = 0;
  let root: SvgNode | null = null;
  let rootClosed = false;
  const stack: SvgNode[] = [];
  // Open elements in document order: the sanitised node, or null for a dropped element (its subtree is skipped).
  const open: { name: string; node: SvgNode | null }[] = [];
  let skipping = 0;
  let count = 0;

  const appendText = (text: string) => {
    const top = stack[stack.length - 1];
    if (skipping || !top || !TEXT_ELEMENTS.has(top.name)) return;
    top.text += text;
  };

  while (i < s.length) {
    const lt = s.indexOf("<", i);
    if (lt < 0) {
      appendText(decodeEntities(s.slice(i)) ?? "");
      break;
    }
    if (lt > i) appendText(decodeEntities(s.slice(i, lt)) ?? "");
    i = lt;
    if (s.startsWith("<!--", i)) {
      const end = s.indexOf("-->", i + 4);
      if (end < 0) invalid("unterminated comment");
      i = end + 3;
    } else if (s.startsWith("<![CDATA[", i)) {
      const end = s.indexOf("]]>", i + 9);
      if (end < 0) invalid("unterminated CDATA");
      appendText(s.slice(i + 9, end));
      i = end + 3;
    } else if (s.startsWith("<?", i)) {
      const end = s.indexOf("?>", i + 2);
      if (end < 0) invalid("unterminated processing instruction");
      i = end + 2;
    } else if (s.startsWith("<!", i)) {
      // DOCTYPE (with an optional internal subset): skipped; entities it declares are never expanded.
      if (root) invalid("declaration inside the document");
      let j = i + 2;
      let inSubset = false;
      for (; j < s.length; j++) {
        const ch = s[j];
        if (ch === "[") inSubset = true;
        else if (ch === "]") inSubset = false;
        else if (ch === ">" && !inSubset) break;
      }
      if (j >= s.length) invalid("unterminated declaration");
      i = j + 1;
    } else if (s[i + 1] === "/") {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(s);
      if (!m) invalid("bad closing tag");
      const name = m[0];
      let j = NAME.lastIndex;
      while (j < s.length && /\s/.test(s[j] ?? "")) j++;
      if (s[j] !== ">") invalid("bad closing tag");
      i = j + 1;
      const top = open.pop();
      if (!top || top.name !== name) invalid(`mismatched </${name}>`);
      if (top.node) stack.pop();
      else skipping--;
      if (open.length === 0) rootClosed = true;
    } else {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(s);
      if (!m) invalid("bad tag");
      const rawName = m[0];
      let j = NAME.lastIndex;
      const rawAttrs: [string, string][] = [];
      const seen = new Set<string>();
      for (;;) {
        ATTR.lastIndex = j;
        const a = ATTR.exec(s);
        if (!a) break;
        const attrName = a[1] ?? "";
        if (seen.has(attrName)) invalid(`duplicate attribute ${attrName}`);
        seen.add(attrName);
        rawAttrs.push([attrName, a[2] ?? a[3] ?? ""]);
        j = ATTR.lastIndex;
      }
      while (j < s.length && /\s/.test(s[j] ?? "")) j++;
      let selfClosing = false;
      if (s.startsWith("/>", j)) {
        selfClosing = true;
        j += 2;
      } else if (s[j] === ">") j += 1;
      else invalid(`bad tag <${rawName}>`);
      i = j;
      if (rootClosed) invalid("content after the root element");
      if (++count > MAX_ELEMENTS) invalid("too many elements");
      if (open.length >= MAX_DEPTH) invalid("nesting too deep");

      const isRoot = root === null;
      if (isRoot && rawName !== "svg") invalid("the root element is not <svg>");
      const name = rawName === "line" ? "line" : rawName;
      const keep = !skipping && (ELEMENTS.has(name) || name === "line") && !TEXT_ELEMENTS.has(stack.at(-1)?.name ?? "");
      let node: SvgNode | null = null;
      if (keep) {
        let attrs = new Map<string, string>();
        let style: string | null = null;
        for (const [k, raw] of rawAttrs) {
          const v = decodeEntities(raw);
          if (v === null) continue;
          if (k === "style") style = v;
          else if ((allowedAttr(name, k) || (name === "line" && /^[xy][12]$/.test(k))) && safeValue(v)) attrs.set(k, v);
        }
        if (style !== null && !TEXT_ELEMENTS.has(name)) applyStyle(attrs, style);
        const elementName = name === "line" ? "path" : name;
        if (name === "line") attrs = lineToPath(attrs);
        node = { name: elementName, attrs, children: [], text: "" };
        if (isRoot) root = node;
        else stack[stack.length - 1]?.children.push(node);
      }
      if (isRoot && !node) invalid("the root element is not <svg>");
      if (!selfClosing) {
        open.push({ name: rawName, node });
        if (node) stack.push(node);
        else skipping++;
      } else if (isRoot) rootClosed = true;
    }
  }
  if (!root) invalid("no <svg> element");
  if (open.length > 0) invalid("unclosed elements");
  return root;
}

export function serializeSvg(root: SvgNode): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  const write = (node: SvgNode, isRoot: boolean) => {
    out.push(`<${node.name}`);
    if (isRoot) out.push(` xmlns="${SVG_NS}"`);
    for (const [k, v] of node.attrs) out.push(` ${k}="${escapeXml(v)}"`);
    const text = TEXT_ELEMENTS.has(node.name) ? node.text : "";
    if (node.children.length === 0 && !text) {
      out.push("/>");
      return;
    }
    out.push(">");
    if (text) out.push(escapeXml(text));
    for (const child of node.children) write(child, false);
    out.push(`</${node.name}>`);
  };
  write(root, true);
  out.push("\n");
  return out.join("");
}

/** Sanitises an SVG document: the allowed shapes and attributes only, as well-formed XML. */
/** An element node (no text) for building SVG trees. */
export function element(name: string, attrs: [string, string][], children: SvgNode[] = []): SvgNode {
  return { name, attrs: new Map(attrs), children, text: "" };
}

/**
 * The vector master as a nested `svg` of its own size and viewBox (its title and description left out): placed
 * inside an outer viewport whose viewBox picks a part of it, the master's paths are kept as they are.
 */
export function masterViewport(master: { svg: string; width: number; height: number }): SvgNode {
  const m = parseSvg(master.svg);
  return element(
    "svg",
    [
      ["width", String(master.width)],
      ["height", String(master.height)],
      ["viewBox", m.attrs.get("viewBox") ?? `0 0 ${master.width} ${master.height}`],
    ],
    m.children.filter((c) => c.name !== "title" && c.name !== "desc"),
  );
}

export function sanitizeSvg(input: string): string {
  return serializeSvg(parseSvg(input));
}

/** Number of drawn shapes (path, rect, circle, ellipse, polygon, polyline) in a sanitised tree. */
export function countShapes(node: SvgNode): number {
  let n = ["path", "rect", "circle", "ellipse", "polygon", "polyline"].includes(node.name) ? 1 : 0;
  for (const c of node.children) n += countShapes(c);
  return n;
}
