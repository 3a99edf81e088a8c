import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { queryRows } from "../../src/db";
import { ErrorSchema } from "../../src/schemas/common";
import { type FakePolar, polarEnv, startFakePolar } from "../fakes/polar";
import { createTestApp, type TestApp } from "../helpers/app";

/**
 * Hostile input from the contract: every operation of the live /openapi.json receives generated bad
 * input (wrong types, missing and unknown fields, huge strings and arrays, deep nesting, unicode and
 * NUL, __proto__/constructor keys, malformed JSON, wrong content types, oversized bodies, odd path ids
 * and query values, repeated headers) from an anonymous, a signed-in and an admin caller. Every answer
 * is below 500; an error is the Error envelope with a status the operation declares; a refused request
 * changes nothing in the database. CI runs the fixed seed; FC_SEED (and FC_RUNS) replay another.
 */

type Json = Record<string, any>;
const METHODS = ["get", "put", "post", "delete", "patch"] as const;
const SEED = Number(process.env.FC_SEED ?? 20260808);
const RUNS = Number(process.env.FC_RUNS ?? 400);

/** Operations that end the caller's own session or account when they succeed: later runs need the caller. */
const ENDS_THE_CALLER = new Set([
  "/api/auth/sign-out",
  "/api/auth/revoke-sessions",
  "/api/auth/revoke-other-sessions",
  "/api/auth/revoke-session",
  "/api/auth/delete-user",
  "/api/auth/delete-anonymous-user",
  "/api/auth/admin/stop-impersonating",
]);

let t: TestApp;
let polar: FakePolar;
let doc: Json;
let callers: Record<"anonymous" | "user" | "admin", Record<string, string>>;
let ops: { method: string; path: string; op: Json }[];

beforeAll(async () => {
  // Payments configured (against the fake Polar): unconfigured, purchases and webhooks are 503 by design.
  polar = await startFakePolar();
  t = await createTestApp({
    env: polarEnv(polar, { ADMIN_EMAILS: "hostile-admin@example.com", SANDBOX_DELAY_MS: "0" }),
  });
  const res = await t.fetch("/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as Json;
  const user = await t.signUp({ email: "hostile-user@example.com" });
  const admin = await t.signUp({ email: "hostile-admin@example.com" });
  callers = { anonymous: {}, user: user.headers, admin: admin.headers };
  ops = Object.entries<Json>(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Json })),
  );
});
afterAll(async () => {
  await t.close();
  await polar.close();
});

/** Row counts of every table and the sum of balances: what a refused request must leave alone. */
let snapshotQuery: ReturnType<typeof sql> | undefined;
async function snapshot(): Promise<Record<string, number>> {
  // One statement for all counts (the tables are listed once: the test changes no schema).
  if (!snapshotQuery) {
    const tables = await queryRows<{ name: string }>(
      t.db,
      sql`select table_name as name from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'rate_limit_bucket'
          order by table_name`,
    );
    const counts = tables.map(
      ({ name }) => sql`(select count(*)::int from ${sql.identifier(name)}) as ${sql.identifier(name)}`,
    );
    snapshotQuery = sql`select ${sql.join(counts, sql`, `)},
      (select coalesce(sum(balance), 0)::int from credit_account) as "Σ balance"`;
  }
  const [row] = await queryRows<Record<string, number>>(t.db, snapshotQuery);
  return { ...row };
}

// ---- generators of bad input ----

const nasty = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "💥".repeat(50),
  "\u202e\u200b\ufeff",
  "<script>alert(1)</script>",
  "' or 1=1 --",
  "../../etc/passwd",
  "%00",
  "NaN",
  "-1",
  "1e309",
  "null",
  "true",
  "__proto__",
  "constructor",
  "\ud800",
);
const hugeString = fc.integer({ min: 5_000, max: 200_000 }).map((n) => "x".repeat(n));
const scalar = fc.oneof(
  nasty,
  hugeString,
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.constant(-0),
);
const deep = fc.integer({ min: 50, max: 3000 }).map((depth) => {
  let v: unknown = "bottom";
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
});
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 100_000 }).map((n) => Array.from({ length: n }, () => 1)) },
  { weight: 2, arbitrary: fc.array(scalar, { maxLength: 5 }) },
  { weight: 2, arbitrary: fc.dictionary(fc.oneof(nasty, fc.string({ maxLength: 10 })), scalar, { maxKeys: 5 }) },
);

/** Property names the operation's request body declares (top level), to send wrong values for them. */
function bodyFields(op: Json): string[] {
  let schema = op.requestBody?.content?.["application/json"]?.schema as Json | undefined;
  if (schema?.$ref) schema = doc.components?.schemas?.[String(schema.$ref).split("/").pop() ?? ""];
  return Object.keys(schema?.properties ?? {});
}

