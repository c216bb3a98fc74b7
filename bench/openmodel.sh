#!/usr/bin/env bash
# bench/openmodel.sh: open model. tide's constant-arrival-rate executor at fixed rates against
# nginx: achieved iterations/s vs the target, dropped_iterations, latency (measured from each
# iteration's scheduled start, so a generator that falls behind shows it in p99).
#
#   bench/openmodel.sh                  # 3 rounds x 3 rates x 10 s, about 2 minutes
#   RATES="1000 10000 50000 100000" VUS=400 bench/openmodel.sh
#
# The natural peer, wrk2 (wrk with a constant request rate and corrected latency), is compared
# only where Debian packages it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init openmodel
ensure_peers wrk2
nginx_start
RATES="${RATES:-1000 10000 50000}"
VUS="${VUS:-200}"

for ROUND in $(seq "$ROUNDS"); do
  log "round $ROUND/$ROUNDS"
  for rate in $RATES; do
    out="$RESULTS/raw/rate-$rate.tide.r$ROUND.tide"
    bench_run "rate-$rate" tide "tide:$out" -- "$TIDE" run "$BENCH/scenarios/open.lua" \
      --host "$HOST" --rate "$rate" --vus "$VUS" --duration "$DURATION" --threads 1 --quiet --out "$out"
    if have wrk2; then
      bench_run "rate-$rate" wrk2 wrk -- wrk2 -t1 -c"$VUS" -d"$DURATION" -R"$rate" --latency "$HOST/"
    fi
  done
done

{
  echo "## open model: constant-arrival-rate, tide --threads 1 on cpu $GEN_CPU, nginx on cpu $SERVER_CPU"
  echo
  versions | sed 's/^/    /'
  echo
  echo "ROUNDS=$ROUNDS DURATION=$DURATION VUS (pre-allocated = max)=$VUS RATES=$RATES"
  echo
  python3 "$BENCH/report.py" opentable "$RESULTS/results.jsonl"
  echo
  if have wrk2; then
    echo "wrk2 rows: wrk2 -R RATE, its corrected latency."
  else
    echo "wrk2: not compared: Debian has no wrk2 package here ($(apt-cache policy wrk2 2>/dev/null | grep -c Candidate) candidates from 'apt-cache policy wrk2')."
  fi
} | tee "$RESULTS/table.md"
