import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_VARIABLES, loadConfig } from "../../src/env";
import { ROOT } from "../server/helpers";

/**
 * docs/configuration.md against src/env.ts: every variable is documented, and a default the page writes as a
 * literal is the value the configuration takes when the variable is unset, so the page cannot drift.
 */

const page = readFileSync(join(ROOT, "docs", "configuration.md"), "utf8");

/** The table's rows: the variables of the first cell, the backticked literals of the second. */
function rows(markdown: string): { names: string[]; defaults: string[]; cell: string }[] {
  return markdown
    .split("\n")
    .filter((line) => /^\| `[A-Z]/.test(line))
    .map((line) => {
      const [, names = "", cell = ""] = line.split("|").map((c) => c.trim());
      return {
        names: [...names.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string),
        defaults: [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string),
        cell,
      };
    });
}

/** How a parsed value is written in the page. */
const written = (value: unknown): string =>
  Array.isArray(value) ? value.join(",") : typeof value === "object" ? JSON.stringify(value) : String(value);

describe("docs/configuration.md", () => {
  const table = rows(page);
  const documented = table.flatMap((r) => r.names);

  test("documents every variable src/env.ts reads, and none it does not", () => {
    expect([...new Set(documented)].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  test("every literal default is what src/env.ts applies when the variable is unset (development)", () => {
    const config = loadConfig({}) as unknown as Record<string, unknown>;
    const compared: string[] = [];
    for (const row of table) {
      // A row states one literal per variable ("`PORT`, `HOST` | `3000`, `0.0.0.0`"); a row whose default
      // is prose ("cores − 1", "a dev-only secret …", "`false` in production, `true` otherwise") is skipped.
      if (row.defaults.length !== row.names.length) continue;
      if (/production|unset|empty/.test(row.cell)) continue;
      row.names.forEach((name, i) => {
        const literal = row.defaults[i] as string;
        // Derived from another variable ("`http://localhost:$PORT`", "`BETTER_AUTH_URL`"): not a literal.
        if (literal.includes("$") || CONFIG_VARIABLES.includes(literal)) return;
        expect([name, written(config[name])]).toEqual([name, literal]);
        compared.push(name);
      });
    }
    // The check covers most of the table, not a handful of rows.
    expect(compared.length).toBeGreaterThan(40);
  });

  test("a variable documented as unset has no default in src/env.ts", () => {
    const config = loadConfig({}) as unknown as Record<string, unknown>;
    for (const row of table)
      if (/^unset/.test(row.cell) && row.names.length === 1)
        expect([row.names[0], config[row.names[0] as string]]).toEqual([row.names[0], undefined]);
  });
});
