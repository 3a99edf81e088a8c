/**
 * A change's effect on reads, by pairs: the apps of two trees of this project (before and after a change) in one
 * process, on one fresh database, at production defaults, through their fetch (no sockets). Each round measures
 * both on each target, in alternating order, as CPU per request of this process (pg's client work included, the
 * server's not); a drift of the machine moves both alike, so the summary is the median of the per-round
 * differences and how many pairs the second tree won. On a noisy machine this tells a change of a few µs where the
 * socket ladder (ladder.sh) cannot; the ladder's ratios are what the goals are judged by.
 *
 *   git worktree add /tmp/before HEAD~1 && ln -s "$PWD/node_modules" /tmp/before/
 *   A=/tmp/before B=. bun scripts/bench/pairs.ts >/dev/null   (the apps' request lines go to stdout, the table to stderr)
 *
 * Env: A, B (tree roots; B defaults to this tree), T (targets, comma-separated; default every one below),
 * C (requests in flight, 32), N (requests per measurement, 3000), ROUNDS (21), PGURL_ADMIN, LOG_LEVEL (info).
 */
import { resolve } from "node:path";
import pg from "pg";

type App = { fetch(req: Request, env?: unknown): Response | Promise<Response> };

const here = resolve(import.meta.dir, "../..");
const roots = [resolve(process.env.A ?? here), resolve(process.env.B ?? here)];
const adminUrl = process.env.PGURL_ADMIN ?? "postgres://postgres@127.0.0.1:5432/postgres";
const dbName = `pairs_${process.pid}`;
const url = `${adminUrl.slice(0, adminUrl.lastIndexOf("/"))}/${dbName}`;
const base = "http://127.0.0.1:3998";
// The server Bun.serve passes as the env: the client address is asked of it.
const env = { requestIP: () => ({ address: "127.0.0.1", family: "IPv4", port: 5555 }) };

async function admin<T>(work: (client: pg.Client) => Promise<T>, connectionString = adminUrl): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function appOf(root: string, migrate: boolean): Promise<{ app: App; close: () => Promise<void> }> {
  const { createApp } = await import(`${root}/src/app.ts`);
  const { buildDeps, openDatabase } = await import(`${root}/src/deps.ts`);
  const { loadConfig } = await import(`${root}/src/env.ts`);
  const { createLogger } = await import(`${root}/src/lib/logger.ts`);
  const config = loadConfig({
    NODE_ENV: "production",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
    DATABASE_URL: url,
    HOST: "127.0.0.1",
    BETTER_AUTH_SECRET: "pairs-secret-pairs-secret-pairs-secret",
    BETTER_AUTH_URL: base,
    ALLOWED_ORIGINS: base,
    RATE_LIMIT_STRICT_PER_MIN: "100000000",
    RATE_LIMIT_MODERATE_PER_MIN: "100000000",
    RATE_LIMIT_POLL_PER_MIN: "100000000",
  });
  const database = await openDatabase(config);
  if (migrate) await database.migrate();
  return {
    app: createApp(buildDeps(config, database, createLogger({ level: config.LOG_LEVEL }))),
    close: database.close,
  };
}

