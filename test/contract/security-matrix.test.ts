import { afterAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import sharp from "sharp";
import { prediction } from "../../src/db/schema";
import { newFileKey } from "../../src/domain/files";
import { createTestApp } from "../helpers/app";
import { OpenApiValidator, validatingFetch } from "../helpers/openapi-validator";

/**
 * Every protected operation of our own paths, read from the live document (so a new operation is covered
 * the day it is declared), against what the server does:
 * - without credentials: refused with the Error envelope (401 unauthorized; a signature-checked webhook,
 *   which declares no 401, 403 forbidden);
 * - an operation on one of a user's own resources (a path parameter, user security and a declared 403):
 *   another user gets 403 forbidden, the owner does not;
 * - an operation whose security names only the admin schemes: a signed-in non-admin gets 403 forbidden,
 *   an admin does not.
 * Each response is also checked against the document (its status declared, its body and headers valid).
 */

const t = await createTestApp({
  env: {
    ADMIN_EMAILS: "chief@example.com",
    METRICS_TOKEN: "metrics-token-for-tests",
    POLAR_WEBHOOK_SECRET: "c2VjcmV0",
    SIGNUP_CREDITS: "20",
  },
});
afterAll(() => t.close());

const validator = await OpenApiValidator.load(() => t.fetch("/openapi.json"));
const send = validatingFetch(validator, (url, init) => t.fetch(url, init));
const schemes = (validator.doc.components?.securitySchemes ?? {}) as Record<string, unknown>;

const protectedOps = validator
  .operations()
  .filter(({ path }) => !path.startsWith("/api/auth/"))
  .map((o) => ({ ...o, requirements: validator.security(o.op) }))
  // Protected: some requirement is needed, and none of them is the empty one ({}: anonymous allowed).
  .filter(({ requirements }) => requirements.length > 0 && requirements.every((r) => Object.keys(r).length > 0));
const names = (r: Record<string, unknown>[]) => r.flatMap((x) => Object.keys(x));
const isAdminOp = (r: Record<string, unknown>[]) => names(r).every((n) => n.startsWith("admin"));
const isUserOp = (r: Record<string, unknown>[]) =>
  names(r).some((n) => ["cookieAuth", "bearerAuth", "apiKeyAuth"].includes(n));
const pathParams = (op: Record<string, any>) =>
  ((op.parameters ?? []) as { in: string; name: string }[]).filter((p) => p.in === "path");
const ownerOps = protectedOps.filter(
  ({ op, requirements }) => isUserOp(requirements) && pathParams(op).length > 0 && op.responses?.["403"],
);
const adminOps = protectedOps.filter(({ requirements }) => isAdminOp(requirements));

const key = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;
const ownSecurityProblem = (p: string) => p.includes("credentials do not satisfy any security requirement");

// Two users and an admin; user A owns a prediction (the sandbox provider answers at once in tests).
const a = await t.signUp();
const b = await t.signUp();
const admin = await t.signUp({ email: "chief@example.com" });
const created = await t.json("POST", "/api/predictions", { body: { brandName: "Acme" }, headers: a.headers });
if (created.status !== 201) throw new Error(`could not create A's prediction: ${created.status}`);
const ownedId = created.body.id as string;
// And a succeeded one (finished here as a provider would: its image in our storage), with a deliverable ordered.
const finished = await t.json("POST", "/api/predictions", { body: { brandName: "Acme" }, headers: a.headers });
const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#1F2937" } })
  .png()
  .toBuffer();
const pngKey = newFileKey("image/png");
await t.deps.storage.put(pngKey, png, "image/png");
await t.db
  .update(prediction)
  .set({ status: "succeeded", output: [t.deps.storage.publicUrl(pngKey)], completedAt: new Date() })
  .where(eq(prediction.id, finished.body.id));
const succeededId = finished.body.id as string;
const ordered = await t.json("POST", `/api/predictions/${succeededId}/assets`, {
  body: { kind: "vector" },
  headers: a.headers,
});
if (ordered.status !== 201) throw new Error(`could not order A's asset: ${ordered.status}`);
const assetId = ordered.body.id as string;

/** Which of A's resources a path's id names: its asset, its succeeded prediction (deliverables), else its prediction. */
const idFor = (path: string) =>
  path.startsWith("/api/assets/") ? assetId : path.endsWith("/assets") ? succeededId : ownedId;

/** The operation's path with its parameters filled: a UUID is the id of user A's prediction, else the example. */
function concrete(path: string, op: Record<string, any>): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const p = (op.parameters ?? []).find((x: { in: string; name: string }) => x.in === "path" && x.name === name);
    const schema = validator.resolve(p?.schema);
    return schema?.format === "uuid" ? idFor(path) : String(p?.example ?? schema?.example ?? "x");
  });
}

/**
 * A request with a JSON body when the operation takes one: the document's example, or `{}` when it has
 * none (then the body is a placeholder, and what the validator says about it is not the point here).
 */
