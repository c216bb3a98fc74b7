#!/usr/bin/env bash
# bench/transport_cost.sh: instructions per request of the whole tide process, per transport
# (docs/performance.md, "Transports"), plain GET with discard_body, VUS VUs (default 50),
# --threads 1, against `tide target` on loopback (a separate process, not counted).
#
#   bench/transport_cost.sh [TIDE_BINARY]
#   TRANSPORTS=native KEEP=/tmp/cg bench/transport_cost.sh build/tide   # one transport; keep the
#                                                                       # callgrind files in KEEP
#
# As bench/profile.sh does: callgrind collects a steady-state window only (from SKIP_S
# seconds in, for WINDOW_S seconds; no start-up, no report writing), and the requests of the
# window are the calls to tide_http_start. Instruction counts do not depend on the machine's
# load, so a busy machine gives the same figures (only slower).
set -euo pipefail
TIDE="${1:-build/tide}"
BENCH="$(cd "$(dirname "$0")" && pwd)"
VUS="${VUS:-50}" SKIP_S="${SKIP_S:-10}" WINDOW_S="${WINDOW_S:-15}"
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
for tr in ${TRANSPORTS:-native curl}; do
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.$tr" \
    "$TIDE" run "$work/get.lua" --host "$host" --vus "$VUS" \
    --duration "$((SKIP_S + WINDOW_S + 5))s" --threads 1 --transport "$tr" --quiet \
    --no-default-thresholds --out "$work/out.$tr" >/dev/null 2>&1 &
  vg=$!
  sleep "$SKIP_S"; callgrind_control -i on "$vg" >/dev/null
  sleep "$WINDOW_S"; callgrind_control -i off "$vg" >/dev/null
  wait "$vg" || true
  echo "## --transport $tr"
  python3 "$BENCH/profile_summary.py" "$work/cg.$tr" --count tide_http_start
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work/cg.$tr" "$KEEP/callgrind.$tr"; fi
  echo
done
