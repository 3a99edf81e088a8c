import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/**
 * Child processes of the bench: every server and every load run is its own process, tracked here so
 * that a failure, a signal or the watchdog stops all of them.
 */

export type Runtime = "bun" | "node";

const ROOT = join(import.meta.dirname, "..", "..");
export const repoPath = (...parts: string[]) => join(ROOT, ...parts);

/**
 * The executable and leading arguments that run a file on a runtime: a TypeScript file on Node goes through
 * tsx, a compiled one (`.js`, e.g. dist/index.js) runs on Node as it is.
 */
export function runtimeCommand(runtime: Runtime, file = ""): { cmd: string; args: string[] } {
  if (runtime === "bun") {
    const local = repoPath("node_modules", ".bin", "bun");
    const cmd = process.versions.bun ? process.execPath : existsSync(local) ? local : "bun";
    return { cmd, args: [] };
  }
  const cmd = process.versions.bun ? "node" : process.execPath;
  return { cmd, args: file.endsWith(".js") ? [] : ["--import", "tsx"] };
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The last lines the process wrote (stdout and stderr), for error messages. */
  tail(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const running = new Set<Child>();

export function startProcess(
  name: string,
  runtime: Runtime,
  file: string,
  opts: {
    env?: Record<string, string | undefined>;
    args?: string[];
    /** Flags for the runtime itself, before the file (e.g. Bun's --cpu-prof-md). */
    runtimeArgs?: string[];
    captureStdout?: boolean;
  } = {},
): Child & { stdout: () => string } {
  const { cmd, args } = runtimeCommand(runtime, file);
  const proc = spawn(cmd, [...(opts.runtimeArgs ?? []), ...args, file, ...(opts.args ?? [])], {
    cwd: ROOT,
    env: opts.env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (proc.pid === undefined) throw new Error(`bench: could not start ${name} (${cmd})`);
  // The last 8 KB written, split into lines only when asked for: a service logging at info writes tens of
  // thousands of lines a second into this pipe, and splitting every chunk here cost the bench process (which
  // shares the machine's two cores with the servers) more CPU than reading them.
  let last = "";
  let out = "";
  const keep = (chunk: Buffer) => {
    last = (last + chunk.toString()).slice(-8192);
  };
  proc.stdout?.on("data", (chunk: Buffer) => {
    if (opts.captureStdout) out += chunk.toString();
    else keep(chunk);
  });
  proc.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const child: Child & { stdout: () => string } = {
    name,
    proc,
    pid: proc.pid,
    tail: () => last.split("\n").filter(Boolean).slice(-40).join("\n"),
    stdout: () => out,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(killer);
      }
      running.delete(child);
    },
  };
  running.add(child);
  exited.then(() => running.delete(child));
  return child;
}

/** Stops every child still running (SIGTERM, then SIGKILL after 5 s). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
}

/** Synchronous last resort on process exit: SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const c of running) {
    try {
      c.proc.kill("SIGKILL");
    } catch {}
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200; fails as soon as the process exits or after `timeoutMs`. */
export async function waitReady(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  child.exited.then(() => {
    gone = true;
  });
  while (Date.now() < deadline) {
    if (gone) throw new Error(`bench: ${child.name} exited during start\n${child.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`bench: ${child.name} not ready at ${url} after ${timeoutMs} ms\n${child.tail()}`);
}

/** Resident set size of a process in MB, from /proc (Linux); null elsewhere. */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** User plus system CPU time a process has used, in seconds, from /proc (Linux); null elsewhere. */
export function cpuSeconds(pid: number): number | null {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc's times (sysconf(_SC_CLK_TCK)): 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;
