"""End-to-end tests of the run's verdict (docs/cli.md "Exit codes"): the default checks fail a
run that measured only errors (wrong port, all 503, a script that always raises) with exit 99
and one line saying why; under Locust's flags Locust's rule gives exit 1 (or
--exit-code-on-error N); a user threshold on the same metric replaces a default check;
--no-default-thresholds drops them; junit.xml of a 99, 108 or 130 run has failures. Also the
refusals of k6's --out json=FILE and of a Python script, and per-command --help.
Every run is a few iterations or about a second, against 127.0.0.1."""
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from tidetest import *

target, url = start_target()
bad_target, bad_url = start_target("--error-rate", "1:503")
work = tmpdir()
dead_url = "http://127.0.0.1:%d" % free_port()  # nothing listens: connections are refused

get = write(work, "get.lua", """
local http = require "tide.http"
function run() http.get("/health") end
""")
# 1 request in 4 is a 404 (25 %), or 1 in 20 (5 %): per iteration, by the VU's own count
mixed = write(work, "mixed.lua", """
local http = require "tide.http"
local tide = require "tide"
local n = 0
function run()
  n = n + 1
  local every = tonumber(tide.env("EVERY", "4"))
  http.get(n % every == 0 and "/no-such-route" or "/health")
end
""")
raising = write(work, "raise.lua", """
local http = require "tide.http"
function run()
  http.get("/health")
  error("boom in every iteration")
end
""")
sometimes = write(work, "sometimes.lua", """
local n = 0
function run()
  n = n + 1
  if n % 4 == 0 then error("every fourth iteration") end
end
""")


def why(r):
    """The lines of stderr that say why the run did not pass."""
    return [l for l in r.stderr.splitlines()
            if l.startswith(("tide: failed:", "tide: aborted:", "tide: interrupted:"))]


def defaults(s):
    return {t["metric"]: t for t in s["thresholds"] if t["source"] == "default"}


def junit_failures(folder):
    """{(classname, name): failure type} of junit.xml's failed cases."""
    root = ET.parse(os.path.join(folder, "junit.xml")).getroot()
    out = {}
    for tc in root.iter("testcase"):
        f = tc.find("failure")
        if f is not None:
            out[(tc.get("classname"), tc.get("name"))] = f.get("type")
    check_eq(int(root.get("failures")), len(out), "junit's failure count matches its cases")
    return out


def tide_run(script, host, *args, out=None, env=None):
    argv = ["run", script, "--host", host, *args]
    if out is not None:
        argv += ["--out", os.path.join(work, out)]
    return run(argv, timeout=60, env=env)


# --- wrong port: every connection refused -> 99, one line, junit failures ---
r = tide_run(get, dead_url, "--vus", "2", "--iterations", "20", out="refused")
check_eq(r.returncode, 99, "all requests refused: exit 99")
lines = why(r)
check_eq(len(lines), 1, "one line says why")
check(lines and lines[0].startswith("tide: failed: no request succeeded (20 of 20 failed: "),
      "it says no request succeeded", lines)
check(r.stderr.rstrip().endswith(lines[0] if lines else "?"), "the reason is the last line",
      r.stderr[-300:])
s = load_json(os.path.join(work, "refused", "summary.json"))
check_eq(s["run"]["status"], "failed", "status failed")
check_eq(s["run"]["exit_code"], 99, "summary's exit code")
check((s["run"].get("reason") or "").startswith("no request succeeded"), "run.reason",
      s["run"].get("reason"))
d = defaults(s)
check_eq(sorted(d), ["http_req_failed", "iterations", "tide_script_errors"], "three defaults")
failed, its = d.get("http_req_failed", {}), d.get("iterations", {})
check_eq((failed.get("ok"), failed.get("observed"), failed.get("expression")),
         (False, 1, "rate<0.1"), "the failing default")
check_eq((its.get("ok"), its.get("observed")), (True, 20), "iterations ran")
check("✗ http_req_failed: rate<0.1" in r.stdout, "terminal summary lists the default",
      r.stdout[-600:])
jf = junit_failures(os.path.join(work, "refused"))
check_eq(jf.get(("run", "status")), "failed", "junit: run status fails (99)")
check_eq(jf.get(("run", "failed requests")), "requests", "junit: failed requests case fails")
check_eq(jf.get(("http_req_failed", "rate<0.1")), "threshold", "junit: the default check fails")

# --- every answer a 503 ---
r = tide_run(get, bad_url, "--vus", "2", "--iterations", "20", out="all503")
check_eq(r.returncode, 99, "all 503: exit 99")
check_eq(len(why(r)), 1, "one line says why (503)")
check(why(r) and "no request succeeded (20 of 20 failed: HTTP 503)" in why(r)[0],
      "it names the 503s", why(r))

