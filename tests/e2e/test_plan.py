"""The plan (issue 16, item 2): `tide run` prints what it will do on stderr before the first
request, with where each setting came from, and warnings; `tide inspect` prints the same plan
without running anything (no setup(), no request: the target's /_stats stays at 0), as JSON with
--json, and exits 99 with --strict when there is a warning. Each warning has its case here."""
import json
import os
import subprocess
import time
from tidetest import *

target, url = start_target()
work = tmpdir()


def requests_seen():
    return http_json(url + "/_stats")["total_requests"]


def inspect(*args, env=None, cwd=None):
    return run(["inspect", *args], timeout=60, env=env, cwd=cwd)


def plan_json(*args, env=None, cwd=None):
    r = inspect(*args, "--json", env=env, cwd=cwd)
    check_eq(r.returncode, 0, "inspect --json %s exits 0" % (args,))
    try:
        return json.loads(r.stdout)
    except ValueError:
        check(False, "inspect --json prints JSON", r.stdout[:300] + r.stderr[:300])
        return {"warnings": [], "scenarios": [], "thresholds": [], "outputs": [], "settings": []}


def warnings(plan, kind):
    return [w["message"] for w in plan["warnings"] if w["kind"] == kind]


# --- a script whose setup() and iterations send requests ---
script = write(work, "s.lua", """
local http = require "tide.http"
local tide = require "tide"
options = {
  host = "%s",
  scenarios = {
    readers = { executor = "per-vu-iterations", vus = 2, iterations = 2, tags = { kind = "read" } },
  },
  thresholds = { ["http_req_duration{scenario:readers}"] = { "p(95)<5000" } },
}
function setup() http.get("/health") return {} end
function run() http.get("/health") end
""" % url)

# --- inspect: the plan, nothing sent, setup() not run ---
before = requests_seen()
r = inspect(script)
check_eq(r.returncode, 0, "inspect exits 0")
check(r.stdout.startswith("tide: plan of " + script), "inspect prints the plan on stdout",
      r.stdout[:200])
for text in ("scenario readers, exec run()", "per-vu-iterations", "(script)",
             "threshold http_req_duration{scenario:readers}: p(95)<5000",
             "default check http_req_failed: rate<0.1", "output run folder"):
    check(text in r.stdout, "the plan shows " + text, r.stdout)
check_eq(warnings(plan_json(script), "threshold"), [], "no warning on a threshold that matches")
time.sleep(0.3)
check_eq(requests_seen(), before, "inspect sent no request (setup() did not run)")
check_eq(os.path.exists(os.path.join(work, "report")), False, "inspect made no run folder")

# --- the JSON shape (docs/cli.md#tide-inspect) ---
p = plan_json(script, "--vus", "3", "--duration", "2s", "--env", "K=hidden-value-123")
check_eq(p["plan_version"], 1, "plan_version")
check_eq(p["script"], script, "script")
check_eq(p["config_file"], None, "no config file")
check_eq(p["host"], {"value": url, "source": "script"}, "host from the script")
check_eq(p["threads"]["source"], "default", "threads: default")
sc = p["scenarios"][0]
check_eq(sc["name"], "default", "load flags make the default scenario")
check_eq(sc["executor"], {"value": "constant-vus", "source": "cli"}, "executor and its source")
check_eq(sc["vus"], {"value": 3, "source": "cli"}, "vus from the cli")
check_eq(sc["duration"], {"value": "2s", "source": "cli"}, "duration from the cli")
check_eq(sc["graceful_stop"], {"value": "30s", "source": "default"}, "graceful_stop default")
check_eq(sc["exec"], "run", "exec")
check_eq(p["thresholds"], [{"metric": "http_req_duration{scenario:readers}",
                            "expression": "p(95)<5000", "source": "script",
                            "abort_on_fail": False}], "thresholds")
check_eq(p["default_checks"]["rule"], "defaults", "default checks' rule")
check_eq([c["metric"] for c in p["default_checks"]["active"]],
         ["http_req_failed", "tide_script_errors", "iterations"], "active default checks")
