#!/usr/bin/env bash
# bench/profile.sh: where tide's time goes on the plain-GET case (50 VUs, --threads 1, pinned
# to GEN_CPU, nginx on SERVER_CPU).
#
#   bench/profile.sh                    # callgrind (or perf, see below), prints the hot spots
#   PROFILER=perf bench/profile.sh      # perf record -g (cpu-clock when the CPU has no PMU)
#
# PROFILER defaults to perf when `perf stat -e instructions true` counts instructions, else
# callgrind (valgrind), which counts instructions exactly but runs ~50x slower, so its run is
# short. Outputs (callgrind.out / perf.data and the annotated text) stay in the results dir.
set -euo pipefail
DURATION="${DURATION:-12s}"
. "$(dirname "$0")/lib.sh"
bench_init profile
ensure_peers
nginx_start
VUS="${VUS:-50}"
SCRIPT="${SCRIPT:-$BENCH/scenarios/get.lua}"
if [ -z "${PROFILER:-}" ]; then
  if perf stat -x, -e instructions true 2>&1 >/dev/null | grep -q '^[0-9]'; then PROFILER=perf
  else PROFILER=callgrind; fi
fi
log "profiler: $PROFILER"
out="$RESULTS/run.tide"
case "$PROFILER" in
  callgrind)
    install_debs valgrind
    # collect only the steady state: from SKIP_S in, until 1 s before the end (no start-up, no
    # report writing), switched with callgrind_control
    SKIP_S="${SKIP_S:-2}"
    taskset -c "$GEN_CPU" valgrind --tool=callgrind --callgrind-out-file="$RESULTS/callgrind.out" \
      --instr-atstart=no "$TIDE" run "$SCRIPT" --host "$HOST" --vus "$VUS" \
      --duration "$DURATION" --threads 1 --quiet --out "$out" 2>"$RESULTS/valgrind.log" &
    vg=$!
    sleep "$SKIP_S"; callgrind_control -i on "$vg" >/dev/null
    sleep "$((DUR_S - SKIP_S - 1))"; callgrind_control -i off "$vg" >/dev/null
    wait "$vg"
    callgrind_annotate --inclusive=no "$RESULTS/callgrind.out" >"$RESULTS/self.txt" 2>/dev/null || true
    callgrind_annotate --inclusive=yes "$RESULTS/callgrind.out" >"$RESULTS/inclusive.txt" 2>/dev/null || true
    echo "## tide: instructions per request by stage"
    python3 "$BENCH/profile_summary.py" "$RESULTS/callgrind.out"
    echo; echo "## self cost (instructions, top 50)"; sed -n '/^Ir/,$p' "$RESULTS/self.txt" | head -55 || true
    echo; echo "## inclusive cost (top 60)"; sed -n '/^Ir/,$p' "$RESULTS/inclusive.txt" | head -65 || true
    # the same count for bench/curlfloor.c (libcurl + libev alone; bare, and with the options
    # tide sets) and for wrk (whole run, start-up included, so an upper bound)
    if [ "${FLOOR:-1}" = 1 ] && cc -O2 -o "$WORK/curlfloor" "$BENCH/curlfloor.c" -lcurl -lev 2>/dev/null; then
      echo; echo "## libcurl floor and wrk, instructions per request"
      for v in "bare:" "tide-options:cookies timeout share seturl" "CURLOPT_CURLU:curlu seturl"; do
        label="${v%%:*}"; opts="${v#*:}"
        taskset -c "$GEN_CPU" valgrind --tool=callgrind --instr-atstart=no \
          --callgrind-out-file="$RESULTS/floor-$label.out" "$WORK/curlfloor" "$HOST/" "$VUS" 8 $opts \
          >/dev/null 2>&1 &
        vg=$!
        sleep 1; callgrind_control -i on "$vg" >/dev/null; sleep 6; callgrind_control -i off "$vg" >/dev/null
        wait "$vg" || true
        echo "curlfloor $label: $(python3 "$BENCH/profile_summary.py" "$RESULTS/floor-$label.out" --brief)"
      done
      if have wrk; then
        taskset -c "$GEN_CPU" valgrind --tool=callgrind --callgrind-out-file="$RESULTS/wrk.out" \
          wrk -t1 -c"$VUS" -d5s "$HOST/" >"$RESULTS/wrk.txt" 2>/dev/null || true
        python3 - "$RESULTS/wrk.out" "$RESULTS/wrk.txt" <<'PY'
import re, subprocess, sys
tot = subprocess.run(["callgrind_annotate", sys.argv[1]], capture_output=True, text=True).stdout
n = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", tot).group(1).replace(",", ""))
reqs = int(re.search(r"(\d+) requests in", open(sys.argv[2]).read()).group(1))
print("wrk (whole run): %d requests; instructions per request: %.1fk" % (reqs, n / reqs / 1000))
PY
      fi
    fi
    ;;
  perf)
    install_debs linux-perf
    taskset -c "$GEN_CPU" perf record -g -o "$RESULTS/perf.data" -- "$TIDE" run "$SCRIPT" \
      --host "$HOST" --vus "$VUS" --duration "$DURATION" --threads 1 --quiet --out "$out" \
      2>"$RESULTS/perf.log"
    perf report -i "$RESULTS/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
      | grep -v '^$' | grep '%' | head -60 | tee "$RESULTS/self.txt" || true
    perf report -i "$RESULTS/perf.data" --no-children --sort dso --stdio 2>/dev/null \
      | grep '%' | head -20 | tee "$RESULTS/dso.txt" || true
    ;;
  *) die "PROFILER must be perf or callgrind" ;;
esac
python3 - "$out/summary.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
print("\nrun under the profiler: %d requests, %.0f req/s" % (m["http_reqs"]["count"], m["http_reqs"]["rate"]))
PY
