import { describe, expect, test } from "bun:test";
import { createLogger, flushLogsSync, requestLineWriter } from "../../src/lib/logger";

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(l) } });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, parsed };
}

describe("createLogger's redaction", () => {
  test("secrets one level down are censored in a line, a child's bindings and an error, as pino's *.x paths did", () => {
    const { logger, parsed } = capture();
    logger.info({ body: { password: "p", name: "n" }, token: "top-level stays" }, "nested");
    logger.child({ user: { secret: "s", accessToken: "a", id: 1 } }).info("child");
    logger.error({ err: Object.assign(new Error("failed, params: abc"), { token: "t" }) }, "err");
    logger.info({ req: { headers: { authorization: "Bearer x", cookie: "c", "x-api-key": "k", other: "o" } } }, "h");
    logger.info({ config: { DATABASE_URL: "postgres://u:p@h/db", PORT: 1 } }, "config");
    const [nested, child, err, headers, config] = parsed();
    expect(nested?.body).toEqual({ password: "[redacted]", name: "n" });
    expect(nested?.token).toBe("top-level stays");
    expect(child?.user).toEqual({ secret: "[redacted]", accessToken: "[redacted]", id: 1 });
    expect((err?.err as { token?: string } | undefined)?.token).toBe("[redacted]");
    expect((err?.err as { message?: string } | undefined)?.message).toBe("failed, params: [redacted]");
    expect((headers?.req as { headers: unknown } | undefined)?.headers).toEqual({
      authorization: "[redacted]",
      cookie: "[redacted]",
      "x-api-key": "[redacted]",
      other: "o",
    });
    expect(config?.config).toEqual({ DATABASE_URL: "[redacted]", PORT: 1 });
  });

  test("the logged object is not changed by the censoring", () => {
    const { logger } = capture();
    const body = { password: "p" };
    logger.info({ body }, "x");
    expect(body.password).toBe("p");
  });

  test("a request line written with explicit fields is the line a request's child logger wrote", () => {
    const { logger, parsed } = capture();
    const fields = { method: "GET", path: "/x", status: 200, durationMs: 1.5 };
    logger.child({ requestId: "r1", clientAddress: "10.0.0.1" }).info(fields, "request");
    logger.info({ requestId: "r1", clientAddress: "10.0.0.1", ...fields }, "request");
    flushLogsSync(logger);
    const [a, b] = parsed();
    expect(Object.keys(a ?? {})).toEqual(Object.keys(b ?? {}));
    expect({ ...a, time: 0 }).toEqual({ ...b, time: 0 });
  });

  test("the request line writer writes the bytes pino writes for the same fields, at the same levels", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(l) } });
    const write = requestLineWriter(logger);
    const fields = {
      requestId: "r-1",
      clientAddress: "2001:db8::1",
      method: "GET",
      // Text JSON must escape: a quote, a backslash, a control character, non-ASCII.
      path: '/api/x"y\\z\u0001é',
      status: 503,
      durationMs: 12.3,
      userId: "user-1",
    };
    for (const [level, line] of [
      ["info", fields],
      ["error", fields],
      // A caller that is not signed in: userId left out, as pino leaves out undefined.
      ["info", { ...fields, userId: undefined }],
    ] as const) {
      lines.length = 0;
      write(level, line);
      logger[level](line, "request");
      const [ours, pinos] = lines;
      // Only the time may differ (a millisecond apart at most).
      const time = /"time":\d+/;
      expect(ours?.replace(time, "")).toBe(pinos?.replace(time, "") as string);
      expect(ours?.endsWith("}\n")).toBe(true);
    }
    // Below the logger's level nothing is written.
    lines.length = 0;
    logger.level = "warn";
    write("info", fields);
    write("error", fields);
    expect(lines.map((l) => (JSON.parse(l) as { level: number }).level)).toEqual([50]);
  });
});
