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

if [ "${TIDE_BROWSER_TEST:-}" = skip ]; then
    echo "SKIP: TIDE_BROWSER_TEST=skip"
    exit 77
fi
chromium=${TIDE_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "SKIP: $chromium not found (install it: apt-get install -y chromium)"
    exit 77
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: node and npm not found (install them: apt-get install -y nodejs npm)"
    exit 77
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    echo "installing the browser test's npm packages (npm ci in $here)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || {
        echo "FAIL: npm ci failed in $here (is the npm registry reachable?)" >&2
        exit 1
    }
fi

rm -rf "$out"
mkdir -p "$out"
cp "$summary" "$out/summary.json"
"$render" report "$out"
TIDE_CHROMIUM=$chromium node "$here/report.test.mjs" "$out/report.html" "$out/report.png"
