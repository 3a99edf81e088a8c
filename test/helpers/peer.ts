import type { TestApp } from "./app";
import { readBody } from "./schemas";

/**
 * A JSON request to the in-process app as if its socket peer were `address`: the app receives the same
 * `env` Bun.serve's adapter gives it (src/server.ts), so the client address is resolved as in production.
 */
export async function requestFrom(
  t: TestApp,
  address: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
) {
  const req = new Request(new URL(path, "http://localhost:3000"), {
    method,
    headers: {
      ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
      origin: "http://localhost:3000",
      ...opts.headers,
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const res = await t.app.fetch(req, { requestIP: () => ({ address, family: "IPv4", port: 50000 }) });
  const body = await readBody(res);
  return { status: res.status, headers: res.headers, body };
}
