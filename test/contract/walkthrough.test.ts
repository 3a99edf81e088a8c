import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { compiledBuild, DIST_ENTRY } from "../helpers/build";
import { testDatabaseUrl } from "../helpers/db";
import { OpenApiValidator, type ValidatedResponse, validatingFetch } from "../helpers/openapi-validator";
import { freePort, ROOT, startChildServer } from "../server/helpers";

/**
 * docs/walkthrough.md, step by step, against the real server started as `npm start`
 * (Bun, the sources) and `npm run start:node` (Node, the compiled build in dist/) would start it, and on the
 * Node binary named by NODE24 when it is set (.ci/run sets it to Node 24 LTS). Every request is sent as the curl sends it and,
 * with its response, checked against the server's own /openapi.json: the document, the server and the
 * two runtimes cannot drift apart without this failing.
 */

const RUNTIMES: [name: string, command: string, args: string[]][] = [
  ["bun", join(ROOT, "node_modules", ".bin", "bun"), ["src/index.ts"]],
  ["node", "node", ["--enable-source-maps", DIST_ENTRY]],
  ...(process.env.NODE24
    ? ([["node 24", process.env.NODE24, ["--enable-source-maps", DIST_ENTRY]]] as [string, string, string[]][])
    : []),
];

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const startServer = (command: string, args: string[], kind: "pglite" | "postgres") =>
  startChildServer({
    command,
    args,
    kind,
    cleanups,
    env: () => ({
      ALLOWED_ORIGINS: "http://localhost:3000",
      ANONYMOUS_CREDITS: "1",
      SIGNUP_CREDITS: "3",
      SANDBOX_DELAY_MS: "300",
      RECONCILER_INTERVAL_MS: "0",
      // The walkthrough's advice for repeating the walkthrough in one day: the free-credit budget is per address.
      FREE_CREDITS_PER_ADDRESS_PER_DAY: "100",
    }),
  });

// On the suite's database: PostgreSQL when TEST_DATABASE_URL is set (CI), otherwise the embedded PGlite that
// `npm ci && npm start` uses. Both runtimes each time: they are what may drift apart.
const kinds = testDatabaseUrl() ? (["postgres"] as const) : (["pglite"] as const);
describe.each(kinds)("the walkthrough (docs/walkthrough.md) on %s", (kind) => {
  // Both servers start together, before the walks: a start (migrating a new database) is not the walk.
  const servers = new Map<string, Awaited<ReturnType<typeof startServer>>>();
  beforeAll(async () => {
    await compiledBuild();
    await Promise.all(
      RUNTIMES.map(async ([name, command, args]) => servers.set(name, await startServer(command, args, kind))),
    );
  }, 120_000);

  test.each(RUNTIMES)(
    "on %s, twice on one database: every request and response matches /openapi.json, and the guest's credits follow it into its account",
    async (name) => {
      const server = servers.get(name) as Awaited<ReturnType<typeof startServer>>;
      // Run again on the saved database, as a reader does: nothing in it may collide with the first run.
      for (const run of [1, 2]) await walk(server, run);
    },
    60_000,
  );
});

