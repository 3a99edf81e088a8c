import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * The compiled build in dist/, built at most once per test process: when dist/index.js is older than any
 * source, the build configuration or the build script, `npm run build` runs here (about 15 s); CI builds
 * before the suite, so then this only compares times.
 */
const ROOT = join(import.meta.dir, "..", "..");
export const DIST_ENTRY = join(ROOT, "dist", "index.js");

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

let built: Promise<string> | undefined;

export function compiledBuild(): Promise<string> {
  built ??= (async () => {
    const inputs = ["src", "tsconfig.json", "tsconfig.build.json", "scripts/build-specifiers.ts"];
    const sourcesAt = Math.max(...inputs.map((p) => newestMtime(join(ROOT, p))));
    if (existsSync(DIST_ENTRY) && statSync(DIST_ENTRY).mtimeMs >= sourcesAt) return DIST_ENTRY;
    const run = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
    if (run.status !== 0) throw new Error(`npm run build failed:\n${run.stdout}\n${run.stderr}`);
    return DIST_ENTRY;
  })();
  return built;
}
