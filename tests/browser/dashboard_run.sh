#!/bin/sh
# Browser test of 'tide run --dashboard' (dashboard.test.mjs). Exit 77 as run.sh.
# Usage: dashboard_run.sh TIDE SCENARIO OUT
set -eu
tide=$1
scenario=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)

. "$here/prepare.sh"

rm -rf "$out"
mkdir -p "$out"
TIDE_CHROMIUM=$chromium node "$here/dashboard.test.mjs" "$tide" "$scenario" "$out"