# --- a share of failures: over 10 % fails, under it passes ---
r = tide_run(mixed, url, "--vus", "1", "--iterations", "40", out="mixed25")
check_eq(r.returncode, 99, "25 % failed requests: exit 99")
check(why(r) and "10 of 40 requests failed (25.0%, above the default limit of 10%" in why(r)[0],
      "it gives the share and the limit", why(r))
r = tide_run(mixed, url, "--vus", "1", "--iterations", "40", env={"EVERY": "20"})
check_eq(r.returncode, 0, "5 % failed requests: under the default, exit 0")
check_eq(why(r), [], "a passing run prints no reason")

# --- a script that raises in every iteration, or in one of four ---
r = tide_run(raising, url, "--vus", "2", "--iterations", "10", out="raise")
check_eq(r.returncode, 99, "always raising: exit 99")
check_eq(len(why(r)), 1, "one line says why (raise)")
check(why(r) and why(r)[0].startswith("tide: failed: every iteration raised an error (10 of 10: ")
      and "boom in every iteration" in why(r)[0], "it says every iteration raised", why(r))
jf = junit_failures(os.path.join(work, "raise"))
check_eq(jf.get(("run", "script errors")), "script", "junit: script errors case fails")
r = tide_run(sometimes, url, "--vus", "1", "--iterations", "20")
check_eq(r.returncode, 99, "25 % of iterations raising: exit 99")
check(why(r) and "5 script errors in 20 iterations (25.0%" in why(r)[0], "the script error share",
      why(r))

# --- a user threshold on the same metric replaces the default; the others stay ---
r = tide_run(get, bad_url, "--iterations", "10", "--threshold", "http_req_failed: rate<=1",
             out="override")
check_eq(r.returncode, 0, "a threshold on http_req_failed replaces the default")
s = load_json(os.path.join(work, "override", "summary.json"))
check_eq(sorted(defaults(s)), ["iterations", "tide_script_errors"], "the others stay")
check_eq([(t["metric"], t["source"]) for t in s["thresholds"] if t["source"] != "default"],
         [("http_req_failed", "cli")], "the user's threshold is listed")
check_eq(s["run"].get("reason", "missing"), None, "no reason for a passing run")
tagged = write(work, "tagged.lua", """
local http = require "tide.http"
options = { thresholds = { ["http_req_failed{name:/health}"] = { "rate<=1" } } }
function run() http.get("/health") end
""")
r = tide_run(tagged, bad_url, "--iterations", "10")
check_eq(r.returncode, 0, "a tagged threshold in the script replaces the default too")
r = tide_run(raising, url, "--iterations", "10", "--threshold", "tide_script_errors: count<100")
check_eq(r.returncode, 0, "a threshold on tide_script_errors replaces its default")
r = tide_run(get, bad_url, "--iterations", "10", "--threshold", "http_req_duration: p(95)<60000")
check_eq(r.returncode, 99, "a threshold on another metric leaves the default in place")

# --- --no-default-thresholds: exit 0 as before, nothing listed ---
r = tide_run(get, dead_url, "--iterations", "10", "--no-default-thresholds", out="nodefaults")
check_eq(r.returncode, 0, "--no-default-thresholds: refused requests exit 0")
s = load_json(os.path.join(work, "nodefaults", "summary.json"))
check_eq(s["thresholds"], [], "no default listed")
check_eq(junit_failures(os.path.join(work, "nodefaults")), {}, "junit of a passed run: no failure")

# --- Locust's flags: Locust's rule, exit 1 or --exit-code-on-error N ---
locust = ["-u", "2", "-t", "1s", "--headless"]
r = run(["-f", get, "-H", dead_url, *locust], timeout=60)
check_eq(r.returncode, 1, "Locust flags, refused: exit 1")
check_eq(len(why(r)), 1, "one line says why (Locust)")
r = run(["-f", get, "-H", dead_url, *locust, "--exit-code-on-error", "3"], timeout=60)
check_eq(r.returncode, 3, "--exit-code-on-error 3")
r = run(["-f", get, "-H", bad_url, *locust], timeout=60)
check_eq(r.returncode, 1, "Locust flags, all 503: exit 1")
r = run(["-f", mixed, "-H", url, *locust, "--csv", os.path.join(work, "lc", "stats")], timeout=60,
        env={"EVERY": "20"})
check_eq(r.returncode, 1, "Locust flags: any failed request fails (5 % here)")
check(why(r) and "(Locust's rule: any failure fails the run)" in why(r)[0], "says Locust's rule",
      why(r))
