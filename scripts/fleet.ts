/**
 * A local fleet from deploy/ as it is: PostgreSQL (a fresh database on FLEET_DATABASE_URL, DATABASE_URL or
 * TEST_DATABASE_URL, migrated once with `npm run db:migrate`), s3rver, N instances of the compiled build with
 * deploy/production.env.example's settings, and nginx as a plain process (-p/-c in a temporary directory) with
 * deploy/nginx/*.conf, its upstream list and listen port rewritten for this fleet.
 *
 *   npm run fleet                       # 3 instances; prints the URL; Ctrl-C stops everything
 *   npm run fleet -- --check            # starts, sends requests through nginx, stops; exit 1 on a failure
 *   npm run fleet -- --instances 2 --runtime bun
 *
 * FLEET_NODE names the node binary for the instances (.ci/run: Node 24). `startFleet` is what a test imports.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import pg from "pg";

const ROOT = join(import.meta.dir, "..");
const DEPLOY = join(ROOT, "deploy");

export interface FleetOptions {
  instances?: number;
  /** node: `node dist/index.js` (FLEET_NODE or node on PATH); bun: `bun src/index.ts` */
  runtime?: "node" | "bun";
  /** A PostgreSQL URL whose server gets a fresh database for the fleet. */
  databaseUrl?: string;
  /** Replaces or adds to what deploy/production.env.example sets (after the fleet's own settings). */
  env?: Record<string, string>;
  /** Where each instance's output goes (default: kept in memory, see Instance.output). */
  log?: (instance: string, chunk: string) => void;
}

export interface Instance {
  name: string;
  port: number;
  url: string;
  pid(): number | undefined;
  running(): boolean;
  output(): string;
  /** Sends a signal; resolves when the process has exited (with its code and signal). */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts it again on the same port and waits until it is healthy. */
  start(): Promise<void>;
}

export interface Fleet {
  /** nginx's address: what clients use. */
  url: string;
  instances: Instance[];
  databaseUrl: string;
  s3Endpoint: string;
  /** The environment every instance runs with (PORT excepted). */
  env: Record<string, string>;
  nginxDir: string;
  stop(): Promise<void>;
}

