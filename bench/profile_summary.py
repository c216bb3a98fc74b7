#!/usr/bin/env python3
"""bench/profile_summary.py CALLGRIND_OUT [--brief] [--count FN]: instructions per request of
tide's main stages.

Requests are counted as the calls to curl_multi_remove_handle (one per finished libcurl
transfer; --count tide_http_start counts the requests of both transports) in the collected
window; each stage's inclusive cost is divided by that count."""
import re
import subprocess
import sys

STAGES = [
    ("whole process (collected window)", None),
    ("libcurl transfer work: curl_multi_socket_action", "curl_multi_socket_action"),
    ("  of which curl's printf engine: curl_maprintf", "curl_maprintf"),
    ("  of which URL parse/rebuild: curl_url_set + curl_url_get", ("curl_url_set", "curl_url_get")),
    ("native transfer work: on_io (engine/core/native.c)", "on_io"),
    ("completion: check_done -> on_single_done", "on_single_done"),
    ("  response object: finish (incl. record)", "finish"),
    ("  metrics: tide_sample_request", "tide_sample_request"),
    ("    tide_registry_add + _add_h (all calls)", ("tide_registry_add", "tide_registry_add_h")),
    ("    tide_shape_add (series cache, all calls)", "tide_shape_add"),
    ("    tide_vu_tags", "tide_vu_tags"),
    ("  the script until its next request: tide_vu_resume", "tide_vu_resume"),
    ("    http.get: l_request", "l_request"),
    ("      prepare", "prepare"),
    ("luaL_setmetatable + lua_setmetatable (all calls)", ("luaL_setmetatable", "lua_setmetatable")),
    ("lua_setfield (all calls)", "lua_setfield"),
    ("lua_getfield (all calls)", "lua_getfield"),
    ("lua_createtable (all calls)", "lua_createtable"),
    ("malloc+calloc+realloc+free (all calls)", ("malloc", "calloc", "realloc", "free")),
]


def main():
    out = sys.argv[1]
    brief = "--brief" in sys.argv[2:]
    counted = "curl_multi_remove_handle"
    if "--count" in sys.argv[2:]:
        counted = sys.argv[sys.argv.index("--count") + 1]
    incl = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                          capture_output=True, text=True).stdout
    tree = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=calling",
                           "--threshold=100", out], capture_output=True, text=True).stdout
    total = None
    cost = {}
    for line in incl.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        rest = m.group(2)
        if "PROGRAM TOTALS" in rest:
            total = n
            continue
        fn = rest.split(" [")[0].split(":")[-1].strip()
        cost[fn] = max(cost.get(fn, 0), n)
    reqs = 0
    for line in tree.splitlines():
        # "  >   callee (Nx)" lines only: the "=>" lines repeat the same calls
        m = re.search(r"%\)\s+>\s+\S*" + re.escape(counted) + r" \(([\d,]+)x\)", line)
        if m:
            reqs += int(m.group(1).replace(",", ""))
    if not total or not reqs:
        print("could not read %s (total %s, requests %s)" % (out, total, reqs))
        return
    print("requests completed in the window: %d; instructions per request: %.1fk" %
          (reqs, total / reqs / 1000))
    if brief:
        return
    print()
    print("| stage | instructions per request | share |")
    print("|---|---:|---:|")
    for label, fns in STAGES:
        if fns is None:
            n = total
        else:
            n = sum(cost.get(f, 0) for f in ((fns,) if isinstance(fns, str) else fns))
        print("| %s | %.1fk | %.1f%% |" % (label.replace("  ", "&nbsp;&nbsp;"), n / reqs / 1000,
                                           100.0 * n / total))


if __name__ == "__main__":
    main()
