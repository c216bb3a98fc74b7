#!/usr/bin/env bash
# bench/memory.sh: memory per virtual user. Many VUs that sleep between requests; the RSS of
# the generator is sampled (from /proc/PID/status) once all of them are up, and compared with
# the same scenario at BASE VUs: KB per VU = (RSS(N) - RSS(BASE)) / (N - BASE).
#
#   bench/memory.sh                     # 3 rounds, 9 s runs, about 5 minutes
#
# States:
#   keepalive  each VU did a GET and sleeps THINK (5) s before the next: it holds an idle
#              keep-alive connection. 10k VUs: with the open-file limit of 20,000 here
#              (ulimit -n), 50k VUs cannot each hold a connection, so keepalive stops at 10k.
#   idle       each VU wakes once a second and sends nothing: it holds no connection.
#              10k and 50k VUs (Locust: 50k only by default, LOCUST_IDLE_VUS="10000 50000"
#              adds 10k; its KB per user is the same at both sizes).
# Tools: tide --threads 1 (bench/scenarios/keepalive.lua, idle.lua) and Locust FastHttpUser
# users (bench/locust/memory.py) where Debian has Locust. Locust is killed right after its
# sample: tearing down 50k users takes it ~20 s and adds nothing to the reading.
set -euo pipefail
DURATION="${DURATION:-9s}"
. "$(dirname "$0")/lib.sh"
bench_init memory
ensure_peers locust
nginx_start
BASE="${BASE:-100}"
THINK="${THINK:-5}"
KA_VUS="${KA_VUS:-10000}"
IDLE_VUS="${IDLE_VUS:-10000 50000}"
LOCUST_IDLE_VUS="${LOCUST_IDLE_VUS:-50000}"
SAMPLE_AT="$((DUR_S - 2))"
[ "$SAMPLE_AT" -ge 4 ] || die "DURATION must be at least 6s"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "open-file limit: $(ulimit -n); sampling RSS at ${SAMPLE_AT}s"

tide_mem() { # tide_mem STATE VUS
  local state="$1" n="$2" label="$2" script
  [ "$n" = "$BASE" ] && label=base
  script="$BENCH/scenarios/$state.lua"
  local out="$RESULTS/raw/$state-$label.tide.r$ROUND.tide"
  SAMPLE_AT="$SAMPLE_AT" EXTRA="vus=$n" bench_run "$state-$label" tide "tide:$out" -- \
    "$TIDE" run "$script" --host "$HOST" --vus "$n" --duration "$DURATION" \
    --env THINK="$THINK" --threads 1 --quiet --out "$out"
}

locust_mem() { # locust_mem STATE VUS
  local state="$1" n="$2" label="$2"
  [ "$n" = "$BASE" ] && label=base
  local csvp="$RESULTS/raw/$state-$label.locust.r$ROUND"
  MODE="$state" THINK="$THINK" SAMPLE_AT="$SAMPLE_AT" KILL_AFTER_SAMPLE=1 EXTRA="vus=$n" \
    bench_run "$state-$label" "locust FastHttpUser" none -- \
    locust -f "$BENCH/locust/memory.py" --headless -u "$n" -r "$n" -t "$((DUR_S + 5))s" \
    -H "$HOST" --only-summary --loglevel INFO --exit-code-on-error 0
  local err="$RESULTS/raw/$state-$label.locust_FastHttpUser.r$ROUND.err"
  grep -q "All users spawned" "$err" 2>/dev/null ||
    log "warning: Locust had not spawned all $n users when sampled (see $err)"
}

for ROUND in $(seq "$ROUNDS"); do
  log "round $ROUND/$ROUNDS"
  for tool in tide locust; do
    [ "$tool" = locust ] && ! have locust && continue
    "${tool}_mem" keepalive "$BASE"
    for n in $KA_VUS; do "${tool}_mem" keepalive "$n"; done
    "${tool}_mem" idle "$BASE"
    idle_vus="$IDLE_VUS"
    [ "$tool" = locust ] && idle_vus="$LOCUST_IDLE_VUS"
    for n in $idle_vus; do "${tool}_mem" idle "$n"; done
  done
done

{
  echo "## memory per VU: VUs sleeping between requests, tide --threads 1 vs Locust"
  echo
  versions | sed 's/^/    /'
  echo
  echo "ROUNDS=$ROUNDS DURATION=$DURATION BASE=$BASE THINK=${THINK}s; RSS sampled at ${SAMPLE_AT}s; ulimit -n $(ulimit -n)"
  echo
  python3 "$BENCH/report.py" memtable "$RESULTS/results.jsonl"
} | tee "$RESULTS/table.md"
