import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../server/helpers";

/**
 * `npm ci` on the documented Node prints no warning: the Node that package.json's `engines` admits satisfies every
 * locked dependency's own `engines` (no EBADENGINE), and every dependency with an install script has been decided in
 * `allowScripts` (no "install scripts not yet covered" notice). Read from the committed lockfile, as npm ci reads it.
 */

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  engines: { node: string };
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<
    string,
    { engines?: { node?: string } | string[]; hasInstallScript?: boolean; os?: string[]; cpu?: string[] }
  >;
};
/** npm installs (and checks) a package built for another system only there: those are left out. */
const forThisSystem = (p: { os?: string[]; cpu?: string[] }) =>
  (!p.os || p.os.includes(process.platform)) && (!p.cpu || p.cpu.includes(process.arch));
const nameOf = (path: string) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);

describe("package.json against the lockfile", () => {
  test("engines names Node 24 LTS and its lowest version meets every dependency's engines", () => {
    expect(pkg.engines.node).toBe(">=24");
    // The lowest and the current LTS line's versions npm may run on.
    for (const node of ["24.0.0", "24.22.3"]) {
      const unmet = Object.entries(lock.packages)
        .filter(([path, p]) => path !== "" && forThisSystem(p) && !Array.isArray(p.engines) && p.engines?.node)
        .filter(([, p]) => !Bun.semver.satisfies(node, (p.engines as { node: string }).node))
        .map(([path, p]) => `${nameOf(path)} wants ${(p.engines as { node: string }).node}`);
      expect([node, unmet]).toEqual([node, []]);
    }
  });

  test("every dependency with an install script is approved or denied in allowScripts", () => {
    const decided = new Set(Object.keys(pkg.allowScripts ?? {}).map((k) => k.replace(/(.)@[^@]*$/, "$1")));
    const undecided = Object.entries(lock.packages)
      .filter(([path, p]) => path !== "" && p.hasInstallScript)
      .map(([path]) => nameOf(path))
      .filter((name) => !decided.has(name));
    expect([...new Set(undecided)]).toEqual([]);
  });
});