check_eq(p["outputs"][0]["kind"], "run folder", "outputs: the run folder")
check_eq(p["outputs"][0]["writable"], True, "run folder writable")
settings = {s["flag"]: s for s in p["settings"]}
check_eq(settings["--vus"], {"flag": "--vus", "value": "3", "source": "cli"}, "settings: --vus")
check_eq(settings["--env"]["value"], "K=***", "an --env value is not shown")
check("hidden-value-123" not in json.dumps(p), "the --env secret is nowhere in the plan")
check(all(set(w) == {"kind", "message"} for w in p["warnings"]), "warnings: kind and message")

# --- warning: load flags replace the script's scenarios; its scenario threshold then never
# matches ---
check(any("--vus (cli)" in w and "options.scenarios" in w for w in warnings(p, "override")),
      "override warning: load flags replace options.scenarios", p["warnings"])
check(any("{scenario:readers}" in w and "no scenario is named readers" in w
          for w in warnings(p, "threshold")), "threshold warning: no scenario readers",
      p["warnings"])

# --- warning: a flag (here from the environment) over the script's option ---
p = plan_json(script, env={"TIDE_HOST": "http://127.0.0.1:9"})
check(any(w.startswith("--host (env) overrides the script's options.host")
          for w in warnings(p, "override")), "override warning names the flag and its layer",
      p["warnings"])
check_eq(p["host"], {"value": "http://127.0.0.1:9", "source": "env"}, "host from env")

# --- warning: a metric nobody records, a custom metric never declared, dropped_iterations in
# a closed model ---
metrics_script = write(work, "m.lua", """
local http = require "tide.http"
local metrics = require "tide.metrics"
local logins = metrics.counter("logins")
options = { thresholds = { logins = { "count>0" }, logouts = { "count>0" },
                           dropped_iterations = { "count==0" } } }
function run() logins:add(1) end
""")
p = plan_json(metrics_script)
tw = warnings(p, "threshold")
check(any("no metric named logouts" in w for w in tw), "a custom metric never declared", tw)
check(not any("logins" in w for w in tw), "a declared custom metric is no warning", tw)
check(any("dropped_iterations" in w and "arrival-rate" in w for w in tw),
      "dropped_iterations without an arrival-rate scenario", tw)

# --- warning: an arrival rate the VU pool cannot sustain (rule: max_vus < rate x expected
# iteration duration, default 1 s) ---
rate_script = write(work, "rate.lua", """
local http = require "tide.http"
options = { scenarios = {
  fast = { executor = "constant-arrival-rate", rate = 50, duration = "1s", pre_allocated_vus = 5,
           expected_iteration_duration = "50ms" },
  slow = { executor = "ramping-arrival-rate", start_rate = 5, time_unit = "1s",
           stages = { { duration = "1s", target = 40 } }, pre_allocated_vus = 4, max_vus = 30 },
} }
function run() http.get("/health") end
""")
p = plan_json(rate_script)
vw = warnings(p, "vus")
check_eq(len(vw), 1, "one scenario short of VUs (fast declares 50 ms iterations: 3 VUs do)")
check(vw and "scenario slow: 40 iterations/s at 1s each need about 40 VUs, but max_vus is 30"
      in vw[0], "the rule's numbers in the warning", vw)
fast = [s for s in p["scenarios"] if s["name"] == "fast"][0]
check_eq(fast["expected_iteration_duration"], {"value": "50ms", "source": "script"},
         "the declared estimate and its source")
p = plan_json(script, "--rate", "20", "--duration", "1s", "--vus", "5")
check(any("20 iterations/s at 1s each need about 20 VUs, but max_vus is 5" in w
          for w in warnings(p, "vus")), "--rate beyond --vus warns", p["warnings"])

# --- warning: an output that cannot be written (inspect: a warning; run: exit 2, one line,
# nothing sent) ---
blocker = write(work, "blocker", "a file, not a folder")
p = plan_json(script, "--csv", os.path.join(blocker, "stats"))
check(any(w.startswith("--csv %s/stats cannot be written" % blocker)
          for w in warnings(p, "output")), "output warning", p["warnings"])
