import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { boundAddress } from "../../src/server";
import { testDatabaseUrl } from "../helpers/db";
import { type ChildServer, childEnv, freshDatabaseEnv, ROOT, startChildServer } from "./helpers";

/**
 * The server's logs on a pipe, as a container runtime, systemd or a log shipper reads them: `bun src/index.ts` as a
 * real process whose stdout is a pipe. Every line arrives within 1 s however quiet the server is (the start line,
 * one request's line), and on every exit (a signal, a failed start) nothing written before it is lost.
 */

const BUN = join(ROOT, "node_modules", ".bin", "bun");
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The JSON lines of stdout as they arrive, each with the time it arrived. */
function lines(server: ChildServer) {
  const seen: { at: number; line: Record<string, unknown> }[] = [];
  let partial = "";
  server.child.stdout?.on("data", (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const p of parts) if (p.startsWith("{")) seen.push({ at: performance.now(), line: JSON.parse(p) });
  });
  return seen;
}

/** Resolves with the first line matching `match` within `ms`, else undefined. */
async function within(seen: ReturnType<typeof lines>, ms: number, match: (l: Record<string, unknown>) => boolean) {
  const until = performance.now() + ms;
  for (;;) {
    const hit = seen.find((s) => match(s.line));
    if (hit || performance.now() > until) return hit;
    await Bun.sleep(20);
  }
}

describe("logs on a pipe", () => {
  test("a quiet server's start line and a single request's line reach stdout within 1 s; a SIGTERM's last lines too", async () => {
    const server = await startChildServer({
      command: BUN,
      args: ["src/index.ts"],
      kind: testDatabaseUrl() ? "postgres" : "pglite",
      cleanups,
      env: () => ({ LOG_LEVEL: "info", RECONCILER_INTERVAL_MS: "0", HOUSEKEEPING_INTERVAL_MS: "0" }),
    });
    // Lines already written when the server answered its health check are in server.output(); later ones are timed.
    const seen = lines(server);
    const healthy = performance.now();
    const startLine = () => server.output().includes('"msg":"Logo API listening on 127.0.0.1:');
    for (let i = 0; i < 50 && !startLine(); i++) await Bun.sleep(20);
    expect([performance.now() - healthy < 1000, startLine()]).toEqual([true, true]);
    // The start line names the address it is bound to, and the public URL.
    expect(server.output()).toContain(`"listening":"127.0.0.1:${new URL(server.base).port}"`);
    expect(server.output()).toContain(`"publicUrl":"${server.base}"`);

    // One request on an idle server: its line arrives within 1 s of the answer.
    const res = await fetch(`${server.base}/api/models`, { headers: { "x-request-id": "quiet-request-1" } });
    expect(res.status).toBe(200);
    const answered = performance.now();
    const line = await within(seen, 2000, (l) => l.requestId === "quiet-request-1");
    expect(line?.line.msg).toBe("request");
    expect((line?.at ?? Number.POSITIVE_INFINITY) - answered).toBeLessThan(1000);

    // SIGTERM: the shutdown lines are all written before the process exits.
    server.child.kill("SIGTERM");
    expect((await server.exit).code).toBe(0);
    await Bun.sleep(50);
    expect(server.output()).toContain('"msg":"shutting down"');
    expect(server.output()).toContain('"msg":"stopping: no new connections');
  }, 120_000);

  test("a failed start writes its fatal line before exit 1", async () => {
    const db = await freshDatabaseEnv("pglite");
    cleanups.push(db.cleanup);
    // Port 1 on loopback: nothing listens, the database cannot be reached, the start fails.
    const child = spawn(BUN, ["src/index.ts"], {
      cwd: ROOT,
      env: childEnv({
        LOG_LEVEL: "info",
        PORT: "0",
        HOST: "127.0.0.1",
        DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
        DATABASE_CONNECT_TIMEOUT_MS: "500",
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    await Bun.sleep(50);
    expect(code).toBe(1);
    expect(out).toContain('"level":60');
    expect(out).toContain("failed to start");
  }, 120_000);
});

describe("the start line's address", () => {
  test("names the bound address, wildcards as all interfaces, IPv6 in brackets", () => {
    expect(boundAddress("0.0.0.0", 3000)).toBe("0.0.0.0:3000 (all IPv4 interfaces)");
    expect(boundAddress("::", 3000)).toBe("[::]:3000 (all interfaces)");
    expect(boundAddress("127.0.0.1", 8080)).toBe("127.0.0.1:8080");
    expect(boundAddress("::1", 8080)).toBe("[::1]:8080");
  });
});
