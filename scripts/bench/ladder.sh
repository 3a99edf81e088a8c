#!/bin/bash
# The bare servers, the contract's floor and the service, measured by perf-cpu.sh's method in the same run:
# each target gets a 2 s warm-up, then D seconds at C connections, and the serving process's CPU (every thread,
# from /proc) is divided by the requests answered. The targets are interleaved in ROUNDS rounds, so a drift of the
# machine moves the bare servers, the floor and the service alike; the summary is the median of the per-round
# ratios to the bare server each goal names (docs/performance.md, "fifth pass").
#
#   bash scripts/bench/ladder.sh                 # Bun
#   npm run build && RUNTIME=node bash scripts/bench/ladder.sh    # Node (node on PATH: the documented Node 24)
#
# Env: D (8), C (32), ROUNDS (3), TARGETS (all: ping select fmodels fcredits fledger ffinal models credits key ledger final),
# LOG_LEVEL (info), PERF_LIMIT (perf-cpu.sh's bare app: ../shared/tools/perf-limit.ts), PGURL_ADMIN.
set -u
P=$(cd "$(dirname "$0")/../.." && pwd)
D=${D:-8}
C=${C:-32}
ROUNDS=${ROUNDS:-3}
TARGETS=${TARGETS:-ping select fmodels fcredits fledger ffinal models credits key ledger final}
PERF_LIMIT=${PERF_LIMIT:-$P/../shared/tools/perf-limit.ts}
PGURL_ADMIN=${PGURL_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
AC="node $P/node_modules/autocannon/autocannon.js"
BUN=$P/node_modules/.bin/bun
[ -f "$PERF_LIMIT" ] || { echo "ladder: no bare app at $PERF_LIMIT (set PERF_LIMIT)" >&2; exit 1; }
if [ "${RUNTIME:-bun}" = node ]; then
  [ -f "$P/dist/index.js" ] || { echo "ladder: run npm run build first" >&2; exit 1; }
  LIMIT_CMD="node --import tsx .ladder-limit.ts"
  FLOOR_CMD="node --import tsx scripts/bench/floor.ts"
  SVC_CMD="node --enable-source-maps dist/index.js"
else
  LIMIT_CMD="$BUN .ladder-limit.ts"
  FLOOR_CMD="$BUN scripts/bench/floor.ts"
  SVC_CMD="$BUN src/index.ts"
fi
db=ladder_$$
psql "$PGURL_ADMIN" -qc "create database $db" >/dev/null || exit 1
URL=${PGURL_ADMIN%/*}/$db
HZ=$(getconf CLK_TCK)
OUT=$(mktemp)
cp "$PERF_LIMIT" "$P/.ladder-limit.ts"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  sleep 2
  for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
  rm -f "$P/.ladder-limit.ts" "$OUT"
  psql "$PGURL_ADMIN" -qc "drop database if exists $db with (force)" >/dev/null
}
trap cleanup EXIT
task_ticks() {
  local s=0 t
  for t in /proc/"$1"/task/*/stat; do s=$((s + $(awk '{print $14+$15}' "$t" 2>/dev/null || echo 0))); done
  echo $s
}
listener() { ss -ltnpH "sport = :$1" | sed -E 's/.*pid=([0-9]+).*/\1/' | head -1; }
wait_for() { for _ in $(seq 1 120); do curl -fs "$1" >/dev/null && return 0; sleep 0.5; done; echo "ladder: $1 never answered" >&2; exit 1; }
start() { # port command... (in the project, its own process group)
  local port=$1
  shift
  (cd "$P" && PORT=$port exec setsid env "$@" >"/tmp/ladder-$port.log" 2>&1) &
  PIDS+=($!)
}
run() { # round name port path [header]
  local pid s0 s1 out
  pid=$(listener "$3")
  $AC -c "$C" -d 2 ${5:+-H "$5"} "http://127.0.0.1:$3$4" >/dev/null 2>&1
  s0=$(task_ticks "$pid")
  out=$($AC -j -c "$C" -d "$D" ${5:+-H "$5"} "http://127.0.0.1:$3$4" 2>/dev/null)
  sleep 0.3
  s1=$(task_ticks "$pid")
  echo "$out" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const r = JSON.parse(s); const [round, name, ticks, hz] = process.argv.slice(1); const n = r.requests.total || 1;
      const us = (Number(ticks) / Number(hz)) * 1e6 / n;
      console.log(`${round}\t${name}\t${Math.round(r.requests.average)}\t${us.toFixed(1)}\t${r.non2xx}`);
    });' "$1" "$2" $((s1 - s0)) "$HZ" | tee -a "$OUT"
}

start 3999 DATABASE_URL="$URL" $LIMIT_CMD
start 3998 NODE_ENV=production BETTER_AUTH_SECRET=ladder-secret-ladder-secret-ladder-secret DATABASE_URL="$URL" HOST=127.0.0.1 \
  BETTER_AUTH_URL=http://127.0.0.1:3998 ALLOWED_ORIGINS=http://127.0.0.1:3998 LOG_LEVEL="${LOG_LEVEL:-info}" \
  RATE_LIMIT_STRICT_PER_MIN=100000000 RATE_LIMIT_MODERATE_PER_MIN=100000000 RATE_LIMIT_POLL_PER_MIN=100000000 $SVC_CMD
