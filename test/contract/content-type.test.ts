import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectError } from "../helpers/schemas";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

test("a JSON endpoint sent another content type answers 400 validation_error, not 500", async () => {
  const s = await t.signUp();
  const res = await t.json("POST", "/api/predictions", {
    body: "brandName=Acme",
    headers: { ...s.headers, "content-type": "application/x-www-form-urlencoded" },
  });
  const err = expectError(res, 400, "validation_error");
  expect(err.message).toContain("application/json");
});
