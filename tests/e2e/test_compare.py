"""`tide compare` as a CI gate, on real runs against the built-in target (docs/ci.md).

Without flags the default preset judges: a target slowed by 300 ms fails (exit 99), a faster
one passes; a new run that sent no request fails, and so does one whose every request failed;
runs of two different scripts get a warning after the table; `--format markdown` is a
pull-request comment (table, regressions marked, verdict, warnings, no links); with standard
output and standard error piped into one file the table comes first and the verdict last.
The slow-down is set on the same target through POST /_faults, so host, script and options
stay the same and no warning is expected there. No latency is asserted beyond a 300 ms delay
against a 5 ms one."""
import json
import os
import subprocess
import sys
import urllib.request

import tidetest as t
from tidetest import check, check_eq, run, write

work = t.tmpdir("tide-compare-")
target, url = t.start_target()


def faults(body):
    req = urllib.request.Request(url + "/_faults", data=json.dumps(body).encode(),
                                 method="POST" if body else "DELETE")
    urllib.request.urlopen(req, timeout=10).read()


steady = write(work, "steady.lua", """
local http = require "tide.http"
function run() http.get("/delay?ms=5") end
""")


def load(script, out, iterations=40, host=None):
    r = run(["run", script, "--host", host or url, "--vus", "4", "--iterations", str(iterations),
             "--quiet", "--out", os.path.join(work, out)])
    check(os.path.exists(os.path.join(work, out, "summary.json")), "run %s wrote a summary" % out,
          r.stderr[-500:])
    return os.path.join(work, out)


def lines(text):
    return [x for x in text.splitlines() if x.strip()]


base = load(steady, "base")

# 1. a large regression fails without any flag; the table names it, the verdict is last
faults({"delay": "300ms"})
slow = load(steady, "slow")
faults(None)
r = run(["compare", base, slow])
check_eq(r.returncode, 99, "compare without flags fails a +300 ms p95")
check("REGRESSION (limit +25% and +10 ms)" in r.stdout, "the table marks the regression", r.stdout)
check(lines(r.stdout)[-1].startswith("tide: compare: ") and "regression" in lines(r.stdout)[-1]
      and "Aggregated p95" in lines(r.stdout)[-1], "the verdict is the last line",
      r.stdout[-600:])
check("warning:" not in r.stdout, "same script, options, host: no warning", r.stdout[-600:])
check_eq(r.stderr, "", "nothing on stderr (one stream)")
check_eq(run(["compare", base, slow, "--preset", "lenient"]).returncode, 99,
         "lenient still fails a +300 ms p95")
check_eq(run(["compare", base, slow, "--preset", "none"]).returncode, 0,
         "--preset none judges nothing")
check_eq(run(["compare", base, slow, "--max-regression", "p95=100000%,p99=100000%,rps=-100%"]).returncode, 0,
         "explicit limits override the preset's")

# 2. within tolerance: a faster new run passes
faster = load(steady, "faster")
slow_base = slow
r = run(["compare", slow_base, faster])
check_eq(r.returncode, 0, "a faster run passes (%s)" % r.stdout[-300:])
check(lines(r.stdout)[-1] == "tide: compare: no regression beyond tolerance (preset default)",
      "the passing verdict is the last line", r.stdout[-300:])
check_eq(run(["compare", base, base]).returncode, 0, "a run against itself passes")

# 3. pipe order: both streams into one file, as CI logs are
for extra, first in (([], "tide compare: base "), (["--format", "markdown"], "### tide compare: ")):
    out_file = os.path.join(work, "piped.txt")
    cmd = " ".join([t.TIDE, "compare", base, slow] + extra) + " > %s 2>&1" % out_file
    rc = subprocess.run(["sh", "-c", cmd], timeout=60).returncode
    text = open(out_file).read()
    check_eq(rc, 99, "piped compare %s exits 99" % extra)
    check(text.startswith(first), "piped %s: the table first" % extra, text[:200])
    last = lines(text)[-1]
    check(last.startswith("tide: compare: "), "piped %s: verdict last" % extra, last)
    check("regression" in last and text.count("tide: compare: ") == 1,
          "piped %s: one verdict, at the end" % extra, text[-400:])

# 4. Markdown for a pull-request comment
md_file = os.path.join(work, "compare.md")
r = run(["compare", base, slow, "--md", md_file])
md = open(md_file).read()
check(md.startswith("### tide compare: "), "markdown heading", md[:100])
check("**\u274c Failed: " in md, "markdown verdict line", md[:400])
check("| Scope | Count | p50 | p95 | p99 | error_rate | rps | checks |" in md, "markdown header", md)
check(any(x.startswith("| Aggregated | ") and "**\u274c**" in x for x in md.splitlines()),
      "markdown marks the regression on Aggregated", md)
check("Tolerances (preset default)" in md, "markdown names the tolerances", md[-400:])
check("http://" not in md and "](" not in md, "markdown has no links", md)
r = run(["compare", base, slow, "--format", "markdown"])
check(r.stdout.startswith("### tide compare: ") and "REGRESSION" not in r.stdout,
      "--format markdown: standard output is the comment", r.stdout[:200])
check(lines(r.stderr) and lines(r.stderr)[-1].startswith("tide: compare: "),
      "--format markdown: the verdict on stderr", r.stderr)
r = run(["compare", base, base, "--format", "json"])
check_eq(r.returncode, 0, "--format json exits 0 on the same run")
doc = json.loads(r.stdout)
check(doc["ok"] is True and doc["preset"] == "default" and doc["warnings"] == [],
      "--format json document", r.stdout[:300])

# 5. differing scripts warn (after the table, before the verdict) and still compare
other = write(work, "other.lua", """
local http = require "tide.http"
-- the same requests, another file: a reviewer should know
function run() http.get("/delay?ms=5") end
""")
changed = load(other, "other")
r = run(["compare", base, changed, "--md", md_file])
out = r.stdout
check("warning: the runs used different scripts (%s sha256 " % steady in out,
      "a warning names the scripts", out[-800:])
w = out.find("warning: the runs used different scripts")
check(out.rfind("iteration_duration  (") < w < out.rfind("tide: compare: "),
      "the warning comes after the table and before the verdict", out[-800:])
check("the runs used different scripts" in open(md_file).read(), "the warning in the Markdown")

# 6. a new run that sent no request fails; so does one whose every request failed
idle = write(work, "idle.lua", """
local tide = require "tide"
function run() tide.sleep(0.001) end
""")
empty = load(idle, "empty", iterations=4)
r = run(["compare", base, empty])
check_eq(r.returncode, 99, "a new run without requests fails")
check("Aggregated no requests in the new run" in r.stdout, "says why", r.stdout[-600:])
refused = load(steady, "refused", iterations=8, host="http://127.0.0.1:%d" % t.free_port())
r = run(["compare", base, refused])
check_eq(r.returncode, 99, "a new run whose requests all failed fails")
check("Aggregated error_rate +100.0pp (limit +1pp)" in r.stdout, "names the error rate",
      r.stdout[-600:])

# 7. bad usage: one line, exit 2
r = run(["compare", base, slow, "--preset", "fast"])
check_eq(r.returncode, 2, "unknown preset")
check_eq(len(lines(r.stderr)), 1, "one line on stderr")
check(r.stderr.startswith("tide: compare: --preset: unknown preset 'fast'"), "names it", r.stderr)

t.stop(target)
t.done()