wait_for http://127.0.0.1:3999/ping
wait_for http://127.0.0.1:3998/health
TOKEN=$(curl -s -D - -o /dev/null -X POST http://127.0.0.1:3998/api/auth/sign-up/email -H 'Origin: http://127.0.0.1:3998' \
  -H 'content-type: application/json' -d '{"email":"ladder@example.com","password":"ladder-password-1","name":"Ladder"}' |
  awk -F': ' 'tolower($1)=="set-auth-token" {print $2}' | tr -d '\r')
KEY=$(curl -s -X POST http://127.0.0.1:3998/api/auth/api-key/create -H 'Origin: http://127.0.0.1:3998' \
  -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"ladder"}' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).key))')
USER_ID=$(psql -tA "$URL" -c 'select id from "user" limit 1')
# A final prediction of the user's, as a finished sandbox generation leaves it (production runs no sandbox provider,
# so the row is written here; both servers read it with the service's own query).
FINAL=$(psql -tA "$URL" -c "insert into prediction (user_id, model, status, input, prompt, output, credits_charged,
  started_at, completed_at) values ('$USER_ID', 'nano-banana', 'succeeded',
  '{\"brandName\":\"Ladder\",\"description\":null,\"style\":null,\"colors\":[],\"aspectRatio\":\"1:1\",\"numOutputs\":1,\"prompt\":null}',
  'A logo for Ladder.', '[\"http://127.0.0.1:3998/sandbox/images/ladder/0.png\"]', 1, now(), now()) returning id" | head -1)
start 3997 DATABASE_URL="$URL" FLOOR_BEARER="$TOKEN" FLOOR_USER_ID="$USER_ID" LOG_LEVEL="${LOG_LEVEL:-info}" \
  FLOOR_RATE_LIMIT=100000000 $FLOOR_CMD
wait_for http://127.0.0.1:3997/api/models
# The floor must answer what the service answers, or the comparison means nothing.
for path in /api/models /api/credits "/api/credits/transactions?limit=20" "/api/predictions/$FINAL"; do
  a=$(curl -s "http://127.0.0.1:3998$path" -H "Authorization: Bearer $TOKEN")
  b=$(curl -s "http://127.0.0.1:3997$path" -H "Authorization: Bearer $TOKEN")
  [ "$a" = "$b" ] || { echo "ladder: the floor answers $path differently: $b against $a" >&2; exit 1; }
done

echo -e "round\ttarget\treq/s\tµs CPU/req\tnon-2xx"
for r in $(seq 1 "$ROUNDS"); do
  for t in $TARGETS; do
    case $t in
      ping) run "$r" "bare: ping" 3999 /ping ;;
      select) run "$r" "bare: one SELECT" 3999 /select ;;
      fmodels) run "$r" "floor: GET /api/models" 3997 /api/models ;;
      fcredits) run "$r" "floor: GET /api/credits" 3997 /api/credits "Authorization: Bearer $TOKEN" ;;
      fledger) run "$r" "floor: GET /api/credits/transactions" 3997 "/api/credits/transactions?limit=20" "Authorization: Bearer $TOKEN" ;;
      ffinal) run "$r" "floor: GET /api/predictions/{id}" 3997 "/api/predictions/$FINAL" "Authorization: Bearer $TOKEN" ;;
      models) run "$r" "GET /api/models" 3998 /api/models ;;
      credits) run "$r" "GET /api/credits, bearer" 3998 /api/credits "Authorization: Bearer $TOKEN" ;;
      key) run "$r" "GET /api/credits, API key" 3998 /api/credits "x-api-key: $KEY" ;;
      ledger) run "$r" "GET /api/credits/transactions" 3998 "/api/credits/transactions?limit=20" "Authorization: Bearer $TOKEN" ;;
      final) run "$r" "GET /api/predictions/{id}, final" 3998 "/api/predictions/$FINAL" "Authorization: Bearer $TOKEN" ;;
    esac
  done
done
echo
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split("\t"));
  const us = {}; for (const [round, name, , v] of rows) (us[name] ??= {})[round] = Number(v);
  const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const base = (name) => (name.includes("models") ? "bare: ping" : "bare: one SELECT");
  const goal = { "GET /api/models": 60, "GET /api/credits, bearer": 70, "GET /api/credits, API key": 70, "GET /api/credits/transactions": 50, "GET /api/predictions/{id}, final": 60 };
  console.log("target\tµs CPU/req (median)\tratio to its bare server (median of rounds)\tgoal");
  for (const [name, byRound] of Object.entries(us)) {
    const b = us[base(name)];
    const ratios = name.startsWith("bare") || !b ? [] : Object.keys(byRound).filter((k) => b[k]).map((k) => b[k] / byRound[k]);
    const ratio = ratios.length ? `${Math.round(median(ratios) * 100)}% of ${base(name)}` : "";
    console.log(`${name}\t${median(Object.values(byRound)).toFixed(1)}\t${ratio}\t${goal[name] ? goal[name] + "%" : ""}`);
  }' "$OUT"
