#!/usr/bin/env bash
# bench/flow.sh: a 2-step flow per iteration (POST JSON to /api/login, read the token, GET
# /api/items/1 with it and check the answer), 50 VUs/users/connections, against nginx.
#
#   bench/flow.sh                       # 3 rounds of 10 s runs, about 4 minutes
#
# Tools: tide --threads 1 (bench/scenarios/flow.lua, pinned), wrk -t1 with its Lua hooks
# (bench/wrk/flow.lua: request() alternates POST and GET, response() checks), Locust
# FastHttpUser (bench/locust/flow.py), plus autocannon's plain GET (case get-50) for the goal
# "flow >= 1x autocannon's plain GET", and tide --threads 2 unpinned as an extra row.
# req/s counts both requests of a flow; iter/s is flows per second.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init flow
ensure_peers wrk autocannon locust
nginx_start
VUS="${VUS:-50}"

for ROUND in $(seq "$ROUNDS"); do
  log "round $ROUND/$ROUNDS"
  out="$RESULTS/raw/flow.tide.r$ROUND.tide"
  bench_run flow-$VUS tide "tide:$out" -- "$TIDE" run "$BENCH/scenarios/flow.lua" --host "$HOST" \
    --vus "$VUS" --duration "$DURATION" --threads 1 --quiet --out "$out"
  have wrk && ITER_REQS=2 bench_run flow-$VUS wrk wrk -- \
    wrk -t1 -c"$VUS" -d"$DURATION" --latency -s "$BENCH/wrk/flow.lua" "$HOST"
  if have locust; then
    csvp="$RESULTS/raw/flow.locust.r$ROUND"
    ITER_REQS=2 bench_run flow-$VUS "locust FastHttpUser" "locust:$csvp" -- \
      locust -f "$BENCH/locust/flow.py" --headless -u "$VUS" -r "$VUS" -t "${DUR_S}s" \
      -H "$HOST" --csv "$csvp" --only-summary --loglevel WARNING --exit-code-on-error 0
  fi
  have autocannon && bench_run get-$VUS "autocannon (plain GET)" autocannon -- \
    node "$AUTOCANNON" -c "$VUS" -d "$DUR_S" -j "$HOST/"
  out="$RESULTS/raw/flow.tide2.r$ROUND.tide"
  PIN=0 bench_run flow-$VUS "tide --threads 2 (unpinned)" "tide:$out" -- "$TIDE" run \
    "$BENCH/scenarios/flow.lua" --host "$HOST" --vus "$VUS" --duration "$DURATION" --threads 2 \
    --quiet --out "$out"
done

{
  echo "## flow: POST JSON + GET with a check, $VUS VUs, nginx (1 worker, cpu $SERVER_CPU), generators on cpu $GEN_CPU"
  echo
  versions | sed 's/^/    /'
  echo
  echo "ROUNDS=$ROUNDS DURATION=$DURATION"
  echo
  python3 "$BENCH/report.py" table "$RESULTS/results.jsonl" --ref tide \
    --goal "2-step flow: tide >= 10x Locust FastHttpUser (req/s)|flow-$VUS/tide|flow-$VUS/locust FastHttpUser|10" \
    --goal "2-step flow: tide req/s >= 1.5x autocannon's plain GET req/s|flow-$VUS/tide|get-$VUS/autocannon (plain GET)|1.5"
  echo
  echo "wrk sends a fixed token (it cannot carry one answer into the next request); tide and"
  echo "Locust parse the login answer's JSON and send its token."
} | tee "$RESULTS/table.md"
