/**
 * Writes openapi/openapi.json (3.1) and openapi/openapi-3.0.json from the app, with no database
 * and no network, then regenerates openapi/schema.d.ts and the MCP tool list of docs/mcp.md. `--check` fails
 * when a committed file is stale.
 */

import { execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { drizzle } from "drizzle-orm/node-postgres";
import { createApp } from "../src/app";
import type { Database } from "../src/db";
import { buildDeps } from "../src/deps";
import { loadConfig } from "../src/env";
import { createLogger } from "../src/lib/logger";
import { SERVERS } from "../src/openapi/document";
import { MCP_DOC_PATH, withToolList } from "./mcp-tools-doc";

const check = process.argv.includes("--check");
// The live document names the server it is served from first (PUBLIC_URL); the committed one names production, so it
// is the same on every machine that exports it.
const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", PUBLIC_URL: SERVERS[0]?.url });
const logger = createLogger({ level: "silent" });
const db = drizzle.mock() as unknown as Database;
const database = {
  db,
  kind: "postgres" as const,
  migrate: async () => {},
  ping: async () => 0,
  close: async () => {},
  listen: () => Promise.reject(new Error("no database: the document only")),
};
const app = createApp(buildDeps(config, database, logger));

const fetchJson = async (path: string) => {
  const res = await app.request(path);
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  return `${JSON.stringify(await res.json(), null, 2)}\n`;
};

const files: Record<string, string> = {
  "openapi/openapi.json": await fetchJson("/openapi.json"),
  "openapi/openapi-3.0.json": await fetchJson("/openapi-3.0.json"),
};
files[MCP_DOC_PATH] = withToolList(
  await readFile(MCP_DOC_PATH, "utf8"),
  JSON.parse(files["openapi/openapi.json"] as string),
);
const typesPath = "openapi/schema.d.ts";
const generateTypes = (input: string) =>
  execFileSync("npx", ["openapi-typescript", input, "--default-non-nullable=false", "--output", "-"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).replace(/\r\n/g, "\n");

if (check) {
  const stale: string[] = [];
  for (const [path, content] of Object.entries(files)) {
    const committed = await readFile(path, "utf8").catch(() => "");
    if (committed !== content) stale.push(path);
  }
  const committedTypes = await readFile(typesPath, "utf8").catch(() => "");
  if (generateTypes("openapi/openapi.json") !== committedTypes) stale.push(typesPath);
  if (stale.length) {
    console.error(`Stale contract files (run npm run openapi:export): ${stale.join(", ")}`);
    process.exit(1);
  }
  console.log("openapi: committed documents and types match the code");
} else {
  await mkdir("openapi", { recursive: true });
  for (const [path, content] of Object.entries(files)) await writeFile(path, content);
  await writeFile(typesPath, generateTypes("openapi/openapi.json"));
  console.log(`wrote ${[...Object.keys(files), typesPath].join(", ")}`);
}
