import { spawn } from "node:child_process";

/**
 * Running a page of docs/ as it is written: its fenced code blocks, taken from the sections named, and bash to run
 * them. Used by the tests of docs/walkthrough.md and docs/test-mode.md.
 */

/**
 * The ```lang blocks (fences at the start of a line) of the `## ` sections whose titles start with one of `titles`,
 * in page order, each without its fences.
 */
export function codeBlocks(markdown: string, titles: string[], lang: string): string[] {
  const sections = markdown.split(/^## /m).filter((sec) => titles.some((title) => sec.startsWith(title)));
  return sections.flatMap((sec) =>
    [...sec.matchAll(new RegExp(`^\`\`\`${lang}\n([\\s\\S]*?)^\`\`\`$`, "gm"))].map((m) => m[1] as string),
  );
}

/**
 * Runs `script` with `bash -euo pipefail` in `cwd` (its own process group, so anything it starts in the background
 * goes with it) and only PATH, HOME and `vars` in its environment; waits for it, then until `settled(output)` holds
 * or 10 s pass; returns its output (stdout and stderr, interleaved). A non-zero exit throws, with the output.
 */
export async function runBash(
  script: string,
  cwd: string,
  vars: Record<string, string>,
  settled: (output: string) => boolean = () => true,
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
    if (code !== 0) throw new Error(`the page's script exited with ${code}:\n${out}`);
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
