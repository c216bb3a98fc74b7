# prepare.sh: sourced by the browser tests' scripts (run.sh, long_run.sh) with $here set:
# exits 77 (ctest: skipped) when Chromium or Node.js is missing or TIDE_BROWSER_TEST=skip,
# runs 'npm ci' when playwright-core is not installed yet, and sets $chromium.
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

