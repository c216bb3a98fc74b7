"""The generator's own open-file limit is named as such (issue 15): too low to run at all is
one line and exit 2 before anything starts (the event library used to abort, exit 134); low
is handled by sharing the descriptors that are really free (every request goes through,
where 99.7 % used to fail as "Couldn't connect to server"); and descriptors running out
during a run make requests fail as "open-file limit reached on the load generator", never
blamed on the target, with the run's report written."""
import os
import resource
import subprocess
import time
from tidetest import *

target, url = start_target()
work = tmpdir()
get = write(work, "get.lua", """
local http = require "tide.http"
function run() http.get("/health") end
""")


def limit(n):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


# --- far too low: one clear line, exit 2, no abort ---
out = os.path.join(work, "ten")
p = subprocess.run([TIDE, "run", get, "--host", url, "--vus", "50", "--iterations", "100",
                    "--out", out], capture_output=True, text=True, timeout=60,
                   preexec_fn=limit(10))
check_eq(p.returncode, 2, "limit 10: exit 2, not an abort (134)")
lines = p.stderr.strip().splitlines()
check(len(lines) == 1 and "open-file limit" in lines[0] and "load generator" in lines[0],
      "limit 10: one line naming the generator's open-file limit", p.stderr)
check(not os.path.exists(out), "limit 10: nothing started, no run folder")

# --- low: the free descriptors are shared, every request goes through ---
out = os.path.join(work, "low")
p = subprocess.run([TIDE, "run", get, "--host", url, "--vus", "50", "--iterations", "500",
                    "--quiet", "--out", out], capture_output=True, text=True, timeout=120,
                   preexec_fn=limit(32))
check(p.returncode == 0, "limit 32, 50 VUs: exit 0", p.stderr[-400:])
check("Couldn't connect" not in p.stderr, "limit 32: nothing blamed on the target")
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "http_reqs", "count"), 500, "limit 32: every request counted")
check_eq(metric(s, "http_req_failed", "passes"), 0, "limit 32: no request failed")

# --- running out during the run: the limit lowered under a running tide, then raised ---
close = write(work, "close.lua", """
local http = require "tide.http"
local tide = require "tide"
function run()
  http.get("/health", { headers = { Connection = "close" } })  -- a new socket each time
  tide.sleep(0.02)
end
""")
out = os.path.join(work, "mid")
proc = subprocess.Popen([TIDE, "run", close, "--host", url, "--vus", "4", "--duration", "4s",
                         "--threads", "1", "--quiet", "--out", out], stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True)
time.sleep(1.5)
soft, hard = resource.prlimit(proc.pid, resource.RLIMIT_NOFILE)
resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (3, hard))  # no new descriptor at all
time.sleep(1)
resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (soft, hard))  # the report needs files
try:
    err = proc.communicate(timeout=60)[1]
except subprocess.TimeoutExpired:
    proc.kill()
    err = proc.communicate()[1]
check(proc.returncode in (0, 99), "mid-run: the run completes", (proc.returncode, err[-400:]))
check(err.count("ran out of file descriptors") == 1,
      "mid-run: one line says the generator ran out", err[-600:])
check("Couldn't connect" not in err, "mid-run: nothing blamed on the target")
s = load_json(os.path.join(out, "summary.json"))
kinds = {e["error"]: e["occurrences"] for e in s["errors"]}
check(any("Open-file limit reached on the load generator" in k for k in kinds),
      "mid-run: the failures name the generator's limit", kinds)
check(not any("connect" in k.lower() for k in kinds), "mid-run: not a connect failure", kinds)
check_eq(sum(kinds.values()), metric(s, "http_req_failed", "passes"),
         "mid-run: every failure counted in errors")
stop(target)
done()
