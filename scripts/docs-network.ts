/**
 * Loads the API reference in headless Chromium and lists every request the page made, from Chromium's own
 * network log; exits 1 if the page contacted any host but its own. Needs a `chromium` binary (Debian:
 * `apt-get install chromium`) and a running server:
 *
 *   npx bun scripts/docs-network.ts http://127.0.0.1:3000/docs [screenshot.png]
 *
 * Requests Chromium makes for itself (update checks, accounts, autofill; they carry no page initiator)
 * are listed apart: they are the browser's, not the page's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const target = process.argv[2] ?? "http://127.0.0.1:3000/docs";
const screenshot = process.argv[3];
const dir = mkdtempSync(join(tmpdir(), "docs-network-"));
const netLog = join(dir, "net.json");
const chromium = process.env.CHROMIUM ?? "chromium";

const run = spawnSync(
  chromium,
  [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${join(dir, "profile")}`,
    `--log-net-log=${netLog}`,
    "--window-size=1400,1000",
    // lets the page's scripts run (and fetch fonts, documents, …) before the capture
    "--virtual-time-budget=15000",
    ...(screenshot ? [`--screenshot=${screenshot}`] : ["--dump-dom"]),
    target,
  ],
  { encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
);
if (run.error) {
  console.error(`could not run ${chromium}: ${run.error.message}`);
  process.exit(2);
}

const text = readFileSync(netLog, "utf8");
let log: { events: { params?: { url?: string; initiator?: string; method?: string } }[] };
try {
  log = JSON.parse(text);
} catch {
  // Chromium may leave the log without its closing brackets when it exits at once
  log = JSON.parse(`${text.trimEnd().replace(/,$/, "")}]}`);
}
rmSync(dir, { recursive: true, force: true });

const origin = new URL(target).origin;
const page = new Set<string>();
const browser = new Set<string>();
for (const e of log.events) {
  const p = e.params;
  if (!p?.url || !p.method || !/^(https?|wss?):/.test(p.url)) continue;
  // the navigation itself has no initiator; everything the page asks for has the page's origin
  if (p.url === target || p.initiator === origin) page.add(p.url);
  else browser.add(p.url);
}
const foreign = [...page].filter((u) => new URL(u).origin !== origin);
console.log(`requests made by ${target}:`);
for (const u of page) console.log(`  ${new URL(u).origin === origin ? "same origin" : "OTHER HOST "}  ${u}`);
console.log(
  `hosts Chromium contacted for itself: ${[...new Set([...browser].map((u) => new URL(u).host))].join(", ") || "none"}`,
);
if (foreign.length) {
  console.error(`the page contacted ${foreign.length} URL(s) on other hosts`);
  process.exit(1);
}
console.log("the page contacted no other host");
