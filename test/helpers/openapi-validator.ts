import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";

type Json = Record<string, any>;

const METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"] as const;
const DOC_ID = "https://logo-api.test/openapi.json";

/** One request as sent and the response it got, bodies as text (empty string: no body). */
export interface Exchange {
  method: string;
  url: string;
  requestHeaders: Headers;
  requestBody: string;
  status: number;
  responseHeaders: Headers;
  responseBody: string;
}

export interface MatchedOperation {
  method: (typeof METHODS)[number];
  path: string;
  params: Record<string, string>;
  op: Json;
}

const mediaType = (contentType: string | null) => (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
const isJson = (media: string) => media === "application/json" || media.endsWith("+json");

/** The declared media type that a concrete one matches (exact, `type/*`, or `*\/*`). */
function matchMedia(content: Json, media: string): string | undefined {
  if (content[media]) return media;
  const [type] = media.split("/");
  if (content[`${type}/*`]) return `${type}/*`;
  if (content["*/*"]) return "*/*";
  return undefined;
}

/**
 * A validator built from an OpenAPI 3.1 document: checks one request and its response against the
 * operation the document declares for them (security, parameters, request body, response status,
 * body and headers), and returns every mismatch as a readable sentence (empty: all agree).
 */
export class OpenApiValidator {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<unknown, ValidateFunction>();
  private readonly templates: { path: string; pattern: RegExp; names: string[]; literal: number }[];

  constructor(readonly doc: Json) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    // OpenAPI formats that ajv-formats does not know and that constrain nothing a client sends as text.
    this.ajv.addFormat("binary", true);
    // Only the components are added as a schema: refs in them are "#/components/…" relative to this root.
    this.ajv.addSchema({ $id: DOC_ID, components: { schemas: doc.components?.schemas ?? {} } });
    this.templates = Object.keys(doc.paths ?? {})
      .map((path) => {
        const names: string[] = [];
        const source = path
          .split(/(\{[^}]+\})/)
          .map((part) => {
            const name = /^\{([^}]+)\}$/.exec(part)?.[1];
            if (name) {
              names.push(name);
              return "([^/]+)";
            }
            return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
          })
          .join("");
        return { path, pattern: new RegExp(`^${source}$`), names, literal: path.replace(/\{[^}]+\}/g, "").length };
      })
      // A literal path wins over a template that also matches (/a/b before /a/{id}).
      .sort((a, b) => b.literal - a.literal);
  }

  /** Fetches the live document of a running server (or an in-process app's fetch). */
  static async load(fetchDocument: () => Promise<Response>): Promise<OpenApiValidator> {
    const res = await fetchDocument();
    if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
    return new OpenApiValidator((await res.json()) as Json);
  }

  /** Every operation of the document, as method, path template and operation object. */
  operations(): { method: (typeof METHODS)[number]; path: string; op: Json }[] {
    return Object.entries<Json>(this.doc.paths ?? {}).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Json })),
    );
  }

  /** The operation for a method and a concrete path, with the path parameters it binds. */
  match(method: string, pathname: string): MatchedOperation | undefined {
    const m = method.toLowerCase() as (typeof METHODS)[number];
    for (const t of this.templates) {
      const found = t.pattern.exec(pathname);
      const op = this.doc.paths[t.path]?.[m];
      if (!found || !op) continue;
      const params = Object.fromEntries(t.names.map((n, i) => [n, decodeURIComponent(found[i + 1] ?? "")]));
      return { method: m, path: t.path, params, op };
    }
    return undefined;
  }

  /** The security requirements that apply to an operation (its own, else the document's). */
  security(op: Json): Json[] {
    return (op.security ?? this.doc.security ?? []) as Json[];
  }

  /** Every mismatch between the exchange and the document. */
  check(x: Exchange): string[] {
    const url = new URL(x.url, "http://localhost");
    const found = this.match(x.method, url.pathname);
    if (!found) return [`${x.method} ${url.pathname}: no such operation in the document`];
    const at = `${x.method.toUpperCase()} ${found.path}`;
    return [...this.checkRequest(found, url, x), ...this.checkResponse(found, x)].map((p) => `${at}: ${p}`);
  }

  private checkRequest(found: MatchedOperation, url: URL, x: Exchange): string[] {
    const problems: string[] = [];
    const { op } = found;

    const requirements = this.security(op);
    if (requirements.length && !requirements.some((r) => this.satisfied(r, x.requestHeaders)))
      problems.push(
        `request: credentials do not satisfy any security requirement (${requirements.map((r) => JSON.stringify(r)).join(" | ")})`,
      );

    for (const raw of (op.parameters ?? []) as Json[]) {
      const p = this.deref(raw);
      let values: string[] = [];
      if (p.in === "path") values = found.params[p.name] === undefined ? [] : [found.params[p.name] as string];
      else if (p.in === "query") values = url.searchParams.getAll(p.name);
      else if (p.in === "header") {
        const v = x.requestHeaders.get(p.name);
        values = v === null ? [] : [v];
      } else if (p.in === "cookie") {
        const v = cookies(x.requestHeaders)[p.name];
        values = v === undefined ? [] : [v];
      }
      if (!values.length) {
        if (p.required) problems.push(`request: required ${p.in} parameter "${p.name}" is missing`);
        continue;
      }
      const why = this.checkText(p.schema, values);
      if (why) problems.push(`request: ${p.in} parameter "${p.name}" = ${JSON.stringify(values.join(","))}: ${why}`);
    }

    const body = op.requestBody ? this.deref(op.requestBody) : undefined;
    const media = mediaType(x.requestHeaders.get("content-type"));
    if (!x.requestBody) {
      if (body?.required) problems.push("request: the operation requires a body and none was sent");
    } else if (!body) problems.push("request: a body was sent to an operation that declares none");
    else {
      const declared = matchMedia(body.content ?? {}, media);
      if (!declared)
        problems.push(
          `request: Content-Type "${media || "(none)"}" is not one of ${Object.keys(body.content ?? {}).join(", ")}`,
        );
      else problems.push(...this.checkBody(body.content[declared].schema, media, x.requestBody, "request body"));
    }
    return problems;
  }

  private checkResponse(found: MatchedOperation, x: Exchange): string[] {
    const responses = (found.op.responses ?? {}) as Json;
    const key =
      [String(x.status), `${String(x.status)[0]}XX`, "default"].find((k) => responses[k] !== undefined) ?? undefined;
    if (!key) return [`response: status ${x.status} is not declared (${Object.keys(responses).join(", ")})`];
    const response = this.deref(responses[key]);
    const problems: string[] = [];
    const media = mediaType(x.responseHeaders.get("content-type"));
    const content = (response.content ?? {}) as Json;
    if (x.responseBody) {
      if (!Object.keys(content).length) problems.push(`response ${x.status}: a body was sent but none is declared`);
      else {
        const declared = matchMedia(content, media);
        if (!declared)
          problems.push(
            `response ${x.status}: Content-Type "${media || "(none)"}" is not one of ${Object.keys(content).join(", ")}`,
          );
        else
          problems.push(
            ...this.checkBody(content[declared].schema, media, x.responseBody, `response ${x.status} body`),
          );
      }
    }
    for (const [name, raw] of Object.entries<Json>(response.headers ?? {})) {
      const h = this.deref(raw);
      const value = x.responseHeaders.get(name);
      if (value === null) {
        if (h.required) problems.push(`response ${x.status}: required header ${name} is missing`);
        continue;
      }
      const why = this.checkText(h.schema, [value]);
      if (why) problems.push(`response ${x.status}: header ${name} = ${JSON.stringify(value)}: ${why}`);
    }
    return problems;
  }

  /** A requirement holds when every scheme it names is presented ({} holds always). */
  private satisfied(requirement: Json, headers: Headers): boolean {
    return Object.keys(requirement).every((name) => {
      const scheme = this.doc.components?.securitySchemes?.[name] as Json | undefined;
      if (!scheme) return false;
      if (scheme.type === "http") {
        const auth = headers.get("authorization") ?? "";
        return auth.toLowerCase().startsWith(`${String(scheme.scheme).toLowerCase()} `) && auth.length > 7;
      }
      if (scheme.type === "apiKey") {
        if (scheme.in === "header") return !!headers.get(scheme.name);
        if (scheme.in === "cookie") return cookies(headers)[scheme.name] !== undefined;
        if (scheme.in === "query") return false; // this API takes no credential in a URL
      }
      return false;
    });
  }

  private checkBody(schema: Json | undefined, media: string, text: string, what: string): string[] {
    if (!schema) return [];
    let value: unknown = text;
    if (isJson(media)) {
      try {
        value = JSON.parse(text);
      } catch {
        return [`${what} is not JSON`];
      }
    } else if (media === "application/x-www-form-urlencoded") value = Object.fromEntries(new URLSearchParams(text));
    const why = this.validate(schema, value);
    return why ? [`${what}: ${why}`] : [];
  }

  /** A parameter or header value is text: valid as a string, or as the number/boolean it spells. */
  private checkText(schema: Json | undefined, values: string[]): string | undefined {
    if (!schema) return undefined;
    const s = this.deref(schema);
    const types = new Set<string>([s.type].flat().filter(Boolean));
    const candidates = (v: string): unknown[] => {
      const out: unknown[] = [v];
      if (v.trim() !== "" && !Number.isNaN(Number(v))) out.push(Number(v));
      if (v === "true" || v === "false") out.push(v === "true");
      return out;
    };
    if (types.has("array")) {
      const each = values.map((v) => candidates(v));
      const tries = [each.map((c) => c[0]), each.map((c) => c[c.length - 1])];
      const errors = tries.map((t) => this.validate(s, t));
      return errors.some((e) => !e) ? undefined : errors[0];
    }
    const errors = candidates(values[0] ?? "").map((c) => this.validate(s, c));
    return errors.some((e) => !e) ? undefined : errors[0];
  }

  /** Ajv's message for value against schema (refs resolved against the document), or undefined. */
  private validate(schema: Json, value: unknown): string | undefined {
    let fn = this.compiled.get(schema);
    if (!fn) {
      fn = this.ajv.compile(rebase(schema));
      this.compiled.set(schema, fn);
    }
    if (fn(value)) return undefined;
    return this.ajv.errorsText(fn.errors, { dataVar: "value", separator: "; " }).slice(0, 1000);
  }

  /** A Reference Object (to a component) replaced by what it points to. */
  resolve(v: Json | undefined): Json | undefined {
    return v === undefined ? undefined : this.deref(v);
  }

  private deref(v: Json): Json {
    let out = v;
    for (let i = 0; i < 10 && typeof out?.$ref === "string" && out.$ref.startsWith("#/"); i++)
      out = out.$ref
        .slice(2)
        .split("/")
        .reduce((o: Json, k: string) => o?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], this.doc);
    return out;
  }
}