r = run(["-f", raising, "-H", url, *locust], timeout=60)
check_eq(r.returncode, 1, "Locust flags, raising script: exit 1")
r = run(["-f", get, "-H", url, *locust], timeout=60)
check_eq(r.returncode, 0, "Locust flags, healthy run: exit 0")
r = run(["-f", mixed, "-H", url, *locust, "--threshold", "http_req_failed: rate<0.5"],
        timeout=60, env={"EVERY": "20"})
check_eq(r.returncode, 0, "Locust flags with a threshold: tide's rules apply")
r = run(["-f", get, "-H", dead_url, *locust, "--no-default-thresholds"], timeout=60)
check_eq(r.returncode, 0, "Locust flags with --no-default-thresholds: exit 0")

# --- tide.abort(): 108, junit has the failure ---
aborting = write(work, "abort.lua", """
local http = require "tide.http"
local tide = require "tide"
function run()
  http.get("/health")
  tide.abort("no test account left")
end
""")
r = tide_run(aborting, url, "--iterations", "5", out="aborted")
check_eq(r.returncode, 108, "tide.abort: exit 108")
check(any("tide: aborted: " in l and "no test account left" in l for l in why(r)),
      "one line says why (abort)", why(r))
jf = junit_failures(os.path.join(work, "aborted"))
check_eq(jf.get(("run", "status")), "aborted", "junit of an aborted run has a failure")

# --- Ctrl-C: 130, junit has the failure ---
slow = write(work, "slow.lua", """
local http = require "tide.http"
local tide = require "tide"
function run() http.get("/health") tide.sleep(0.05) end
""")
out = os.path.join(work, "interrupted")
p = subprocess.Popen([TIDE, "run", slow, "--host", url, "--vus", "2", "--duration", "60s",
                      "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 30  # until the run folder exists (a hang guard, not a speed)
while time.time() < deadline and not os.path.exists(os.path.join(out, "events.jsonl")):
    time.sleep(0.05)
time.sleep(0.3)
so, se = signal_and_wait(p)
check_eq(p.returncode, 130, "SIGINT: exit 130")
check(se.rstrip().splitlines()[-1].startswith("tide: interrupted: interrupted by SIGINT"),
      "the last line says why (interrupted)", se[-300:])
jf = junit_failures(out)
check_eq(jf.get(("run", "status")), "interrupted", "junit of an interrupted run has a failure")

# --- refusals and per-command help ---
r = run(["run", get, "--out", "json=results.json"], cwd=work)
check_eq(r.returncode, 2, "--out json=FILE: exit 2")
check_eq(r.stderr.strip().splitlines(),
         ["tide: --out takes a folder; k6's -o json=FILE is not supported: use "
          "--stream json=FILE for a metrics stream (docs/streams.md)"], "one line with a hint")
check(not os.path.exists(os.path.join(work, "json=results.json")), "no such folder made")
r = run(["run", "--out=csv=x.csv", get], cwd=work)
check_eq(r.returncode, 2, "--out=csv=FILE: exit 2")
py = write(work, "locustfile.py", "from locust import HttpUser\n")
for argv in (["run", py], ["-f", py, "-u", "1", "-t", "1s"], [py]):
    r = run(argv, cwd=work)
    check_eq(r.returncode, 2, "a Python script: exit 2 (%s)" % " ".join(argv[:-1] or ["tide"]))
    check_eq(len(r.stderr.strip().splitlines()), 1, "one line (python)")
    check("scenarios are Lua" in r.stderr and "docs/from-locust.md" in r.stderr
          and "tide init --from-locust" in r.stderr,
          "it says scenarios are Lua and where to look", r.stderr)
r = run(["run", "--help"])
check_eq(r.returncode, 0, "tide run --help: exit 0")
check(r.stdout.startswith("usage: tide run SCRIPT") and "--no-default-thresholds" in r.stdout
      and "--exit-code-on-error" in r.stdout, "run --help prints the run options", r.stdout[:200])
r = run(["run", get, "-h"])
check_eq((r.returncode, r.stdout.startswith("usage: tide run")), (0, True), "run SCRIPT -h")
r = run(["verify", "--help"])
check_eq(r.returncode, 0, "tide verify --help: exit 0")
check(r.stdout.startswith("usage: tide verify DIR"), "verify --help prints its usage", r.stdout)
r = run(["help"])
check("--no-default-thresholds" in r.stdout and "tide run --help" in r.stdout,
      "tide help lists the run options", r.stdout[:300])

stop(target)
stop(bad_target)
done()
