import { expect } from "bun:test";
import type { z } from "@hono/zod-openapi";
import { ErrorSchema } from "../../src/schemas/common";

/** Parses a body with a response schema; a mismatch fails the test with Zod's message. */
export function expectSchema<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success)
    throw new Error(`body does not match schema: ${JSON.stringify(r.error.issues, null, 2)}\n${JSON.stringify(body)}`);
  return r.data;
}

/** Asserts the error envelope with the given code, and that the request id matches the header. */
export function expectError(res: { status: number; headers: Headers; body: unknown }, status: number, code: string) {
  expect(res.status).toBe(status);
  const err = expectSchema(ErrorSchema, res.body);
  expect(err.error.code).toBe(code as never);
  expect(err.error.requestId).toBe(res.headers.get("x-request-id") as string);
  return err.error;
}

/** A response body as JSON when it parses, else as text (undefined when empty). */
export async function readBody(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}
