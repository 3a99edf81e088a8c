import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AssetListSchema, AssetSchema } from "../../src/schemas/assets";
import { CreditBalanceSchema, CreditTransactionListSchema } from "../../src/schemas/credits";
import { PredictionListSchema, PredictionSchema } from "../../src/schemas/predictions";
import { startFakeEachlabs } from "../fakes/eachlabs";
import { testDatabaseUrl } from "../helpers/db";
import { codeBlocks, runBash } from "../helpers/doc-script";
import { expectSchema } from "../helpers/schemas";
import { ROOT, startChildServer } from "../server/helpers";

/**
 * docs/test-mode.md's "Step by step", run as written with bash and curl, as a newcomer runs it: against the server
 * as `npm start` starts it, configured for production generations (an Eachlabs key that looks real, pointed at the
 * fake Eachlabs). Every step must answer as the page shows, Eachlabs must hear nothing, and the account's live
 * balance must not move.
 */

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The shape of an Eachlabs key; the fake answers 401 to any other. */
const EACHLABS_KEY = "el_live_7c3e9a1f0b5d4e28a6f1c9d03b7e52a4";

test("docs/test-mode.md run as written with a test key, on a server with an Eachlabs key: every step succeeds, Eachlabs hears nothing, the live balance does not move", async () => {
  const script = codeBlocks(readFileSync(join(ROOT, "docs", "test-mode.md"), "utf8"), ["Step by step"], "sh").join(
    "\n",
  );
  expect(script).toContain("test-top-up");
  const eachlabs = await startFakeEachlabs({ apiKey: EACHLABS_KEY });
  cleanups.push(() => eachlabs.close());
  const server = await startChildServer({
    command: join(ROOT, "node_modules", ".bin", "bun"),
    args: ["src/index.ts"],
    kind: testDatabaseUrl() ? "postgres" : "pglite",
    cleanups,
    // The defaults of `npm start` but for Eachlabs (configured, so live predictions would go there) and the
    // sandbox's delay (the page waits for it either way).
    env: () => ({ EACHLABS_API_KEY: EACHLABS_KEY, EACHLABS_BASE_URL: eachlabs.url, SANDBOX_DELAY_MS: "0" }),
  });
  const dir = join(ROOT, ".data", `test-mode-walkthrough-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const email = `newcomer+${Date.now()}@example.com`;
  const password = "correct-horse-battery";

  const out = await runBash(script, dir, { API: server.base, EMAIL: email, PASSWORD: password }).catch((err) => {
    throw new Error(`${String(err)}\n--- server ---\n${server.output()}`);
  });
  const where = `${out}\n--- server ---\n${server.output()}`;
  const check = (what: string, actual: unknown, expected: unknown) =>
    expect([where, what, actual]).toEqual([where, what, expected]);

  // Each body the page prints is a line of its own, in the page's order.
  const bodies = out
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
  check("bodies printed", bodies.length, 12);
  const [liveBefore, topUp, created, waited, ordered, kit, predictions, assets, ledger, testBalance, livePredictions] =
    bodies;
  const liveAfter = bodies[11];

  // 1. The new account's live balance: the signup credits (3 by default).
  check("live balance before", [expectSchema(CreditBalanceSchema, liveBefore).balance, liveBefore.livemode], [3, true]);
  // 2. A test key (only its prefix is printed).
  check("test key prefix", out.includes("logo_test_…"), true);
  // 3. The test balance topped up.
  check("top-up", [expectSchema(CreditBalanceSchema, topUp).balance, topUp.livemode], [100, false]);
  // 4. The prediction, made and waited for, on the sandbox; then its brand kit, ordered, waited for and unzipped.
  const prediction = expectSchema(PredictionSchema, created);
  check("created", [prediction.status, prediction.livemode, prediction.creditsCharged], ["processing", false, 1]);
  const final = expectSchema(PredictionSchema, waited);
  check("waited", [final.id, final.status, final.livemode], [prediction.id, "succeeded", false]);
  check("output", final.output?.[0]?.startsWith(`${server.base}/files/`), true);
  const asset = expectSchema(AssetSchema, ordered);
  check("ordered", [asset.kind, asset.status, asset.livemode, asset.creditsCharged], ["brand-kit", "queued", false, 3]);
  const done = expectSchema(AssetSchema, kit);
  check("kit", [done.id, done.status, done.files.map((f) => f.name)], [asset.id, "succeeded", ["brand-kit.zip"]]);
  for (const name of ["logo.svg", "logo.pdf", "palette.json", "icons/favicon.ico"])
    check(`unzip -l lists ${name}`, new RegExp(` ${name.replace(".", "\\.")}\\n`).test(out), true);
  // 5. The test lists: the test objects; the test ledger and balance: the top-up, the generation, the kit.
  check(
    "test predictions",
    expectSchema(PredictionListSchema, predictions).data.map((p) => [p.id, p.livemode]),
    [[prediction.id, false]],
  );
  check(
    "test assets",
    expectSchema(AssetListSchema, assets).data.map((a) => [a.id, a.livemode]),
    [[asset.id, false]],
  );
  check(
    "test ledger",
    expectSchema(CreditTransactionListSchema, ledger)
      .data.map((t) => [t.type, t.amount, t.livemode])
      .sort(),
    [
      ["asset", -3, false],
      ["generation", -1, false],
      ["test_top_up", 100, false],
    ],
  );
  check(
    "test balance",
    [expectSchema(CreditBalanceSchema, testBalance).balance, testBalance.totalSpent, testBalance.livemode],
    [96, 4, false],
  );
  // ... and live, nothing: no prediction, the balance as it was, which the page itself says.
  check("live predictions", expectSchema(PredictionListSchema, livePredictions).data, []);
  check("live balance after", liveAfter, liveBefore);
  check("the page's own check", out.includes("the live balance did not move"), true);

  // Eachlabs heard nothing: no create, no poll, no request at all.
  check(
    "requests to Eachlabs",
    eachlabs.calls.map((c) => `${c.method} ${c.path}`),
    [],
  );

  // The account's live side, read apart from the page with a session of its own: untouched.
  const signIn = await fetch(`${server.base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  check("sign-in", signIn.status, 200);
  const session = { authorization: `Bearer ${signIn.headers.get("set-auth-token")}` };
  const get = async (path: string) => (await fetch(`${server.base}${path}`, { headers: session })).json();
  const live = expectSchema(CreditBalanceSchema, await get("/api/credits"));
  check("live balance", [live.balance, live.totalSpent, live.livemode], [3, 0, true]);
  check(
    "live ledger",
    expectSchema(CreditTransactionListSchema, await get("/api/credits/transactions")).data.map((t) => [
      t.type,
      t.amount,
    ]),
    [["signup_bonus", 3]],
  );

  // The control: this server does send live predictions to the fake Eachlabs, with the key, so the silence above
  // is test mode's doing and not a server that could not reach it.
  const livePrediction = await fetch(`${server.base}/api/predictions`, {
    method: "POST",
    headers: { ...session, "content-type": "application/json" },
    body: JSON.stringify({ brandName: "Acme Coffee" }),
  });
  check("live prediction", [livePrediction.status, (await livePrediction.json()).livemode], [201, true]);
  check(
    "Eachlabs creates after a live prediction",
    eachlabs.creates().map((c) => c.headers["x-api-key"] ?? c.headers.authorization),
    [EACHLABS_KEY],
  );
}, 120_000);
