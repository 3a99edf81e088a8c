import { expect, test } from "bun:test";
import doc from "../../openapi/openapi.json";
import { authErrorCode } from "../../src/auth/handler";
import { ApiError, codeOfStatus, ERROR_CODES, STATUS_OF } from "../../src/lib/errors";

/** STATUS_OF is the one statement of which status each error code has; everything else is read from it. */

test("every error code has its own status, so a status names one code", () => {
  for (const code of ERROR_CODES) {
    expect(codeOfStatus(STATUS_OF[code])).toBe(code);
    expect(new ApiError(code, "x").status).toBe(STATUS_OF[code]);
  }
  expect(new Set(ERROR_CODES.map((c) => STATUS_OF[c])).size).toBe(ERROR_CODES.length);
});

test("every error response of the document names the code STATUS_OF gives its status", () => {
  const seen: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>))
    for (const [method, op] of Object.entries(item))
      for (const [status, response] of Object.entries<any>(op.responses ?? {})) {
        const code = codeOfStatus(Number(status));
        const envelope = response.content?.["application/json"]?.schema?.$ref === "#/components/schemas/Error";
        if (!envelope || !code) continue;
        seen.push(`${method} ${path} ${status}`);
        expect(`${method} ${path} ${status}: ${response.description}`).toContain(`${status}: \`${code}\`: `);
      }
  expect(seen.length).toBeGreaterThan(100);
  const described = (doc.components.schemas.ErrorCode as { description: string }).description;
  for (const code of ERROR_CODES) expect(described).toContain(`${code} ${STATUS_OF[code]}`);
});

test("Better Auth's error statuses map to the codes STATUS_OF gives them", () => {
  for (const status of [400, 401, 403, 404, 409, 413, 429])
    expect<string | undefined>(authErrorCode(status)).toBe(codeOfStatus(status));
});
