#!/usr/bin/env bash
# bench/transport_cost.sh: instructions per request of the whole tide process, per transport
# (docs/performance.md, "Transports"), plain GET with discard_body, VUS VUs (default 50),
# --threads 1, against `tide target` on loopback (a separate process, not counted).
#
#   bench/transport_cost.sh [TIDE_BINARY]
#
# Each transport runs twice under callgrind with a fixed number of iterations, N1 and N2
# (default 2000 and 6000); the difference of the two instruction totals divided by N2 - N1 is
# the cost of one more request: start-up, the summary and the report cancel out. Instruction
# counts do not depend on the machine's load, so a busy machine gives the same figures.
set -euo pipefail
TIDE="${1:-build/tide}"
VUS="${VUS:-50}" N1="${N1:-2000}" N2="${N2:-6000}"
command -v valgrind >/dev/null || { echo "transport_cost: valgrind is needed" >&2; exit 77; }
work=$(mktemp -d)
trap 'kill "$tpid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$TIDE" target --port 0 >"$work/target.log" 2>&1 &
tpid=$!
for _ in $(seq 50); do grep -q 'http://' "$work/target.log" && break; sleep 0.1; done
host=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/target.log" | head -1)
cat >"$work/get.lua" <<'LUA'
local http = require "tide.http"
function run() http.get("/health", { discard_body = true }) end
LUA
total() { # total TRANSPORT N: the instructions of one whole run
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1.$2" "$TIDE" run "$work/get.lua" \
    --host "$host" --vus "$VUS" --iterations "$2" --threads 1 --transport "$1" --quiet \
    --no-default-thresholds --out "$work/out.$1.$2" >/dev/null 2>&1
  sed -n 's/^summary: *//p' "$work/cg.$1.$2" | head -1
}
printf '%-8s %14s %14s %22s\n' transport "total N1=$N1" "total N2=$N2" "instructions/request"
for tr in native curl; do
  a=$(total "$tr" "$N1")
  b=$(total "$tr" "$N2")
  printf '%-8s %14s %14s %22.0f\n' "$tr" "$a" "$b" "$(echo "($b - $a) / ($N2 - $N1)" | bc -l)"
done
