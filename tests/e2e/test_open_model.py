"""End-to-end tests of the open model and of latency you can trust: arrival-rate pacing,
dropped_iterations, the coordinated-omission stall test (corrected p99 shows a server stall, the
uncorrected figure hides it), thread-count independence, and the generator-saturation flag."""
import os
from tidetest import *

work = tmpdir()
target, url = start_target()


def summary(out):
    return load_json(os.path.join(out, "summary.json"))


# --- pacing: started iterations within 1 % of rate x duration, also across 2 threads ---
pace = write(work, "pace.lua", """
local http = require "tide.http"
options = { scenarios = { open = { executor = "constant-arrival-rate", rate = 300,
  time_unit = "1s", duration = "4s", pre_allocated_vus = 20 } } }
function run() http.get("/delay?ms=5") end
""")
for threads in ("1", "2"):
    out = os.path.join(work, "pace" + threads)
    r = run(["run", pace, "--host", url, "--threads", threads, "--quiet", "--out", out])
    s = summary(out)
    it = metric(s, "iterations", "count")
    check(abs(it - 1200) <= 12, "constant-arrival-rate: 1200 +-1%% with %s threads" % threads, it)
    check_eq(metric(s, "dropped_iterations", "count"), None, "no drops with enough VUs")
    check(metric(s, "iteration_start_delay", "p95") < 5, "starts on time",
          metric(s, "iteration_start_delay", "p95"))

# --- fractional rates stay exact over time; ramping-arrival-rate integrates its stages ---
frac = write(work, "frac.lua", """
local http = require "tide.http"
options = { scenarios = {
  f = { executor = "constant-arrival-rate", rate = 7, time_unit = "2s", duration = "4s",
        pre_allocated_vus = 2 },
  r = { executor = "ramping-arrival-rate", start_rate = 0, time_unit = "1s", pre_allocated_vus = 10,
        stages = { { duration = "2s", target = 100 }, { duration = "1s", target = 100 } } },
} }
function run() http.get("/health") end
""")
out = os.path.join(work, "frac")
run(["run", frac, "--host", url, "--quiet", "--out", out])
s = summary(out)
by = {}
for x in s["series"]:
    if x["metric"] == "iterations":
        by[x["tags"]["scenario"]] = by.get(x["tags"]["scenario"], 0) + x["count"]
check_eq(by.get("f"), 14, "7 per 2 s over 4 s = 14 iterations")
check(abs(by.get("r", 0) - 200) <= 2, "ramp 0->100/s over 2 s then 1 s at 100/s = 200", by)

# --- dropped_iterations when VUs run out (and the bounded queue) ---
drop = write(work, "drop.lua", """
local http = require "tide.http"
options = { scenarios = { d = { executor = "constant-arrival-rate", rate = 100, time_unit = "1s",
  duration = "3s", pre_allocated_vus = 2, max_vus = 2, max_queue = 5 } } }
function run() http.get("/delay?ms=200") end
""")
out = os.path.join(work, "drop")
r = run(["run", drop, "--host", url, "--threads", "1", "--quiet", "--out", out])
s = summary(out)
it, dropped = metric(s, "iterations", "count"), metric(s, "dropped_iterations", "count")
check(dropped is not None and dropped > 200, "arrivals beyond VUs and queue are dropped", dropped)
check(20 <= it <= 45, "2 VUs x 5/s x 3 s (+ queued) iterations ran", it)
check(abs(it + dropped - 300) <= 2, "every arrival is either run or counted as dropped",
      (it, dropped))

# --- think time inside an iteration is not latency ---
think = write(work, "think.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { scenarios = { t = { executor = "constant-arrival-rate", rate = 5, time_unit = "1s",
  duration = "2s", pre_allocated_vus = 5 } } }
function run()
  http.get("/health", { name = "first" })
  tide.sleep(0.2)
  http.get("/health", { name = "second" })
end
""")
out = os.path.join(work, "think")
run(["run", think, "--host", url, "--quiet", "--out", out])
s = summary(out)
second = [x for x in s["series"] if x["metric"] == "http_req_duration" and x["tags"]["name"] == "second"]
check(second and second[0]["max"] < 50, "a sleep before a request is not counted in its duration",
      second and second[0]["max"])

# --- max_vus below the thread count: every arrival still runs (or is counted) ---
few = write(work, "few.lua", """
local http = require "tide.http"
options = { scenarios = { f = { executor = "constant-arrival-rate", rate = 10, time_unit = "1s",
  duration = "2s", pre_allocated_vus = 1, max_vus = 1 } } }