/** KEY=VALUE lines of an env file (comments and blank lines skipped; values taken as written). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2].trim();
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`fleet: ${what} not ready after ${ms} ms`);
    await Bun.sleep(50);
  }
}

const healthy = (url: string) => fetch(`${url}/health`).then((r) => r.status === 200);

async function adminQuery(url: string, statement: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function startFleet(opts: FleetOptions = {}): Promise<Fleet> {
  const count = opts.instances ?? 3;
  const runtime = opts.runtime ?? "node";
  const base =
    opts.databaseUrl ?? process.env.FLEET_DATABASE_URL ?? process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!base) throw new Error("fleet: set FLEET_DATABASE_URL (or DATABASE_URL) to a PostgreSQL server");
  const nginxBin = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].find(existsSync) ?? "nginx";
  if (runtime === "node" && !existsSync(join(ROOT, "dist", "index.js"))) {
    const built = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
    if (built.status !== 0) throw new Error("fleet: npm run build failed");
  }

  const dir = mkdtempSync(join(tmpdir(), "logo-fleet-"));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    // PostgreSQL: a fresh database, migrated once as a deploy does.
    const dbName = `logo_fleet_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
    await adminQuery(base, `create database "${dbName}"`);
    cleanups.push(() => adminQuery(base, `drop database if exists "${dbName}" with (force)`));
    const dbUrl = new URL(base);
    dbUrl.pathname = `/${dbName}`;
    const databaseUrl = dbUrl.toString();
    const migrated = spawnSync("npm", ["run", "--silent", "db:migrate"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", DATABASE_URL: databaseUrl },
      encoding: "utf8",
    });
    if (migrated.status !== 0)
      throw new Error(`fleet: npm run db:migrate failed\n${migrated.stdout}${migrated.stderr}`);

    // s3rver and its bucket.
    const s3Dir = join(dir, "s3");
    mkdirSync(s3Dir);
    const s3Port = await freePort();
    const s3 = spawn(
      "node",
      [
        "-e",
        `const S3rver = require("s3rver"); new S3rver({ port: ${s3Port}, address: "127.0.0.1", silent: true, directory: process.argv[1] }).run();`,
        s3Dir,
      ],
      { cwd: ROOT, stdio: "ignore" },
    );
    cleanups.push(() => stopChild(s3, "SIGTERM"));
    const s3Endpoint = `http://127.0.0.1:${s3Port}`;
    const s3Client = new S3Client({
      region: "us-east-1",
      endpoint: s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    await waitFor("s3rver", async () => {
      await s3Client.send(new CreateBucketCommand({ Bucket: "logo-outputs" }));
      return true;
    });
    s3Client.destroy();

    // nginx: deploy/nginx/ copied as it is, with this fleet's upstream list and listen port.
    const nginxDir = join(dir, "nginx");
    mkdirSync(join(nginxDir, "tmp"), { recursive: true });
    // nginx started as root runs its workers as nobody: they must reach the temporary directories.
    chmodSync(dir, 0o755);
    chmodSync(nginxDir, 0o755);
    chmodSync(join(nginxDir, "tmp"), 0o777);
    const nginxPort = await freePort();
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    copyFileSync(join(DEPLOY, "nginx", "nginx.conf"), join(nginxDir, "nginx.conf"));
    const site = readFileSync(join(DEPLOY, "nginx", "logo-api.conf"), "utf8");
    if (!/^\s*listen 8080;$/m.test(site))
      throw new Error("fleet: deploy/nginx/logo-api.conf has no `listen 8080;` line");
    writeFileSync(
      join(nginxDir, "logo-api.conf"),
      site.replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${nginxPort};`),
    );
    const upstreamLine = readFileSync(join(DEPLOY, "nginx", "logo-api-upstreams.conf"), "utf8")
      .split("\n")
      .find((l) => l.startsWith("server "));
    const params = upstreamLine?.replace(/^server \S+\s*/, "").replace(/;$/, "") ?? "";
    writeFileSync(
      join(nginxDir, "logo-api-upstreams.conf"),
      ports.map((p) => `server 127.0.0.1:${p} ${params};\n`).join(""),
    );
    const url = `http://127.0.0.1:${nginxPort}`;

    // The instances: production settings from the example, with this fleet's database, bucket and secrets.
    const example = parseEnvFile(readFileSync(join(DEPLOY, "production.env.example"), "utf8"));
    const env: Record<string, string> = {
      ...Object.fromEntries(Object.entries(example).filter(([, v]) => !v.includes("<"))),
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: databaseUrl,
      DATABASE_SSL: "false",
      BETTER_AUTH_URL: url,
      PUBLIC_URL: url,
      ALLOWED_ORIGINS: url,
      S3_ENDPOINT: s3Endpoint,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      BETTER_AUTH_SECRET: randomBytes(36).toString("base64"),
      METRICS_TOKEN: randomBytes(16).toString("hex"),
      LOG_LEVEL: "warn",
      ...opts.env,
    };
    delete env.S3_PUBLIC_URL;
    const nodeBin = process.env.FLEET_NODE ?? "node";
    const command =
      runtime === "node"
        ? { cmd: nodeBin, args: ["--enable-source-maps", join(ROOT, "dist", "index.js")] }
        : { cmd: join(ROOT, "node_modules", ".bin", "bun"), args: [join(ROOT, "src", "index.ts")] };

    const instances = ports.map((port, i) => makeInstance(`instance-${i + 1}`, port, command, env, opts.log));
    cleanups.push(async () => {
      await Promise.all(instances.map((inst) => (inst.running() ? inst.kill("SIGTERM") : undefined)));
    });
    await Promise.all(instances.map((inst) => inst.start()));

    const nginx = spawn(
      nginxBin,
      [
        "-p",
        `${nginxDir}/`,
        "-c",
        join(nginxDir, "nginx.conf"),
        "-e",
        join(nginxDir, "error.log"),
        "-g",
        "daemon off;",
      ],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let nginxErr = "";
    nginx.stderr?.on("data", (d) => {
      nginxErr += d;
    });
    cleanups.push(() => stopChild(nginx, "SIGQUIT"));
    await waitFor("nginx", () => healthy(url), 15_000).catch((err: unknown) => {
      throw new Error(
        `${String(err)}\n${nginxErr}${existsSync(join(nginxDir, "error.log")) ? readFileSync(join(nginxDir, "error.log"), "utf8") : ""}`,
      );
    });
    return { url, instances, databaseUrl, s3Endpoint, env, nginxDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
  return gone.finally(() => clearTimeout(force));
}

function makeInstance(
  name: string,
  port: number,
  command: { cmd: string; args: string[] },
  env: Record<string, string>,
  log?: (instance: string, chunk: string) => void,
): Instance {
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  let output = "";
  const running = () => !!child && child.exitCode === null && child.signalCode === null;
  return {
    name,
    port,
    url,
    pid: () => child?.pid,
    running,
    output: () => output,
    async kill(signal) {
      if (!child || !exit) throw new Error(`${name} was never started`);
      if (running()) child.kill(signal);
      return exit;
    },
    async start() {
      if (running()) throw new Error(`${name} is running`);
      const proc = spawn(command.cmd, command.args, {
        cwd: ROOT,
        env: { ...env, PORT: String(port) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = proc;
      const keep = (d: Buffer) => {
        const s = d.toString();
        if (log) log(name, s);
        else output = (output + s).slice(-200_000);
      };
      proc.stdout?.on("data", keep);
      proc.stderr?.on("data", keep);
      exit = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
      await waitFor(`${name} (port ${port})`, async () => {
        if (!running()) throw new Error(`${name} exited while starting:\n${output}`);
        return healthy(url);
      });
    },
  };
}

/** --check: requests through nginx reach every instance, and the client address is the one nginx saw. */
async function check(fleet: Fleet): Promise<string[]> {
  const problems: string[] = [];
  const health = await fetch(`${fleet.url}/health`);
  if (health.status !== 200) problems.push(`GET /health through nginx: ${health.status}`);
  const guest = await fetch(`${fleet.url}/api/auth/sign-in/anonymous`, {
    method: "POST",
    headers: { Origin: fleet.url },
  });
  const token = guest.headers.get("set-auth-token");
  if (guest.status !== 200 || !token) problems.push(`anonymous sign-in through nginx: ${guest.status}`);
  const credits = await fetch(`${fleet.url}/api/credits`, { headers: { Authorization: `Bearer ${token}` } });
  if (credits.status !== 200) problems.push(`GET /api/credits through nginx: ${credits.status}`);
  // A client cannot pick its address: the session records the address nginx saw (127.0.0.1), not the header's.
  const sessions = await fetch(`${fleet.url}/api/auth/get-session`, {
    headers: { Authorization: `Bearer ${token}`, "X-Forwarded-For": "198.51.100.7" },
  });
  const ip = ((await sessions.json()) as { session?: { ipAddress?: string } } | null)?.session?.ipAddress;
  if (ip !== "127.0.0.1") problems.push(`session address through nginx: ${ip} (expected 127.0.0.1)`);
  // A Prefer: wait read takes the long-timeout route and still answers.
  const wait = await fetch(`${fleet.url}/api/predictions/${crypto.randomUUID()}`, {
    headers: { Authorization: `Bearer ${token}`, Prefer: "wait=1" },
  });
  if (wait.status !== 404) problems.push(`Prefer: wait read through nginx: ${wait.status} (expected 404)`);
  // Every instance is in the upstream: with one stopped, nginx still answers from the others.
  const [first] = fleet.instances;
  if (first) {
    await first.kill("SIGTERM");
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${fleet.url}/health`);
      if (r.status !== 200) problems.push(`GET /health with ${first.name} stopped: ${r.status}`);
    }
    await first.start();
  }
  return problems;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const fleet = await startFleet({
    instances: Number(arg("--instances") ?? 3),
    runtime: arg("--runtime") === "bun" ? "bun" : "node",
  });
  console.log(
    `fleet: nginx ${fleet.url} → ${fleet.instances.map((i) => i.url).join(", ")}; database ${new URL(fleet.databaseUrl).pathname.slice(1)}; s3 ${fleet.s3Endpoint}`,
  );
  if (args.includes("--check")) {
    const problems = await check(fleet).catch((err: unknown) => [String(err)]);
    await fleet.stop();
    if (problems.length) {
      console.error(`fleet check FAILED:\n  ${problems.join("\n  ")}`);
      process.exit(1);
    }
    console.log(
      "fleet check passed: requests through nginx answered by the instances, client address as nginx saw it, one instance down tolerated",
    );
    process.exit(0);
  }
  const shutdown = () => {
    fleet.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
