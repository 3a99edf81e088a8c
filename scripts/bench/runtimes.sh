#!/bin/bash
# Node (compiled) against Bun on the same routes: ladder.sh on Bun, then on the compiled build under Node, one
# straight after the other, and per target the median CPU per request on each and Bun's as a share of Node's. The
# goal "Node ≥ 60% of Bun" holds on a route when that share is ≥ 60%. The bare servers' rows say what the two
# runtimes differ by before the service adds anything: a route cannot be asked to lose less on Node than its own
# bare server does, unless the service's own work is cheaper on Node (docs/performance.md, "eighth pass").
#
#   bash scripts/bench/runtimes.sh          # NODE (default: node on PATH) must be the documented Node 24
#
# Env: NODE (the Node binary), OUT (a folder for both ladders' output, default a temporary one), and ladder.sh's own
# (D, C, ROUNDS, TARGETS, LOG_LEVEL, PERF_LIMIT, PGURL_ADMIN).
set -euo pipefail
P=$(cd "$(dirname "$0")/../.." && pwd)
NODE=${NODE:-$(command -v node)}
export PATH="$(dirname "$NODE"):$PATH"
case "$(node --version)" in v24.*) ;; *) echo "runtimes: $NODE is $(node --version), not Node 24 (set NODE)" >&2; exit 1 ;; esac
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
echo "runtimes: the ladder on Bun, then on Node $(node --version) (output in $OUT)" >&2
bash "$P/scripts/bench/ladder.sh" | tee "$OUT/bun.txt" >&2
(cd "$P" && npm run -s build) >&2
RUNTIME=node bash "$P/scripts/bench/ladder.sh" | tee "$OUT/node.txt" >&2
echo
node -e '
  const fs = require("fs");
  // The summary ladder.sh prints last: target, median µs of CPU per request, ratio, goal (tab-separated).
  const summary = (file) => {
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const at = lines.findIndex((l) => l.startsWith("target\t"));
    return new Map(lines.slice(at + 1).filter(Boolean).map((l) => { const [name, us] = l.split("\t"); return [name, Number(us)]; }));
  };
  const bun = summary(process.argv[1]), node = summary(process.argv[2]);
  console.log("target\tBun µs CPU/req\tNode µs CPU/req\tBun ÷ Node (goal: ≥ 60%)");
  for (const [name, b] of bun) {
    const n = node.get(name);
    if (n === undefined) continue;
    const share = Math.round((b / n) * 100);
    const verdict = name.startsWith("bare") ? "the runtimes alone" : name.startsWith("floor") ? "not judged" : share >= 60 ? "met" : "not met";
    console.log(`${name}\t${b.toFixed(1)}\t${n.toFixed(1)}\t${share}% (${verdict})`);
  }' "$OUT/bun.txt" "$OUT/node.txt"