function run() http.get("/health") end
""")
for threads in ("1", "2"):
    out = os.path.join(work, "few" + threads)
    run(["run", few, "--host", url, "--threads", threads, "--quiet", "--out", out])
    s = summary(out)
    check_eq(metric(s, "iterations", "count"), 20, "1 VU, %s threads: all 20 arrivals ran" % threads)

# --- VUs still in vu_setup are not "busy": no extra VUs are created for them ---
vs = write(work, "vusetup.lua", """
local http = require "tide.http"
options = { scenarios = { a = { executor = "constant-arrival-rate", rate = 10, time_unit = "1s",
  duration = "2s", pre_allocated_vus = 5, max_vus = 10 } } }
function vu_setup() http.get("/delay?ms=300") end
function run() http.get("/health") end
""")
out = os.path.join(work, "vusetup")
r = run(["run", vs, "--host", url, "--out", out])
s = summary(out)
check_eq(metric(s, "vus_max", "max"), 5, "slow vu_setup does not add VUs")
check("pre-allocated VUs are busy" not in r.stderr, "no busy warning", r.stderr[-300:])
check_eq(metric(s, "iterations", "count"), 20, "queued arrivals run once setup is done")

# --- coordinated omission: a 1 s stall every 5 s under a constant arrival rate ---
stall_target, stall_url = start_target("--stall", "1s/5s", "--delay", "2ms")
co = write(work, "co.lua", """
local http = require "tide.http"
options = { scenarios = { co = { executor = "constant-arrival-rate", rate = 100, time_unit = "1s",
  duration = "11s", pre_allocated_vus = 5, max_vus = 5 } } }
function run() http.get("/health") end
""")
out = os.path.join(work, "co")
r = run(["run", co, "--host", stall_url, "--threads", "1", "--quiet", "--out", out], timeout=90)
stop(stall_target)
s = summary(out)
corrected = metric(s, "http_req_duration", "p99")
uncorrected = metric(s, "http_req_duration_uncorrected", "p99")
check(corrected >= 300, "corrected p99 shows the stall (>= 300 ms)", corrected)
check(uncorrected < 100, "uncorrected p99 hides it, as wrk2 explains", uncorrected)
check(metric(s, "http_req_duration", "med") < 50, "the median is unaffected",
      metric(s, "http_req_duration", "med"))

# --- results do not depend on the thread count ---
fixed = write(work, "fixed.lua", """
local http = require "tide.http"
function run() http.get("/delay?ms=20") end
""")
res = {}
for threads in ("1", "2"):
    out = os.path.join(work, "threads" + threads)
    run(["run", fixed, "--host", url, "--vus", "10", "--iterations", "300", "--threads",
         threads, "--quiet", "--out", out])
    res[threads] = summary(out)
for t in ("1", "2"):
    check_eq(metric(res[t], "http_reqs", "count"), 300, "300 requests with %s threads" % t)
    check_eq(res[t]["run"]["threads"], int(t), "threads recorded")
for p, tol in (("med", 0.1), ("p95", 0.25)):
    a, b = metric(res["1"], "http_req_duration", p), metric(res["2"], "http_req_duration", p)
    check(abs(a - b) <= max(tol * a, 2), "%s same within noise across thread counts" % p, (a, b))

# --- the generator notices when it is the bottleneck ---
busy = write(work, "busy.lua", """
local tide = require "tide"
function run()
  local t = os.clock()
  while os.clock() - t < 0.03 do end   -- 30 ms of CPU per iteration, no yield
end
""")
out = os.path.join(work, "busy")
r = run(["run", busy, "--host", url, "--vus", "4", "--duration", "3s", "--threads", "1",
         "--out", out], timeout=60)
s = summary(out)
check_eq(s["generator"]["generator_bound"], True, "saturation detected")
check_eq(s["run"]["generator_bound"], True, "run marked generator_bound")
check("saturated" in r.stderr, "a warning says so", r.stderr[-400:])
check_eq(r.returncode, 0, "not a failure by default")
r = run(["run", busy, "--host", url, "--vus", "4", "--duration", "2s", "--threads", "1",
         "--quiet", "--fail-on-saturation", "--out", os.path.join(work, "busy2")], timeout=60)
check_eq(r.returncode, 99, "--fail-on-saturation exits 99")
out = os.path.join(work, "calm")
run(["run", fixed, "--host", url, "--vus", "2", "--duration", "2s", "--quiet", "--out", out])
check_eq(summary(out)["generator"]["generator_bound"], False, "a light run is not saturated")

stop(target)
done()
