"""Bad conditions get a clear one-line error and the right exit code, and nothing already
measured is lost: an unwritable output folder, a misbehaving server (connection resets, garbage
responses, slow bodies), more VUs than file descriptors. The full disk is test_full_disk.py (it
needs root, and is skipped visibly without it)."""
import os
import resource
import subprocess
from tidetest import *

target, url = start_target()
work = tmpdir()
get = write(work, "get.lua", """
local http = require "tide.http"
function run() http.get("/health") end
""")

# --- an output folder that cannot be created ---
blocker = write(work, "blocker", "a file, not a folder")
r = run(["run", get, "--host", url, "--iterations", "3", "--out", os.path.join(blocker, "x")])
check_eq(r.returncode, 2, "unwritable --out: exit 2, checked before the run (the plan)")
check("blocker" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
      "unwritable --out: one line naming the path", r.stderr)

# --- a misbehaving server: every kind of failure is counted with its error ---
bad_target, bad_url = start_target("--reset-rate", "0.3", "--malformed-rate", "0.2", "--seed", "3")
out = os.path.join(work, "bad")
r = run(["run", get, "--host", bad_url, "--vus", "4", "--iterations", "300", "--quiet",
         "--out", out])
stop(bad_target)
# about half the requests fail: measured, and failed by the default error-rate check (99, with
# one line saying why), not an internal error (1)
check_eq(r.returncode, 99, "a misbehaving server is measured, not an internal error")
check("tide: failed: " in r.stderr and "requests failed" in r.stderr,
      "one line says how many requests failed", r.stderr[-500:])
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "http_reqs", "count"), 300, "every request counted")
rate = metric(s, "http_req_failed", "rate")
# garbage (20 %) always fails; a reset (30 %) of a kept connection before any answer is sent
# once more (a GET: http_req_retries), so only some resets fail: between 0.2 and 0.44 expected
check(0.15 < rate < 0.7, "resets and garbage are failures", rate)
retries = metric(s, "http_req_retries", "count")
check(retries is not None and retries > 0, "resets of kept connections were re-sent, counted",
      retries)
kinds = " ".join(e["error"] for e in s["errors"])
check("curl 56" in kinds or "curl 52" in kinds or "curl 55" in kinds, "resets reported", kinds)
check("curl 1)" in kinds or "curl 8)" in kinds, "garbage responses reported", kinds)

# --- slow bodies: timings say where the time went ---
slow_target, slow_url = start_target("--slow-body", "300ms")
out = os.path.join(work, "slow")
run(["run", write(work, "bytes.lua", """
local http = require "tide.http"
function run() http.get("/bytes/5000") end
"""), "--host", slow_url, "--iterations", "3", "--quiet", "--out", out])
stop(slow_target)
s = load_json(os.path.join(out, "summary.json"))
check(metric(s, "http_req_receiving", "min") >= 200, "a slow body shows in http_req_receiving",
      metric(s, "http_req_receiving", "min"))

# --- more VUs than the open-file limit allows connections: capped and queued, no failures ---


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300))


many = write(work, "many.lua", """
local http = require "tide.http"
local tide = require "tide"
-- a count, not a duration: every VU's requests, however slow the machine
options = { scenarios = { many = { executor = "per-vu-iterations", vus = 1000, iterations = 2,
  max_duration = "100s" } } }
function run() tide.think(0, 2) http.get("/health") end
""")
out = os.path.join(work, "many")
p = subprocess.run([TIDE, "run", many, "--host", url, "--threads", "1", "--out", out],
                   capture_output=True, text=True, timeout=150, preexec_fn=low_nofile)
check_eq(p.returncode, 0, "1000 VUs under a 300-file limit: exit 0")
warn = [l for l in p.stderr.splitlines() if "open-file limit" in l]
check(len(warn) == 1, "says so once", p.stderr[-500:])
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "http_req_failed", "passes"), 0, "no request failed for lack of descriptors")
check_eq(metric(s, "http_reqs", "count"), 2000, "every VU got its requests through")
check(s["generator"]["max_open_fds"] <= 300, "stayed under the limit",
      s["generator"]["max_open_fds"])

stop(target)
done()