/** The walkthrough's steps, in order; `run` numbers the repetition in failure messages. */
async function walk(server: { base: string }, run: number) {
  const validator = await OpenApiValidator.load(() => fetch(`${server.base}/openapi.json`));
  const send = validatingFetch(validator, (url, init) => fetch(url, { ...init, redirect: "manual" }), server.base);
  const O = { Origin: "http://localhost:3000" };
  /** What the validator said about each step (asserted empty at the end, and shown if a step fails). */
  const problems: string[] = [];
  const step = async (path: string, init: RequestInit = {}): Promise<ValidatedResponse> => {
    const res = await send(path, init);
    problems.push(...res.problems);
    return res;
  };
  const json = { "Content-Type": "application/json" };
  try {
    // 1. Anonymous guest: POST with no body and no Content-Type, exactly like the curl.
    const guest = await step("/api/auth/sign-in/anonymous", { method: "POST", headers: O });
    expect(guest.status).toBe(200);
    let token = guest.headers.get("set-auth-token") as string;
    expect(token).toBeTruthy();
    const bearer = () => ({ Authorization: `Bearer ${token}` });
    const start = await step("/api/credits", { headers: bearer() });
    expect(start.body).toEqual({
      balance: 1,
      totalPurchased: 0,
      totalSpent: 0,
      totalRefunded: 0,
      totalAdjusted: 0,
      welcome: { granted: 1, withheld: null },
      livemode: true,
    });

    // 2. Models and prices, then a prediction with an Idempotency-Key.
    const models = await step("/api/models");
    expect(models.body.data.map((m: { id: string }) => m.id)).toContain("nano-banana");
    const created = await step("/api/predictions", {
      method: "POST",
      headers: { ...bearer(), ...json, "Idempotency-Key": crypto.randomUUID() },
      body: JSON.stringify({
        model: "nano-banana",
        brandName: "Acme Coffee",
        description: "specialty coffee roastery",
        style: "minimal",
        colors: ["#1F2937", "#F59E0B"],
      }),
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe("processing");
    const id = created.body.id as string;

    // 3. Poll with Prefer: wait=10 until the prediction is final.
    let prediction = created.body;
    for (let i = 0; i < 5 && prediction.status !== "succeeded"; i++) {
      const polled = await step(`/api/predictions/${id}`, { headers: { ...bearer(), Prefer: "wait=10" } });
      expect(polled.status).toBe(200);
      prediction = polled.body;
    }
    expect(prediction.status).toBe("succeeded");
    expect(prediction.creditsCharged).toBe(1);
    expect(prediction.output).toHaveLength(1);

    // 4. The image URL from "output" (the sandbox's PNG, served by this server).
    const image = prediction.output[0] as string;
    expect(image.startsWith(`${server.base}/files/`)).toBe(true);
    const png = await step(image);
    expect(png.status).toBe(200);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(png.text.slice(1, 4)).toBe("PNG");
    expect((await step("/api/credits", { headers: bearer() })).body.balance).toBe(0);

    // 5. Sign up with the guest's token: the guest is linked, its ledger and prediction move over.
    // EMAIL="ada+$(date +%s)$RANDOM@example.com": a new one each run.
    const email = `ada+${Math.floor(Date.now() / 1000)}${Math.floor(Math.random() * 32768)}@example.com`;
    const signedUp = await step("/api/auth/sign-up/email", {
      method: "POST",
      headers: { ...O, ...bearer(), ...json },
      body: JSON.stringify({ email, password: "correct-horse-battery", name: "Ada" }),
    });
    expect([run, signedUp.status]).toEqual([run, 200]);
    expect(signedUp.body.user.email).toBe(email);
    token = signedUp.headers.get("set-auth-token") as string;
    expect(token).toBeTruthy();

    // 6. An API key for integrators, then the balance, the ledger and the history with x-api-key.
    const apiKey = await step("/api/auth/api-key/create", {
      method: "POST",
      headers: { ...O, ...bearer(), ...json },
      body: JSON.stringify({ name: "my integration" }),
    });
    expect(apiKey.status).toBe(200);
    const key = { "x-api-key": apiKey.body.key as string };
    const credits = await step("/api/credits", { headers: key });
    expect(credits.body).toEqual({
      balance: 3,
      totalPurchased: 0,
      totalSpent: 1,
      totalRefunded: 0,
      totalAdjusted: 0,
      welcome: { granted: 3, withheld: null },
      livemode: true,
    });
    const ledger = await step("/api/credits/transactions?limit=5", { headers: key });
    expect(ledger.body.data.map((t: { type: string; amount: number }) => [t.type, t.amount]).sort()).toEqual(
      [
        ["generation", -1],
        ["signup_bonus", 3],
        ["transfer", 1],
      ].sort(),
    );
    const history = await step("/api/generations?status=succeeded", { headers: key });
    expect(history.body.data.map((p: { id: string }) => p.id)).toEqual([id]);

    // 9. Deliverables: the kinds and prices, then a brand kit of the prediction, waited for, downloaded, unzipped.
    const kinds = await step("/api/assets/kinds");
    expect(kinds.body.data.find((k: { kind: string }) => k.kind === "brand-kit")?.credits).toBe(3);
    const ordered = await step(`/api/predictions/${id}/assets`, {
      method: "POST",
      headers: { ...key, ...json, "Idempotency-Key": `kit-${id}` },
      body: JSON.stringify({ kind: "brand-kit" }),
    });
    expect(ordered.status).toBe(201);
    let kit = ordered.body;
    for (let i = 0; i < 5 && kit.status !== "succeeded"; i++)
      kit = (await step(`/api/assets/${kit.id}`, { headers: { ...key, Prefer: "wait=30" } })).body;
    expect(kit.status).toBe("succeeded");
    const zipUrl = kit.files[0].url as string;
    expect(zipUrl.startsWith(`${server.base}/files/`)).toBe(true);
    const zip = new Uint8Array(await (await fetch(zipUrl)).arrayBuffer());
    const names = Object.keys(unzipSync(zip)).sort();
    for (const name of ["logo.svg", "logo.pdf", "logo-2048.png", "icons/favicon.ico", "palette.json", "README.txt"])
      expect(names).toContain(name);
    expect((await step("/api/credits", { headers: key })).body.balance).toBe(0);
  } catch (err) {
    throw new Error(`run ${run}: ${String(err)}\n--- validator findings so far ---\n${problems.join("\n")}`);
  }
  expect(problems).toEqual([]);
}

/**
 * The page's own code blocks, in order, from the guest to the deliverables: the shell steps as one script, and the
 * webhook receiver it starts (saved as receiver.ts, as the page says). Buying credits and admins need Polar and a
 * stopped server, so their sections are not run.
 */
export function walkthroughCode(markdown: string): { script: string; receiver: string } {
  const run = ["With curl", "Streams instead of polling", "Webhooks instead of polling", "Deliverables"];
  const sections = markdown.split(/^## /m).filter((sec) => run.some((title) => sec.startsWith(title)));
  const blocks = (lang: string) =>
    sections.flatMap((sec) =>
      [...sec.matchAll(new RegExp(`^\`\`\`${lang}\n([\\s\\S]*?)^\`\`\`$`, "gm"))].map((m) => m[1] as string),
    );
  return { script: blocks("sh").join("\n"), receiver: blocks("ts").join("\n") };
}

describe("docs/walkthrough.md, run as written (bash and curl)", () => {
  test("on a server as `npm start` starts it (with SIGNUP_CREDITS=10, as the page says for step 9): every step answers as the page shows", async () => {
    const { script, receiver } = walkthroughCode(readFileSync(join(ROOT, "docs", "walkthrough.md"), "utf8"));
    expect(script).toContain("# 10.");
    const server = await startChildServer({
      command: join(ROOT, "node_modules", ".bin", "bun"),
      args: ["src/index.ts"],
      kind: testDatabaseUrl() ? "postgres" : "pglite",
      cleanups,
      // What the page tells a reader to set: a port of their own (and its origin), a budget for repeating it,
      // SIGNUP_CREDITS=10 for the kit. The sandbox is quicker than its default, the page waits either way.
      env: (_db, port) => ({
        ALLOWED_ORIGINS: `http://localhost:${port}`,
        FREE_CREDITS_PER_ADDRESS_PER_DAY: "100",
        SIGNUP_CREDITS: "10",
        SANDBOX_DELAY_MS: "300",
      }),
    });
    const port = new URL(server.base).port;
    // In the checkout (npx finds bun, receiver.ts finds standardwebhooks), in a directory of its own.
    const dir = join(ROOT, ".data", `walkthrough-${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "receiver.ts"), receiver);
    const out = await bash(script, dir, { PORT: port, RECEIVER_PORT: String(await freePort()) }, (text) =>
      /prediction\.completed \S+ succeeded/.test(text),
    );
    const where = `${out}\n--- server ---\n${server.output()}`;
    // curl prints each body without a newline: the bodies are found in the whole output.
    // 1. The guest's credits; 6. the account's, after the guest's credit moved in and 1 was spent.
    const balances = [...out.matchAll(/\{"balance":(\d+)/g)].map((m) => Number(m[1]));
    expect([where, balances]).toEqual([where, [1, 10]]);
    // 3. The long poll answered the prediction final.
    expect([where, /"status":"succeeded"[^\n]*"creditsCharged":1/.test(out)]).toEqual([where, true]);
    // The stream of a final prediction: one `done` event and nothing before it, as the page shows.
    const stream = out.slice(out.indexOf("event: "), out.indexOf("\n\n", out.indexOf("event: ")));
    expect([where, stream.split("\n")[0], stream.split("\n")[2], /event: status/.test(out)]).toEqual([
      where,
      "event: done",
      "id: 3",
      false,
    ]);
    // 7. The receiver heard start, then completed (in that order: it listened before the prediction was made).
    const heard = [...out.matchAll(/msg_\w+ (prediction\.\w+) /g)].map((m) => m[1]);
    expect([where, heard]).toEqual([where, ["prediction.start", "prediction.completed"]]);
    // 9. The kit unzipped and listed; 10. the vector asset created.
    for (const name of ["logo.svg", "logo.pdf", "palette.json", "README.txt", "favicon.ico"])
      expect([where, name, out.includes(`  inflating: brand-kit/`) && out.includes(name)]).toEqual([where, name, true]);
    expect([where, /\{"id":"[^"]+","kind":"vector","status":"queued"/.test(out)]).toEqual([where, true]);
  }, 180_000);
});

/**
 * Runs `script` with bash in `cwd` (its own process group, so the receiver it starts in the background goes with
 * it), waits for it, then until `settled(output)` holds (the receiver's last line) or 10 s pass; returns its output.
 */
async function bash(
  script: string,
  cwd: string,
  vars: Record<string, string>,
  settled: (output: string) => boolean,
): Promise<string> {
  const child = spawn("bash", ["-euo", "pipefail", "-c", script], {
    cwd,
    detached: true,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...vars },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    out += d;
  });
  try {
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new Error(`the walkthrough's script exited with ${code}:\n${out}`);
    for (let i = 0; i < 200 && !settled(out); i++) await Bun.sleep(50);
    return out;
  } finally {
    try {
      process.kill(-(child.pid as number), "SIGTERM");
    } catch {
      // the group has ended
    }
  }
}
