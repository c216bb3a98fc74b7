#!/usr/bin/env bash
# bench/throughput.sh: closed-model throughput of a plain GET loop against nginx, tide vs peers.
#
#   bench/throughput.sh                    # 3 rounds of 4 s runs, about 5 minutes
#   DURATION=10s bench/throughput.sh      # the issue's reference setting (about 10 minutes)
#
# nginx (one worker) runs on cpu SERVER_CPU (0), each generator alone on cpu GEN_CPU (1).
# Cases: get-50 (tiny JSON, 50 connections/VUs), get-1000 (1000), 10k-50 (10 KB body, 50),
# tls-50 (the tiny JSON over HTTPS, nginx's self-signed certificate, 50 connections: tide with
# --insecure on both transports, wrk, ab -k; handshakes once per connection, then keep-alive).
# Tools: tide --threads 1 (pinned; the reference of the ratios), wrk -t1, ab -k, autocannon,
# Locust FastHttpUser (get-50 only; LOCUST_1000=1 adds it to get-1000), bench/curlfloor.c (the
# same libcurl multi_socket + libev plumbing with none of tide's work: the ceiling for an
# engine built on libcurl), and in get-50 two extra
# tide rows: the body copied into Lua (no discard_body), and --threads 2 unpinned (sharing
# nginx's core, so it is not a fair single-core comparison).
# Every (case, tool) runs once per round, in the same order (A B C A B C ...); the table shows
# medians of rounds. Set CASES="get-50 10k-50" to run only some cases.
# Transports (docs/http.md): the "tide" row is the default (--transport auto: the native
# client for plain http); a "tide --transport curl" row runs the same case through libcurl.
# TRANSPORT=native|curl|auto sets the "tide" row's; CURL_ROW=0 drops the libcurl row.
set -euo pipefail
DURATION="${DURATION:-4s}"
. "$(dirname "$0")/lib.sh"
bench_init throughput
ensure_peers wrk ab autocannon locust
nginx_start
CASES="${CASES:-get-50 get-1000 10k-50 tls-50}"
# the floor: libcurl + libev with nothing of tide's (bench/curlfloor.c), built with the same
# libraries tide links
CURLFLOOR="$WORK/curlfloor"
cc -O2 -o "$CURLFLOOR" "$BENCH/curlfloor.c" -lcurl -lev 2>"$WORK/cc.log" ||
  { log "bench/curlfloor.c did not build (libcurl/libev headers?): row skipped"; CURLFLOOR=""; }

tide_run() { # tide_run CASE TOOL VUS PATH SCRIPT [extra tide args]
  local case="$1" tool="$2" vus="$3" path="$4" script="$5"; shift 5
  local out="$RESULTS/raw/$case.$tool.r$ROUND.tide"
  bench_run "$case" "$tool" "tide:$out" -- "$TIDE" run "$BENCH/scenarios/$script" \
    --host "$HOST" --vus "$vus" --duration "$DURATION" --env PATH_="$path" --quiet --out "$out" "$@"
}

run_case() { # run_case CASE CONNECTIONS PATH
  local case="$1" c="$2" path="$3" url="$HOST$3"
  tide_run "$case" tide "$c" "$path" get.lua --threads 1 --transport "${TRANSPORT:-auto}"
  [ "${CURL_ROW:-1}" = 1 ] &&
    tide_run "$case" "tide --transport curl" "$c" "$path" get.lua --threads 1 --transport curl
  have wrk && bench_run "$case" wrk wrk -- wrk -t1 -c"$c" -d"$DURATION" --latency "$url"
  have ab && bench_run "$case" "ab -k" ab -- ab -k -q -c "$c" -t "$DUR_S" -n $((DUR_S * 400000)) "$url"
  have autocannon && bench_run "$case" autocannon autocannon -- \
    node "$AUTOCANNON" -c "$c" -d "$DUR_S" -j "$url"
  if have locust && { [ "$c" -le 50 ] || [ "${LOCUST_1000:-0}" = 1 ]; } && [ "$path" = / ]; then
    local csvp="$RESULTS/raw/$case.locust.r$ROUND"
    BENCH_PATH="$path" bench_run "$case" "locust FastHttpUser" "locust:$csvp" -- \
      locust -f "$BENCH/locust/get.py" --headless -u "$c" -r "$c" -t "${DUR_S}s" -H "$HOST" \
      --csv "$csvp" --only-summary --loglevel WARNING --exit-code-on-error 0
  fi
  if [ -n "$CURLFLOOR" ] && [ "$path" = / ]; then
    bench_run "$case" "curlfloor (libcurl+libev only)" curlfloor -- "$CURLFLOOR" "$url" "$c" "$DUR_S"
  fi
  if [ "$case" = get-50 ]; then
    tide_run "$case" "tide (body to Lua)" "$c" "$path" get_body.lua --threads 1
    PIN=0 tide_run "$case" "tide --threads 2 (unpinned)" "$c" "$path" get.lua --threads 2
  fi
}

run_tls_case() { # run_tls_case CASE CONNECTIONS: plain GET of / over HTTPS
  local case="$1" c="$2" url="$HTTPS_HOST/"
  HOST="$HTTPS_HOST" tide_run "$case" tide "$c" / get.lua --threads 1 --insecure \
    --transport "${TRANSPORT:-auto}"
  [ "${CURL_ROW:-1}" = 1 ] && HOST="$HTTPS_HOST" tide_run "$case" "tide --transport curl" "$c" / \
    get.lua --threads 1 --insecure --transport curl
  have wrk && bench_run "$case" wrk wrk -- wrk -t1 -c"$c" -d"$DURATION" --latency "$url"
  have ab && bench_run "$case" "ab -k" ab -- ab -k -q -c "$c" -t "$DUR_S" -n $((DUR_S * 400000)) "$url"
  return 0
}

for ROUND in $(seq "$ROUNDS"); do
  log "round $ROUND/$ROUNDS"
  for case in $CASES; do
    case "$case" in
      get-50) run_case get-50 50 / ;;
      get-1000) run_case get-1000 1000 / ;;
      10k-50) run_case 10k-50 50 /10k ;;
      tls-50) run_tls_case tls-50 50 ;;
      *) die "unknown case $case" ;;
    esac
  done
done

{
  echo "## throughput: plain GET against nginx (1 worker, cpu $SERVER_CPU), generators on cpu $GEN_CPU"
  echo
  versions | sed 's/^/    /'
  echo
  echo "ROUNDS=$ROUNDS DURATION=$DURATION; tiny body = 11-byte JSON, 10k = 10240-byte file"
  echo
  python3 "$BENCH/report.py" table "$RESULTS/results.jsonl" --ref tide \
    --goal "plain GET, 50 VUs: tide >= 0.9x wrk|get-50/tide|get-50/wrk|0.9" \
    --goal "plain GET, 1000 VUs: tide >= 0.8x wrk|get-1000/tide|get-1000/wrk|0.8" \
    --goal "HTTPS plain GET, 50 VUs: tide >= 0.8x wrk|tls-50/tide|tls-50/wrk|0.8"
  echo
  echo "Issue's reference figures (10 s runs, medians of 3): wrk 224k req/s (50 conns), 183k (1000);"
  echo "ab -k 228k; autocannon 99k; Locust FastHttpUser 11.3k, HttpUser 2.7k."
} | tee "$RESULTS/table.md"
