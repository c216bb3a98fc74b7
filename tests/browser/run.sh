#!/bin/sh
# Browser test of report.html: renders tests/fixtures/summary.json into OUT with RENDER
# ('tide report'-compatible), then opens OUT/report.html in headless Chromium (report.test.mjs)
# and leaves OUT/report.png. Exit 77 (ctest: skipped) when Chromium or Node.js is missing,
# or when TIDE_BROWSER_TEST=skip.
# Usage: run.sh RENDER SUMMARY_JSON OUT
set -eu
render=$1
summary=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)

. "$here/prepare.sh"

rm -rf "$out"
mkdir -p "$out"
cp "$summary" "$out/summary.json"
"$render" report "$out"
TIDE_CHROMIUM=$chromium node "$here/report.test.mjs" "$out/report.html" "$out/report.png"
