"""Latency accuracy: against a target with a known delay (fixed 20 ms; a bimodal mix of 90 %
10 ms and 10 % 200 ms), tide's p50/p95/p99 agree with the truth. The goal (bench/accuracy.sh
reports it) is 1 % or 0.5 ms, whichever is larger; this test fails beyond 1 % or 1 ms for
p50/p95 and 1 % or 2 ms for p99, because on a shared 2-core VM the client's wake-up after a
response adds a scheduling tail that the goal does not allow for (docs/performance.md). The truth is what the server measured for the same requests (request parsed ->
response written, /_stats service_ms), with --precise (microsecond timers) so that it is close
to the configured delay; the load is open-model so responses do not arrive in bursts. Each
case runs three times and the median of the three differences is judged, so one descheduling
of the VM does not decide the result."""
import statistics
import os
from tidetest import *

work = tmpdir()
scenario = write(work, "acc.lua", """
local http = require "tide.http"
options = { scenarios = { a = { executor = "constant-arrival-rate", rate = 150, time_unit = "1s",
  duration = "6s", pre_allocated_vus = 60 } } }
function run() http.get("/health", { discard_body = true }) end
""")


def measure(*target_args):
    p, url = start_target("--precise", *target_args)
    out = os.path.join(work, "-".join(a.replace(":", "_") for a in target_args))
    run(["run", scenario, "--host", url, "--threads", "1", "--quiet", "--out", out], timeout=120)
    truth = http_json(url + "/_stats")["service_ms"]
    stop(p)
    return load_json(os.path.join(out, "summary.json"))["metrics"]["http_req_duration"], truth


def within(got, truth, what, floor=0.5):
    tol = max(0.01 * truth, floor)
    check(abs(got - truth) <= tol, what, "(tide %.3f ms, server %.3f ms, tolerance %.3f ms)"
          % (got, truth, tol))


def judge(name, target_args, modes):
    runs = [measure(*target_args) for _ in range(3)]
    for m, truth in runs:
        check_eq(truth["count"], 900, name + ": the server saw every request")
    for want, key in modes:
        within(statistics.median(t[key] for _, t in runs), want,
               "%s: the server's %s is the configured delay" % (name, key))
    for p, key in (("med", "p50"), ("p95", "p95"), ("p99", "p99")):
        diffs = [m[p] - t[key] for m, t in runs]
        d = statistics.median(diffs)
        truth = statistics.median(t[key] for _, t in runs)
        within(truth + d, truth, "%s: %s (differences %s)" % (
            name, p, ", ".join("%+.3f" % x for x in diffs)), floor=2.0 if p == "p99" else 1.0)


judge("fixed 20 ms", ("--delay", "20ms"), [(20.0, "p50")])
judge("bimodal", ("--delay-dist", "bimodal:0.9:10ms:200ms", "--seed", "7"),
      [(10.0, "p50"), (200.0, "p99")])
done()
