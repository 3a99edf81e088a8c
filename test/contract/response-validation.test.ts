import { afterAll, beforeAll, expect, test } from "bun:test";
import type { z } from "@hono/zod-openapi";
import { AdminCreditAdjustmentSchema, AdminUserListSchema } from "../../src/schemas/admin";
import { CreditBalanceSchema, CreditPackageListSchema, CreditTransactionListSchema } from "../../src/schemas/credits";
import { PredictionListSchema, PredictionSchema } from "../../src/schemas/predictions";
import { createTestApp, type TestApp } from "../helpers/app";

// Production does not parse response bodies a second time (src/schemas/respond.ts): VALIDATE_RESPONSES is
// off by default there. Here it is off on purpose, and every body the mappers build must still be exactly
// what the schema's parse returns: valid, with no key the schema would strip and nothing it would change.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    env: { VALIDATE_RESPONSES: "false", ADMIN_EMAILS: "root@example.com", SANDBOX_DELAY_MS: "0" },
  });
});
afterAll(async () => {
  expect(await t.ledgerViolations()).toEqual([]);
  await t.close();
});

function expectParsedIdentical<S extends z.ZodType>(schema: S, body: unknown) {
  const parsed = schema.safeParse(body);
  expect(parsed.error).toBeUndefined();
  // Same keys and values (key order is not part of JSON: a stored input comes back in jsonb's order).
  expect(parsed.data).toStrictEqual(body as z.output<S>);
}

test("with validation off, the hot reads and the mappers answer exactly what the schemas would", async () => {
  expect(t.deps.config.validateResponses).toBe(false);
  const admin = await t.signUp({ email: "root@example.com" });
  const s = await t.signUp();
  const adjusted = await t.json("POST", "/api/admin/credits", {
    body: { userId: s.userId, amount: 4, reason: "test" },
    headers: admin.headers,
  });
  expect(adjusted.status).toBe(201);
  expectParsedIdentical(AdminCreditAdjustmentSchema, adjusted.body);

  const created = await t.json("POST", "/api/predictions", {
    headers: s.headers,
    body: { brandName: "Acme", colors: ["#1F2937"], style: "minimal" },
  });
  expect(created.status).toBe(201);
  expectParsedIdentical(PredictionSchema, created.body);
  const id = (created.body as { id: string }).id;
  const done = await t.json("GET", `/api/predictions/${id}`, { headers: { ...s.headers, prefer: "wait=10" } });
  expect((done.body as { status: string }).status).toBe("succeeded");
  expectParsedIdentical(PredictionSchema, done.body);

  const reads: [string, z.ZodType, Record<string, string>][] = [
    ["/api/credits", CreditBalanceSchema, s.headers],
    ["/api/credits/transactions?limit=20", CreditTransactionListSchema, s.headers],
    ["/api/credits/packages", CreditPackageListSchema, {}],
    ["/api/predictions?limit=20", PredictionListSchema, s.headers],
    ["/api/generations?limit=20", PredictionListSchema, s.headers],
    ["/api/admin/users?limit=20", AdminUserListSchema, admin.headers],
  ];
  for (const [path, schema, headers] of reads) {
    const res = await t.json("GET", path, { headers });
    expect(res.status).toBe(200);
    expectParsedIdentical(schema, res.body);
  }
});