function init(method: string, op: Record<string, any>, headers: Record<string, string> = {}): RequestInit {
  const media = op.requestBody?.content?.["application/json"];
  const example = media ? (media.example ?? validator.resolve(media.schema)?.example) : undefined;
  return {
    method: method.toUpperCase(),
    headers: { ...(media ? { "content-type": "application/json" } : {}), ...headers },
    body: media ? JSON.stringify(example ?? {}) : undefined,
  };
}

/** The validator's findings, less those about a placeholder body (see init). */
function findings(res: { problems: string[] }, op: Record<string, any>, ignore?: (p: string) => boolean) {
  const media = op.requestBody?.content?.["application/json"];
  const placeholder = media && (media.example ?? validator.resolve(media.schema)?.example) === undefined;
  return res.problems.filter((p) => !(placeholder && p.includes(": request body")) && !ignore?.(p));
}

test("the document has protected operations of each kind to check", () => {
  expect(protectedOps.length).toBeGreaterThan(10);
  expect(ownerOps.length).toBeGreaterThan(0);
  expect(adminOps.length).toBeGreaterThan(0);
  for (const { requirements } of protectedOps) for (const n of names(requirements)) expect(schemes[n]).toBeDefined();
});

describe("without credentials", () => {
  test.each(protectedOps.map((o) => [key(o), o] as const))("%s is refused", async (_k, o) => {
    const res = await send(concrete(o.path, o.op), init(o.method, o.op));
    const expected = o.op.responses?.["401"] ? [401, "unauthorized"] : [403, "forbidden"];
    expect([res.status, res.body?.error?.code]).toEqual(expected);
    expect(res.body.error.requestId).toBe(res.headers.get("x-request-id") as string);
    // The request broke the security requirement on purpose; everything else must match the document.
    expect(findings(res, o.op, ownSecurityProblem)).toEqual([]);
  });
});

describe("another user's resource", () => {
  test.each(ownerOps.map((o) => [key(o), o] as const))("%s: 403 for another user, not for the owner", async (_k, o) => {
    const url = concrete(o.path, o.op);
    const other = await send(url, init(o.method, o.op, b.headers));
    expect([other.status, other.body?.error?.code]).toEqual([403, "forbidden"]);
    expect(findings(other, o.op)).toEqual([]);
    const owner = await send(url, init(o.method, o.op, a.headers));
    expect(owner.status).toBeLessThan(400);
    expect(findings(owner, o.op)).toEqual([]);
  });
});

describe("an id that names nothing", () => {
  test.each(ownerOps.map((o) => [key(o), o] as const))("%s: 404 for an unknown or malformed id", async (_k, o) => {
    for (const id of [crypto.randomUUID(), "not-a-uuid"]) {
      const url = concrete(o.path, o.op).replace(idFor(o.path), id);
      const res = await send(url, init(o.method, o.op, a.headers));
      expect([url, res.status, res.body?.error?.code]).toEqual([url, 404, "not_found"]);
    }
  });
});

describe("private answers", () => {
  const privateOps = protectedOps.filter(({ requirements }) => isUserOp(requirements) || isAdminOp(requirements));
  test.each(privateOps.map((o) => [key(o), o] as const))(
    "%s: Cache-Control: no-store, declared and sent",
    async (_k, o) => {
      for (const [status, response] of Object.entries<any>(o.op.responses))
        if (/^2/.test(status))
          expect([status, response.headers?.["Cache-Control"]?.schema?.enum]).toEqual([status, ["no-store"]]);
      const caller = isAdminOp(o.requirements) ? admin : a;
      const res = await send(concrete(o.path, o.op), init(o.method, o.op, caller.headers));
      expect([res.status < 500, res.headers.get("cache-control")]).toEqual([true, "no-store"]);
    },
  );
});

describe("admin operations", () => {
  test.each(adminOps.map((o) => [key(o), o] as const))("%s: 403 for a non-admin, not for an admin", async (_k, o) => {
    const url = concrete(o.path, o.op);
    const user = await send(url, init(o.method, o.op, b.headers));
    expect([user.status, user.body?.error?.code]).toEqual([403, "forbidden"]);
    expect(findings(user, o.op)).toEqual([]);
    const chief = await send(url, init(o.method, o.op, admin.headers));
    expect([401, 403]).not.toContain(chief.status);
    expect(findings(chief, o.op)).toEqual([]);
  });
});

const openOps = validator
  .operations()
  .map((o) => ({ ...o, requirements: validator.security(o.op) }))
  .filter(({ requirements }) => requirements.length === 0 || requirements.some((r) => Object.keys(r).length === 0));

describe("operations open to anonymous callers (Better Auth's included)", () => {
  test.each(openOps.map((o) => [key(o), o] as const))("%s does not ask for credentials", async (_k, o) => {
    const res = await send(concrete(o.path, o.op), init(o.method, o.op, { origin: "http://localhost:3000" }));
    expect(res.status).not.toBe(401);
    expect(findings(res, o.op)).toEqual([]);
  });
});