const body = (fields: string[]) =>
  fc.oneof(
    // Declared fields with wrong values, some missing, plus unknown and prototype-polluting keys.
    fc
      .tuple(
        fc.subarray(fields),
        fc.array(value, { minLength: fields.length, maxLength: fields.length }),
        fc.dictionary(fc.oneof(fc.constantFrom("__proto__", "constructor", "prototype", "role", "balance")), value, {
          maxKeys: 3,
        }),
      )
      .map(([keys, values, extra]) => {
        const fieldsPart = keys.map((k, i) => `${JSON.stringify(k)}:${JSON.stringify(values[i] ?? null)}`);
        // Written by hand so "__proto__" is an own key of the JSON text, as an attacker sends it.
        const extraPart = Object.entries(extra).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v ?? null)}`);
        return `{${[...fieldsPart, ...extraPart].join(",")}}`;
      }),
    value.map((v) => JSON.stringify(v) ?? "null"),
    fc.constantFrom(
      "{",
      '{"a":',
      "[1,2",
      "undefined",
      "{'single':'quotes'}",
      '{"a":1}{"b":2}',
      "\u0000",
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"role":"admin"}}}',
    ),
    // Oversized: past BODY_LIMIT_BYTES.
    fc.integer({ min: 70_000, max: 300_000 }).map((n) => JSON.stringify({ brandName: "x".repeat(n) })),
  );

const contentType = fc.constantFrom(
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "",
  undefined,
);

const pathValue = fc.oneof(
  fc.uuid(),
  fc.constant("00000000-0000-0000-0000-000000000000"),
  nasty,
  fc.string({ maxLength: 30 }),
  fc.integer({ min: 300, max: 5000 }).map((n) => "a".repeat(n)),
  fc.constantFrom("..", ".", "%2e%2e", "1", "-1", "sbx_1_1_0000000000000000"),
);

const queryValue = fc.oneof(
  nasty,
  fc.string({ maxLength: 20 }),
  hugeString.map((s) => s.slice(0, 9000)),
  fc.integer().map(String),
);

const request = (index: number) => {
  const { path, op } = ops[index] as (typeof ops)[number];
  const params = ((op.parameters ?? []) as Json[]).filter((p) => p.in === "query").map((p) => String(p.name));
  return fc.record({
    index: fc.constant(index),
    caller: fc.constantFrom("anonymous", "user", "admin") as fc.Arbitrary<"anonymous" | "user" | "admin">,
    pathValues: fc.array(pathValue, { minLength: 8, maxLength: 8 }),
    query: fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...params, "limit", "cursor", "__proto__"), fc.string({ maxLength: 8 })),
        queryValue,
      ),
      {
        maxLength: 4,
      },
    ),
    body: fc.option(body(bodyFields(op)), { nil: undefined, freq: 5 }),
    contentType,
    repeated: fc.subarray(["authorization", "content-type", "idempotency-key", "x-api-key", "cookie", "prefer"]),
    idempotencyKey: fc.option(fc.oneof(nasty, fc.string({ maxLength: 300 })), { nil: undefined }),
    path: fc.constant(path),
  });
};

/** A lone surrogate cannot be percent-encoded: it goes out as the invalid UTF-8 it would be. */
const encodeSegment = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return "%ED%A0%80";
  }
};

type Generated = ReturnType<typeof request> extends fc.Arbitrary<infer T> ? T : never;

function build(r: Generated) {
  const { method } = ops[r.index] as (typeof ops)[number];
  let i = 0;
  const path = String(r.path).replace(/\{[^}]+\}/g, () => encodeSegment(r.pathValues[i++] ?? "x"));
  const qs = new URLSearchParams();
  for (const [k, v] of r.query) qs.append(k, v);
  const url = `${path}${qs.size ? `?${qs}` : ""}`;
  const headers = new Headers({ origin: "http://localhost:3000", ...callers[r.caller] });
  const sendsBody = method !== "get" && r.body !== undefined;
  if (sendsBody && r.contentType !== undefined) headers.set("content-type", r.contentType);
  if (r.idempotencyKey !== undefined)
    headers.set("idempotency-key", r.idempotencyKey.replace(/[^\x20-\x7e\x80-\xff]/g, "?")); // what HTTP can carry
  for (const h of r.repeated) {
    const values = {
      authorization: "Bearer not-a-token",
      "content-type": "text/plain",
      "idempotency-key": "second",
      "x-api-key": "not-a-key",
      cookie: "better-auth.session_token=forged",
      prefer: "wait=abc",
    } as Record<string, string>;
    headers.append(h, values[h] ?? "x");
  }
  return { method: method.toUpperCase(), url, headers, body: sendsBody ? r.body : undefined };
}

test("every operation answers generated bad input below 500, in the Error envelope, with a declared status, changing nothing when it refuses", async () => {
  expect(ops.length).toBeGreaterThan(30);
  // the snapshot sees every table (an empty one would make "changing nothing" vacuous)
  expect(Object.keys(await snapshot())).toEqual(expect.arrayContaining(["user", "credit_transaction", "Σ balance"]));
  const seen = new Map<string, Set<number>>();
  const property = fc.asyncProperty(
    fc.integer({ min: 0, max: ops.length - 1 }).chain((i) => request(i)),
    async (r) => {
      const { path, op } = ops[r.index] as (typeof ops)[number];
      const req = build(r);
      if (r.caller !== "anonymous" && ENDS_THE_CALLER.has(path)) return; // would sign the next runs out
      const before = await snapshot();
      const res = await t.fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
      const text = await res.text();
      const where = `${req.method} ${path} as ${r.caller} → ${res.status}: ${text.slice(0, 300)}`;
      seen.set(`${req.method} ${path}`, (seen.get(`${req.method} ${path}`) ?? new Set()).add(res.status));
      expect(res.status, where).toBeLessThan(500);
      if (res.status < 400) return; // accepted: a change is allowed
      const declared = Object.keys(op.responses ?? {});
      expect(declared, where).toContain(String(res.status));
      const parsed = ErrorSchema.safeParse(JSON.parse(text));
      expect(parsed.success, where).toBe(true);
      expect(await snapshot(), where).toEqual(before);
    },
  );
  const started = performance.now();
  // fast-check prints the seed, the path and the counterexample of a failure; the seed is logged too.
  console.info(`hostile input: seed ${SEED}, ${RUNS} runs over ${ops.length} operations (FC_SEED=… to replay)`);
  await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true });
  console.info(`hostile input: ${seen.size} operations exercised in ${Math.round(performance.now() - started)} ms`);
});