check_eq([o["writable"] for o in p["outputs"] if o["kind"] == "csv"], [False],
         "outputs: csv not writable")
before = requests_seen()
for flag in ("--out", "--html", "--stream"):
    value = os.path.join(blocker, "x")
    if flag == "--stream":
        value = "json=" + value
    r = run(["run", script, flag, value], timeout=60)
    check_eq(r.returncode, 2, "run with an unwritable %s: exit 2" % flag)
    check(len(r.stderr.strip().splitlines()) == 1 and "blocker" in r.stderr,
          "unwritable %s: one line" % flag, r.stderr)
check_eq(requests_seen(), before, "nothing sent when an output cannot be written")

# --- --strict: 99 and one line per warning; 0 without warning; a bad script: 2, one line ---
r = inspect(script, "--vus", "2", "--strict")
check_eq(r.returncode, 99, "--strict with warnings: exit 99")
lines = [l for l in r.stderr.splitlines() if l.startswith("tide: warning: ")]
check_eq(len(lines), 2, "one stderr line per warning (override, threshold)")
r = inspect(script, "--strict")
check_eq(r.returncode, 0, "--strict without warning: exit 0")
check_eq(r.stderr, "", "nothing on stderr")
r = inspect(script, "--strict", "--json")
check_eq(r.returncode, 0, "--strict --json without warning: exit 0")
bad = write(work, "bad.lua", "options = {\n")
r = inspect(bad)
check_eq(r.returncode, 2, "a script that does not load: exit 2")
check(len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("tide: "),
      "one line", r.stderr)
r = inspect(script, "--vus", "x")
check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, "a bad flag: 2, one line",
      r.stderr)

# --- tide run: the plan on stderr before the first request ---
# --start-at holds the load 3 s after the plan; setup() has nothing to send here.
plain = write(work, "plain.lua", """
local http = require "tide.http"
function run() http.get("/health") end
""")
before = requests_seen()
out = os.path.join(work, "run1")
p = subprocess.Popen([TIDE, "run", plain, "--host", url, "--iterations", "3", "--start-at",
                      "now+3s", "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True)
plan_lines, seen_at_plan = [], None
deadline = time.time() + 30
while time.time() < deadline:
    line = p.stderr.readline()
    if not line:
        break
    plan_lines.append(line)
    if line.startswith("  output "):
        seen_at_plan = requests_seen()  # the plan is out: nothing may have been sent yet
        break
rest_out, rest_err = p.communicate(timeout=60)
check(plan_lines and plan_lines[0].startswith("tide: plan of " + plain),
      "run prints the plan first on stderr", plan_lines[:3])
check_eq(seen_at_plan, before, "no request before the plan was printed")
check_eq(p.returncode, 0, "the run passes")
check_eq(requests_seen(), before + 3, "then the run sent its requests")
check("iterations" in "".join(plan_lines) and "(cli)" in "".join(plan_lines),
      "the printed plan shows the flags' source", plan_lines)

# the plan comes before setup()'s own output, and --quiet leaves only warnings
logged = write(work, "logged.lua", """
local tide = require "tide"
local http = require "tide.http"
function setup() tide.log.warn("SETUP-RAN") end
function run() http.get("/health") end
""")
r = run(["run", logged, "--host", url, "--out", os.path.join(work, "run2")], timeout=60)
err = r.stderr
check("tide: plan of" in err and "SETUP-RAN" in err and
      err.index("tide: plan of") < err.index("SETUP-RAN"), "plan before setup()", err)
r = run(["run", script, "--vus", "1", "--iterations", "1", "--quiet", "--out",
         os.path.join(work, "run3")], timeout=60)
check("plan of" not in r.stderr, "--quiet: no plan block", r.stderr)
check("tide: warning: load flags --vus (cli), --iterations (cli) replace" in r.stderr,
      "--quiet: the plan's warnings still show", r.stderr)

stop(target)
done()
