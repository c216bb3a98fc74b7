#!/usr/bin/env bash
# bench/accuracy.sh: how close tide's latency percentiles are to the truth.
#   - fixed 20 ms and a bimodal 90 % 10 ms / 10 % 200 ms delay (tide target --precise), under
#     an open-model load; the truth is the server's own service time (/_stats service_ms);
#     goal: p50/p95/p99 within 1 % or 0.5 ms, whichever is larger;
#   - a 1 s stall every 5 s under a constant arrival rate: the corrected p99 shows it, the
#     uncorrected one does not (coordinated omission, docs/latency.md).
# Usage: bench/accuracy.sh [path/to/tide]   (RATE, DURATION env overrides)
set -euo pipefail
cd "$(dirname "$0")/.."
TIDE=${1:-build/tide}
RATE=${RATE:-150}
DURATION=${DURATION:-10s}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/acc.lua" <<LUA
local http = require "tide.http"
options = { scenarios = { a = { executor = "constant-arrival-rate", rate = $RATE,
  time_unit = "1s", duration = "$DURATION", pre_allocated_vus = 60 } } }
function run() http.get("/health", { discard_body = true }) end
LUA

start_target() { # args...; sets URL and TPID
  "$TIDE" target --port 0 "$@" > "$work/target.out" 2>&1 &
  TPID=$!
  for _ in $(seq 50); do
    URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/target.out" || true)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "target did not start" >&2; exit 1
}

measure() { # name, target args...
  local name=$1; shift
  start_target --precise "$@"
  "$TIDE" run "$work/acc.lua" --host "$URL" --threads 1 --quiet --out "$work/$name" || true
  curl -s "$URL/_stats" > "$work/$name.stats"
  kill "$TPID"; wait "$TPID" 2>/dev/null || true
  python3 - "$work/$name" "$name" <<'PY'
import json, sys
out, name = sys.argv[1], sys.argv[2]
m = json.load(open(out + "/summary.json"))["metrics"]["http_req_duration"]
t = json.load(open(out + ".stats"))["service_ms"]
print("%-12s %-5s %10s %10s %9s %9s  %s" % ("case", "pct", "tide ms", "server ms", "diff ms", "goal ms", "holds"))
for p, k in (("med", "p50"), ("p95", "p95"), ("p99", "p99")):
    tol = max(0.01 * t[k], 0.5)
    d = m[p] - t[k]
    print("%-12s %-5s %10.3f %10.3f %+9.3f %9.3f  %s" % (name, k, m[p], t[k], d, tol,
          "yes" if abs(d) <= tol else "NO"))
PY
}

echo "== accuracy: tide vs the server's own service time ($RATE/s for $DURATION, open model) =="
measure fixed-20ms --delay 20ms
measure bimodal --delay-dist bimodal:0.9:10ms:200ms --seed 7

echo
echo "== coordinated omission: 1 s stall every 5 s, 100/s for 11 s, 5 VUs =="
cat > "$work/co.lua" <<'LUA'
local http = require "tide.http"
options = { scenarios = { co = { executor = "constant-arrival-rate", rate = 100, time_unit = "1s",
  duration = "11s", pre_allocated_vus = 5, max_vus = 5 } } }
function run() http.get("/health") end
LUA
start_target --stall 1s/5s --delay 2ms
"$TIDE" run "$work/co.lua" --host "$URL" --threads 1 --quiet --out "$work/co" || true
kill "$TPID"; wait "$TPID" 2>/dev/null || true
python3 - "$work/co" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + "/summary.json"))["metrics"]
for k in ("http_req_duration", "http_req_duration_uncorrected"):
    print("%-32s p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms" % (k, m[k]["med"], m[k]["p99"], m[k]["max"]))
print("dropped_iterations %s" % m.get("dropped_iterations", {}).get("count", 0))
PY
