import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { Database, DatabaseHandle } from "../../src/db";
import { databaseUnavailable } from "../../src/db/outage";
import type { AppEnv, Deps } from "../../src/deps";
import type { AuthUser } from "../../src/domain/user";
import { systemClock } from "../../src/lib/clock";
import { createLogger } from "../../src/lib/logger";
import { errorHandler } from "../../src/middleware/errors";
import { idempotent } from "../../src/middleware/idempotency";
import { createTestDatabase } from "../helpers/db";

/**
 * Idempotency-Key across a database outage (found by the fleet test: a POST answered 503 during a 2 s database cut
 * kept its key "in progress", so every retry with the key answered 409 for two minutes although nothing ran).
 * The database is real; a switch makes every call on it fail as a dropped connection does.
 */
let handle: DatabaseHandle;
let down = false;
let runs = 0;
let app: Hono<AppEnv>;
let deps: Deps;
let work: "fail in the outage" | "succeed, then the outage" | "succeed" = "succeed";

beforeAll(async () => {
  handle = await createTestDatabase();
  const real = handle.db;
  const db = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (down) throw new Error("Connection terminated unexpectedly");
        return value.apply(target, args);
      };
    },
  }) as Database;
  const user = { id: crypto.randomUUID() } as AuthUser;
  deps = { db, clock: systemClock } as unknown as Deps;
  app = new Hono<AppEnv>();
  app.onError(errorHandler);
  app.use(async (c, next) => {
    c.set("user", user);
    c.set("logger", createLogger({ level: "silent" }));
    await next();
  });
  app.post("/work", idempotent("test.work"), async (c) => {
    runs++;
    if (work === "fail in the outage") {
      down = true;
      throw databaseUnavailable();
    }
    if (work === "succeed, then the outage") down = true;
    return c.json({ run: runs }, 201);
  });
});
afterAll(async () => {
  down = false;
  await handle.close();
});

// The request's scope, as the edge would make it (src/middleware/edge.ts): what the middleware reads of it.
const post = (key: string) =>
  app.request(
    "/work",
    { method: "POST", headers: { "idempotency-key": key }, body: "{}" },
    {
      deps,
      requestId: crypto.randomUUID(),
    },
  );

async function eventually(f: () => Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return true;
    await Bun.sleep(100);
  }
  return false;
}

describe("Idempotency-Key and a database outage", () => {
  test("a request that failed in the outage frees its key once the database is back: the retry runs (not 409 for minutes)", async () => {
    runs = 0;
    work = "fail in the outage";
    const first = await post("outage-1");
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("2");
    // Still down: the retry is refused for the same reason, without running.
    expect((await post("outage-1")).status).toBe(503);
    down = false;
    work = "succeed";
    let last = 0;
    expect(
      await eventually(async () => {
        last = (await post("outage-1")).status;
        return last !== 409;
      }),
    ).toBe(true);
    expect(last).toBe(201);
    expect(runs).toBe(2);
  });

  test("work done just before the outage is answered, kept once the database is back and replayed, never run twice", async () => {
    runs = 0;
    work = "succeed, then the outage";
    const first = await post("outage-2");
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ run: 1 });
    down = false;
    work = "succeed";
    let replay: Response | undefined;
    expect(
      await eventually(async () => {
        replay = await post("outage-2");
        // 409 until the outcome is written: the first is "still in progress", never run again.
        return replay.status !== 409;
      }),
    ).toBe(true);
    expect(replay?.status).toBe(201);
    expect(replay?.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay?.json()).toEqual({ run: 1 });
    expect(runs).toBe(1);
  });
});
