#!/bin/sh
# Browser test of a long run's report.html: writes a synthetic 8-hour summary.json
# (make_long_summary.py, 28 800 one-second rows, 8 endpoints, one spike), renders it with
# 'tide report OUT', checks the sizes (report.html under 3 MB; stats_history.csv keeps every
# second) and opens the page in headless Chromium (long_report.test.mjs: loads within a
# generous ceiling, charts drawn, the spike still visible). Exit 77 as run.sh.
# Usage: long_run.sh TIDE FIXTURE_SUMMARY_JSON OUT
set -eu
tide=$1
fixture=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)

. "$here/prepare.sh"

rm -rf "$out"
mkdir -p "$out"
python3 "$here/make_long_summary.py" "$fixture" "$out/summary.json" 28800
"$tide" report "$out"
size=$(wc -c <"$out/report.html")
summary_size=$(wc -c <"$out/summary.json")
rows=$(($(wc -l <"$out/stats_history.csv") - 1))
echo "summary.json: $summary_size bytes; report.html: $size bytes; stats_history.csv: $rows rows"
fail=0
if [ "$size" -ge 3000000 ]; then
    echo "FAIL: report.html of an 8-hour run is $size bytes (bound: 3 MB)" >&2
    fail=1
fi
# stats_history.csv: Locust's layout, one row per second and per endpoint plus Aggregated;
# at least one row per second means nothing was thinned there.
if [ "$rows" -lt 28800 ]; then
    echo "FAIL: stats_history.csv has $rows rows, fewer than the 28800 seconds" >&2
    fail=1
fi
TIDE_CHROMIUM=$chromium node "$here/long_report.test.mjs" "$out/report.html" "$out/long_report.png" || fail=1
exit $fail
