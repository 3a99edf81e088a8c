/**
 * The second half of `npm run build`: the sources import relative modules without an extension
 * (`./env`, `../db`), which Bun and the bundler resolution accept but Node's ESM loader does not. tsc
 * leaves specifiers as written, so this pass gives every relative specifier in dist/ the file it names:
 * `./env` → `./env.js`, `../db` → `../db/index.js`. A specifier that names no compiled file fails the
 * build, so a broken import is found here rather than at the first request.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const dist = resolve(process.argv[2] ?? "dist");

// Static imports and re-exports (`from "./x"`, `import "./x"`) and dynamic imports with a literal (`import("./x")`).
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]*|\.{1,2})\2/g;

function* jsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* jsFiles(path);
    else if (entry.name.endsWith(".js")) yield path;
  }
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** The specifier with the compiled file it names, or null when there is none. */
export function withExtension(fromFile: string, spec: string): string | null {
  const target = resolve(dirname(fromFile), spec);
  if (/\.(m?js|json)$/.test(spec) && isFile(target)) return spec;
  if (isFile(`${target}.js`)) return `${spec}.js`;
  if (isFile(join(target, "index.js"))) return `${spec.replace(/\/$/, "")}/index.js`;
  return null;
}

let rewritten = 0;
const unresolved: string[] = [];
for (const file of jsFiles(dist)) {
  const source = readFileSync(file, "utf8");
  const out = source.replace(SPECIFIER, (match, lead: string, quote: string, spec: string) => {
    const fixed = withExtension(file, spec);
    if (fixed === null) {
      unresolved.push(`${relative(dist, file)}: ${spec}`);
      return match;
    }
    if (fixed !== spec) rewritten++;
    return `${lead}${quote}${fixed}${quote}`;
  });
  if (out !== source) writeFileSync(file, out);
}
if (unresolved.length) {
  console.error(`build: relative imports that name no compiled file:\n  ${unresolved.join("\n  ")}`);
  process.exit(1);
}
console.log(`build: ${rewritten} relative imports in ${relative(process.cwd(), dist) || "."} given their .js file`);
