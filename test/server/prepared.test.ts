import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import type { DatabaseHandle } from "../../src/db";
import { prepared } from "../../src/db/prepared";
import { user } from "../../src/db/schema";
import { createTestDatabase } from "../helpers/db";

// prepared() maps the rows of a flat selection itself (decoders found once); the values must be Drizzle's own.
let h: DatabaseHandle;
let id: string;
beforeAll(async () => {
  h = await createTestDatabase();
  const at = new Date("2026-01-02T03:04:05.678Z");
  const [row] = await h.db
    .insert(user)
    .values({ name: "Flat", email: "flat@example.com", createdAt: at, updatedAt: at })
    .returning({ id: user.id });
  id = row?.id as string;
});
afterAll(() => h.close());

const selection = {
  id: user.id,
  name: user.name,
  emailVerified: user.emailVerified,
  image: user.image,
  createdAt: user.createdAt,
  two: sql<number>`1 + 1`.mapWith(Number),
  label: sql<string>`'x' || ${user.name}`.as("label"),
};

test("a flat prepared selection gives the values Drizzle's own mapping gives (Dates, nulls, mapped SQL)", async () => {
  const statement = prepared(h.db, "test_flat_user", (d, name) =>
    d
      .select(selection)
      .from(user)
      .where(eq(user.id, sql.placeholder("id")))
      .prepare(name),
  );
  const [fast] = await statement.execute({ id });
  const [own] = await h.db.select(selection).from(user).where(eq(user.id, id));
  expect(fast).toEqual(own as NonNullable<typeof own>);
  expect(fast?.createdAt).toBeInstanceOf(Date);
  expect(fast?.createdAt.toISOString()).toBe("2026-01-02T03:04:05.678Z");
  expect(fast?.image).toBeNull();
  expect(fast?.two).toBe(2);
  expect(fast?.label).toBe("xFlat");
  expect(Object.keys(fast ?? {})).toEqual(Object.keys(selection));
});

test("a nested selection keeps Drizzle's mapping", async () => {
  const statement = prepared(h.db, "test_nested_user", (d, name) =>
    d
      .select({ who: { id: user.id, name: user.name }, createdAt: user.createdAt })
      .from(user)
      .where(eq(user.id, sql.placeholder("id")))
      .prepare(name),
  );
  const [row] = await statement.execute({ id });
  expect(row).toEqual({ who: { id, name: "Flat" }, createdAt: new Date("2026-01-02T03:04:05.678Z") });
});