await admin((c) => c.query(`create database ${dbName}`));
try {
  const apps: { app: App; close: () => Promise<void> }[] = [];
  for (const [i, root] of roots.entries()) apps.push(await appOf(root, i === 0));
  const first = apps[0]?.app as App;
  const signUp = await first.fetch(
    new Request(`${base}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { origin: base, "content-type": "application/json" },
      body: JSON.stringify({ email: "pairs@example.com", password: "pairs-password-1", name: "Pairs" }),
    }),
    env,
  );
  const token = signUp.headers.get("set-auth-token");
  if (!token) throw new Error(`pairs: sign-up answered ${signUp.status}`);
  const cookie = signUp.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  // A final prediction of the user's, as ladder.sh writes it.
  const finalId = await admin(async (c) => {
    const { rows } = await c.query<{ id: string }>(
      `insert into prediction (user_id, model, status, input, prompt, output, credits_charged, started_at, completed_at)
       select id, 'nano-banana', 'succeeded',
         '{"brandName":"Pairs","description":null,"style":null,"colors":[],"aspectRatio":"1:1","numOutputs":1,"prompt":null}',
         'A logo for Pairs.', '["${base}/sandbox/images/pairs/0.png"]', 1, now(), now()
       from "user" limit 1 returning id`,
    );
    return rows[0]?.id as string;
  }, url);

  const bearer = { authorization: `Bearer ${token}` };
  const keyAnswer = await first.fetch(
    new Request(`${base}/api/auth/api-key/create`, {
      method: "POST",
      headers: { origin: base, "content-type": "application/json", ...bearer },
      body: JSON.stringify({ name: "pairs" }),
    }),
    env,
  );
  const { key } = (await keyAnswer.json()) as { key: string };
  // A tool call over /mcp, as an assistant makes it (stateless: one JSON-RPC request, its answer as an SSE event).
  const mcpCall = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "get_credit_balance", arguments: {} },
  });
  const mcpHeaders = {
    "x-api-key": key,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const targets: Record<string, [string, Record<string, string>, string?]> = {
    models: ["/api/models", {}],
    "openapi-3.1": ["/openapi.json", {}],
    "openapi-3.0": ["/openapi-3.0.json", {}],
    kinds: ["/api/assets/kinds", {}],
    packages: ["/api/credits/packages", {}],
    credits: ["/api/credits", bearer],
    "credits-key": ["/api/credits", { "x-api-key": key }],
    "mcp-call": ["/mcp", mcpHeaders, mcpCall],
    "credits-cookie": ["/api/credits", { cookie }],
    ledger: ["/api/credits/transactions?limit=20", bearer],
    final: [`/api/predictions/${finalId}`, bearer],
    deliveries: [`/api/predictions/${finalId}/webhook-deliveries`, bearer],
    assets: ["/api/assets", bearer],
  };
  const names = (process.env.T ?? Object.keys(targets).join(",")).split(",");
  const C = Number(process.env.C ?? 32);
  const N = Number(process.env.N ?? 3000);
  const ROUNDS = Number(process.env.ROUNDS ?? 21);

  async function measure(app: App, name: string, n: number): Promise<number> {
    const target = targets[name];
    if (!target) throw new Error(`pairs: no target ${name} (${Object.keys(targets).join(", ")})`);
    const [path, headers, body] = target;
    let left = n;
    const started = process.cpuUsage();
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (left-- > 0) {
          const res = await app.fetch(new Request(base + path, { method: body ? "POST" : "GET", headers, body }), env);
          await res.text();
          if (res.status !== 200) throw new Error(`pairs: ${name} answered ${res.status}`);
        }
      }),
    );
    const used = process.cpuUsage(started);
    return (used.user + used.system) / n;
  }

  // Warm-up: every target on both apps, not counted.
  for (const name of names) for (const { app } of apps) await measure(app, name, 2000);
  const pairs: Record<string, [number, number][]> = {};
  for (let round = 0; round < ROUNDS; round++)
    for (const name of names) {
      const pair: [number, number] = [0, 0];
      for (const i of round % 2 ? [1, 0] : [0, 1]) pair[i] = await measure(apps[i]?.app as App, name, N);
      const rows = pairs[name] ?? [];
      rows.push(pair);
      pairs[name] = rows;
    }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1] ?? NaN;
  console.error(`A ${roots[0]}\nB ${roots[1]}\nC=${C}, N=${N}, ${ROUNDS} rounds; µs of CPU per request (medians)`);
  console.error(["target", "A", "B", "B - A (median of pairs)", "B lower in"].join("\t"));
  for (const name of names) {
    const rows = pairs[name] ?? [];
    const a = median(rows.map(([x]) => x));
    const b = median(rows.map(([, y]) => y));
    const diff = median(rows.map(([x, y]) => y - x));
    const lower = rows.filter(([x, y]) => y < x).length;
    console.error([name, a.toFixed(1), b.toFixed(1), diff.toFixed(2), `${lower}/${rows.length}`].join("\t"));
  }
  for (const { close } of apps) await close();
} finally {
  await admin((c) => c.query(`drop database if exists ${dbName} with (force)`));
}
process.exit(0);
