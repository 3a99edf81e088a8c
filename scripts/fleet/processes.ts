import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

/**
 * Child processes of the fleet test (nginx, the instances), each logging to its own file, tracked so that
 * a failure, a signal or the end of the test stops every one of them (by its own pid, nothing broader).
 */
export interface Managed {
  name: string;
  pid: number;
  proc: ChildProcess;
  log: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log. */
  tail(lines?: number): string;
}

const running = new Set<Managed>();

export function startManaged(
  name: string,
  cmd: string,
  args: string[],
  opts: { env: Record<string, string>; cwd?: string; log: string },
): Managed {
  const fd = openSync(opts.log, "a");
  const proc = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  if (proc.pid === undefined) throw new Error(`fleet: could not start ${name} (${cmd})`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const m: Managed = {
    name,
    pid: proc.pid,
    proc,
    log: opts.log,
    exited,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    signal(sig) {
      if (m.alive()) proc.kill(sig);
    },
    async stop(graceMs = 8000) {
      if (m.alive()) {
        proc.kill("SIGTERM");
        const killer = setTimeout(() => m.signal("SIGKILL"), graceMs);
        await exited;
        clearTimeout(killer);
      }
      running.delete(m);
    },
    tail(lines = 30) {
      try {
        return readFileSync(opts.log, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
  };
  running.add(m);
  exited.then(() => running.delete(m));
  return m;
}

export async function stopAllManaged(): Promise<void> {
  await Promise.all([...running].map((m) => m.stop(3000)));
}

/** Last resort on exit: SIGKILL what is left, synchronously. */
export function killAllManagedNow(): void {
  for (const m of running) m.signal("SIGKILL");
}

/** Polls `url` until it answers 200; fails as soon as the process exits or after `timeoutMs`. */
export async function waitHealthy(m: Managed, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!m.alive()) throw new Error(`fleet: ${m.name} exited during start\n${m.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {}
    await Bun.sleep(100);
  }
  throw new Error(`fleet: ${m.name} not healthy at ${url} after ${timeoutMs} ms\n${m.tail()}`);
}
