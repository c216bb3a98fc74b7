"""End-to-end test of several worker threads at once (the `tsan` label: `make test` also runs it
in a ThreadSanitizer build, where any report fails it): a closed and an open-model scenario on 4
threads with lifecycle functions, hooks, a custom metric, failed requests and script errors.
Every sample crosses the per-second handover from the workers to the coordinator, so the
totals must match what the server counted and what the script did: nothing lost, nothing
merged twice. Then an interrupted run, which stops the threads mid-second."""
import os
import signal
import subprocess
from tidetest import *

TSAN_WARNING = "WARNING: ThreadSanitizer"
target, url = start_target()
work = tmpdir()


def served(route=None):
    """Responses the target sent for one route, or for all of them."""
    reqs = http_json(url + "/_stats")["requests"]
    routes = [route] if route else list(reqs)
    return sum(sum(reqs.get(k, {}).values()) for k in routes)


script = write(work, "threads.lua", """
local http = require "tide.http"
local tide = require "tide"
local metrics = require "tide.metrics"
local mine = metrics.counter("thread_iters")
local waits = metrics.trend("thread_wait", true)
tide.hooks.on("test_start", function(info) tide.log.info("hook start " .. info.id) end)
tide.hooks.on("test_end", function() tide.log.info("hook end") end)
options = {
  scenarios = {
    closed = { executor = "constant-vus", vus = 8, duration = "2s" },
    open = { executor = "constant-arrival-rate", rate = 40, duration = "2s",
             preAllocatedVUs = 4, maxVUs = 16 },
  },
}
function setup() return { n = 3 } end
function run(data)
  local r = http.get("/health", { name = "/health" })
  tide.check(r, { ["health 200"] = r.status == 200 })
  mine:add(1)
  waits:add(data.n)
  if tide.vu.iteration % 10 == 0 then
    http.get("/no-such-route", { name = "/missing" })
  end
  if tide.vu.iteration % 25 == 0 then
    error("planned failure")
  end
end
function teardown(data) tide.log.info("teardown " .. data.n) end
""")

http_json(url + "/_stats/reset", method="POST", body={})
out = os.path.join(work, "run")
r = run(["run", script, "--host", url, "--threads", "4", "--out", out], timeout=180)
check(TSAN_WARNING not in r.stderr, "no ThreadSanitizer report", r.stderr[-3000:])
check_eq(r.returncode, 0, "4-thread run exit code")
check("hook start" in r.stderr and "hook end" in r.stderr and "teardown 3" in r.stderr,
      "hooks and lifecycle functions ran", r.stderr[-1000:])
s = load_json(os.path.join(out, "summary.json"))
iters = metric(s, "iterations", "count")
check(iters is not None and iters > 0, "iterations ran", iters)
check_eq(metric(s, "thread_iters", "count"), iters, "custom counter: one per iteration, merged once")
check_eq(metric(s, "thread_wait", "count"), iters, "custom trend: one sample per iteration")
health, total = served("GET /health"), served()
reqs = metric(s, "http_reqs", "count")
check_eq(reqs, total, "http_reqs equals what the server answered")
check_eq(metric(s, "checks", "passes"), health, "one passing check per /health request")
errs = {e["name"]: e["occurrences"] for e in s.get("errors", [])}
check(total > health, "some requests went to a missing route", (total, health))
check_eq(errs.get("/missing"), total - health, "failed requests counted once each")
script_errors = sum(e.get("occurrences", e.get("count", 0)) for e in s.get("script_errors", []))
check(script_errors > 0, "script errors counted", s.get("script_errors"))
check_eq(run(["verify", out]).returncode, 0, "run folder verifies")

# --- interrupted mid-run: the threads stop and hand over their partial second ---
long_script = write(work, "long.lua", """
local http = require "tide.http"
options = { scenarios = {
  closed = { executor = "constant-vus", vus = 8, duration = "30s" },
  open = { executor = "constant-arrival-rate", rate = 40, duration = "30s", preAllocatedVUs = 4 },
} }
function run() http.get("/health") end
""")
out = os.path.join(work, "interrupted")
p = subprocess.Popen([TIDE, "run", long_script, "--host", url, "--threads", "4", "--quiet",
                      "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 60
while time.time() < deadline and not os.path.isdir(out):
    time.sleep(0.1)
time.sleep(1.5)
p.send_signal(signal.SIGINT)
try:
    _, err = p.communicate(timeout=120)
except subprocess.TimeoutExpired:
    p.kill()
    _, err = p.communicate()
check(TSAN_WARNING not in err, "no ThreadSanitizer report when interrupted", err[-3000:])
check_eq(p.returncode, 130, "interrupted exit code")
s = load_json(os.path.join(out, "summary.json"))
check_eq(s["run"]["status"], "interrupted", "report marked interrupted")
check((metric(s, "http_reqs", "count") or 0) > 0, "interrupted run still reports its requests")

# --- stopped from inside: a threshold's abortOnFail (the coordinator wakes every worker) and
# tide.abort() in one VU (the workers see the shared flag) ---
stops = write(work, "stops.lua", """
local http = require "tide.http"
local tide = require "tide"
options = {
  scenarios = {
    closed = { executor = "constant-vus", vus = 8, duration = "20s" },
    open = { executor = "ramping-arrival-rate", start_rate = 10, preAllocatedVUs = 4,
             maxVUs = 16, stages = { { duration = "10s", target = 60 } } },
  },
  thresholds = { http_req_failed = { { threshold = "rate<0.01", abortOnFail = true } } },
}
function run()
  http.get("/health")
  if tide.env("MODE") == "threshold" and tide.vu.iteration > 20 then http.get("/nope") end
  if tide.env("MODE") == "abort" and tide.vu.iteration > 20 and tide.vu.id == 2 then
    tide.abort("enough")
  end
end
""")
for mode, code in (("threshold", 99), ("abort", 108)):
    out = os.path.join(work, "stop-" + mode)
    r = run(["run", stops, "--host", url, "--threads", "4", "--quiet", "--env", "MODE=" + mode,
             "--out", out], timeout=120)
    check(TSAN_WARNING not in r.stderr, "no ThreadSanitizer report (%s)" % mode, r.stderr[-3000:])
    check_eq(r.returncode, code, "stopped by %s: exit code" % mode)
    s = load_json(os.path.join(out, "summary.json"))
    check(s["run"]["duration_s"] < 15, "stopped by %s before the end" % mode, s["run"])

stop(target)
done()