/** A schema from anywhere in the document, its "#/components/…" refs pointing at the added components. */
function rebase(v: unknown): any {
  if (Array.isArray(v)) return v.map(rebase);
  if (!v || typeof v !== "object") return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v))
    out[k] = k === "$ref" && typeof x === "string" && x.startsWith("#/") ? `${DOC_ID}${x}` : rebase(x);
  return out;
}

function cookies(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The text of a request body as it will be sent (undefined and empty are both "no body"). */
export function bodyText(body: BodyInit | null | undefined): string {
  if (body === undefined || body === null) return "";
  if (typeof body === "string") return body;
  if (body instanceof URLSearchParams) return body.toString();
  throw new Error("only string and URLSearchParams bodies can be validated");
}

export interface ValidatedResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any;
  /** The validator's findings for this exchange (empty: request and response match the document). */
  problems: string[];
}

/**
 * A fetch that sends each request through the validator: the request (as sent) and the response (as
 * received) are checked against the document; the findings come back with the parsed response.
 */
export function validatingFetch(
  validator: OpenApiValidator,
  send: (url: string, init: RequestInit) => Promise<Response>,
  baseUrl = "http://localhost:3000",
) {
  return async (path: string, init: RequestInit = {}): Promise<ValidatedResponse> => {
    const url = new URL(path, baseUrl).toString();
    const requestBody = bodyText(init.body);
    const res = await send(url, init);
    const text = await res.text();
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const problems = validator.check({
      method: init.method ?? "GET",
      url,
      requestHeaders: new Headers(init.headers),
      requestBody,
      status: res.status,
      responseHeaders: res.headers,
      responseBody: text,
    });
    return { status: res.status, headers: res.headers, text, body, problems };
  };
}
