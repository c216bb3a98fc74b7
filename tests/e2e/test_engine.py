"""End-to-end tests of the engine: the real binary against `tide target` on loopback.

Counts seen by the server equal tide's; stages reach their targets; cookies are per VU; a broken
script exits 2 with file:line; bad options exit 2; Ctrl-C exits 130 with a summary; an
unreachable server is reported, not fatal; Locust's command line works."""
import os
import signal
import subprocess
import time
from tidetest import *

target, url = start_target()
work = tmpdir()


def stats():
    return http_json(url + "/_stats")


def reset():
    http_json(url + "/_stats/reset", method="POST", body={})


# --- request counts: client == server, exactly, for an iterations executor ---
script = write(work, "counts.lua", """
local http = require "tide.http"
function run()
  http.get("/health")
  http.post("/echo", { json = { a = 1 } })
  http.get("/status/404", { expect = { 404 } })
end
""")
reset()
conns_before = stats()["connections"]["total"]
out = os.path.join(work, "counts")
r = run(["run", script, "--host", url, "--vus", "7", "--iterations", "300", "--quiet",
         "--out", out])
check_eq(r.returncode, 0, "counts run exit code")
s = load_json(os.path.join(out, "summary.json"))
full = stats()
st = full["requests"]
served = {k: sum(v.values()) for k, v in st.items()}
check_eq(metric(s, "iterations", "count"), 300, "shared iterations: exactly 300")
check_eq(metric(s, "http_reqs", "count"), 900, "http_reqs counted by tide")
check_eq(served.get("GET /health"), 300, "server saw 300 GET /health")
check_eq(served.get("POST /echo"), 300, "server saw 300 POST /echo")
eps = {(e["method"], e["name"]): e["requests"] for e in s["endpoints"]}
check_eq(eps.get(("GET", "/health")), served.get("GET /health"), "client == server per route")
check_eq(eps.get(("GET", "/status/{id}")), 300, "ids folded in names")
check_eq(s["aggregated"]["failures"], 0, "expected 404s are not failures")
# keep-alive: at most one connection per VU (the two /_stats calls around the run are the
# others); fewer when some VU found the 300 shared iterations taken before it started (a busy
# machine), never more
conns = full["connections"]["total"] - conns_before - 1
check(1 <= conns <= 7, "keep-alive: at most one connection per VU", conns)

# --- the same with several threads and per-vu-iterations ---
script2 = write(work, "pervu.lua", """
local http = require "tide.http"
options = { scenarios = { a = { executor = "per-vu-iterations", vus = 5, iterations = 11 } } }
function run() http.get("/health") end
""")
reset()
out = os.path.join(work, "pervu")
r = run(["run", script2, "--host", url, "--threads", "2", "--quiet", "--out", out])
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "http_reqs", "count"), 55, "per-vu-iterations over 2 threads: 5 x 11")
check_eq(sum(stats()["requests"]["GET /health"].values()), 55, "server saw 55")

# --- stages reach their targets (VUs sampled each second) ---
script3 = write(work, "ramp.lua", """
local http = require "tide.http"
local tide = require "tide"
function run() http.get("/health") tide.sleep(0.05) end
""")
out = os.path.join(work, "ramp")
r = run(["run", script3, "--host", url, "--stage", "2s:10", "--stage", "2s:10", "--stage",
         "1s:0", "--quiet", "--out", out], timeout=60)
check_eq(r.returncode, 0, "ramp exit code")
s = load_json(os.path.join(out, "summary.json"))
vus = [row["vus"] for row in s["history"]]
check(max(vus) == 10, "ramping-vus reaches 10 VUs", vus)
check(vus[0] < 10, "ramping starts below the target", vus)
# Ramping down to 0 ends the VUs at the stage's end; were they not asked to stop, the run would
# wait out graceful_ramp_down (30 s) and interrupt them. (The last history row is the peak of
# a partial second, which a busy machine can shift, so it is not the measure.)
check(s["run"]["duration_s"] < 20, "ramps down at the end: the run ends with its stages",
      s["run"]["duration_s"])
check_eq(metric(s, "vus_max", "max"), 10, "vus_max")

# --- a VU whose vu_setup fails is not replaced over and over ---
setupfail = write(work, "setupfail.lua", """
function vu_setup() error("login failed") end
function run() end
""")
out = os.path.join(work, "setupfail")
r = run(["run", setupfail, "--host", url, "--vus", "2", "--duration", "1s", "--out", out])
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "vus_max", "max"), 2, "VUs with a failing vu_setup are not replaced")
check("not replaced" in r.stderr, "says so once", r.stderr[-300:])
check(s["script_errors"] and "vu_setup: " in s["script_errors"][0]["message"],
      "the vu_setup error is reported", s["script_errors"])

# --- VU gauges of a run shorter than a second ---
out = os.path.join(work, "short")
run(["run", script, "--host", url, "--vus", "3", "--iterations", "30", "--quiet", "--out", out])
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "vus_max", "max"), 3, "vus_max of a sub-second run")
check(metric(s, "vus", "max") >= 1, "vus of a sub-second run", metric(s, "vus", "max"))

# --- help and usage ---
r = run(["run", "--help"])
check_eq(r.returncode, 0, "tide run --help exits 0")
check("--vus N" in r.stdout, "run --help prints the options")
r = run(["verify", os.path.join(work, "no-such-run")])
check_eq(r.returncode, 2, "tide verify on a missing folder is bad usage")

# --- Locust's command line: -f, -u, -r, -t, -H, --headless ---
out = os.path.join(work, "locust")
r = run(["run", "--headless", "-f", script3, "-u", "6", "-r", "3", "-t", "4s", "-H", url,
         "--quiet", "--out", out], timeout=60)
check_eq(r.returncode, 0, "locust-style exit code")
s = load_json(os.path.join(out, "summary.json"))
vus = [row["vus"] for row in s["history"]]
check(max(vus) == 6, "-u 6 reached", vus)
check(vus[0] < 6, "-r 3 spawns 3 per second, not all at once", vus)
check_eq([[(st["duration_s"], st["target"]) for st in x["stages"]]
          for x in s["options"]["scenarios"]], [[(2, 6), (2, 6)]],
         "-u 6 -r 3 -t 4s: a 2 s ramp to 6 at 3/s, then 6 VUs up to 4 s")
# -t bounds the run: at least 4 s; the upper bound is a hang guard (10 times), not a speed
check(3 <= s["run"]["duration_s"] <= 40, "-t 4s bounds the run", s["run"]["duration_s"])

# --- cookies are per VU ---
script4 = write(work, "cookies.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { scenarios = { c = { executor = "per-vu-iterations", vus = 3, iterations = 2 } } }
function run()
  if tide.vu.iteration == 0 then
    http.get("/cookies/set?vu=" .. tide.vu.id)
  else
    local seen = http.get("/cookies"):json()
    tide.check(seen, { ["sees only its own cookie"] = function(c) return c.cookies.vu == tostring(tide.vu.id) end })
  end
end
""")
out = os.path.join(work, "cookies")
r = run(["run", script4, "--host", url, "--quiet", "--out", out])
s = load_json(os.path.join(out, "summary.json"))
c = s["checks"][0] if s["checks"] else {}
check_eq((c.get("passes"), c.get("fails")), (3, 0), "cookie jars are per VU")

# --- a script that does not load: exit 2, file:line, nothing sent ---
bad = write(work, "broken.lua", "local http = require 'tide.http'\nfunction run()\n  http.get(\n")
reset()
r = run(["run", bad, "--host", url, "--vus", "2", "--duration", "2s"])
check_eq(r.returncode, 2, "syntax error exit code")
check(bad + ":4:" in r.stderr or "broken.lua:4:" in r.stderr, "syntax error names file:line",
      r.stderr)
check_eq(len(r.stderr.strip().splitlines()), 1, "one-line message")
check_eq(stats()["total_requests"], 0, "nothing was sent")
rt = write(work, "toplevel.lua", "local x = nil\nlocal y = x.field\nfunction run() end\n")
r = run(["run", rt, "--host", url])
check_eq(r.returncode, 2, "top-level runtime error exit code")
check("toplevel.lua:2:" in r.stderr, "top-level error names file:line", r.stderr)
nofn = write(work, "norun.lua", "local x = 1\n")
r = run(["run", nofn, "--host", url])
check_eq(r.returncode, 2, "no run() exit code")
check("run()" in r.stderr, "says run() is missing", r.stderr)

# --- bad options: exit 2 with a one-line message naming the problem ---
for args, needle in [
    (["--duration", "5x"], "unknown unit 'x'"),
    (["--vus", "-3"], "--vus"),
    (["--bogus"], "unknown option --bogus"),
    (["--threshold", "http_req_duration: p(95)<<300"], "column"),
    (["--threshold", "nosuchmetric: count>1"], "no metric named nosuchmetric"),
    (["--stage", "10s"], "DURATION:TARGET"),
]:
    r = run(["run", script, "--host", url] + args)
    check_eq(r.returncode, 2, "bad option %r exit code" % args)
    check(needle in r.stderr, "bad option %r message" % args, r.stderr)
    check_eq(len(r.stderr.strip().splitlines()), 1, "bad option %r: one line" % args)
r = run(["run", os.path.join(work, "missing.lua")])
check_eq(r.returncode, 2, "missing script exit code")
check("cannot read" in r.stderr, "missing script message", r.stderr)

# --- unreachable server: errors counted with their code, the run completes ---
port = free_port()
script5 = write(work, "unreach.lua", """
local http = require "tide.http"
local tide = require "tide"
function run()
  local r = http.get("/x")
  tide.check(r, { ["refused is an error"] = function(x) return x.error_code == 1212 and x.status == 0 end })
end
""")
out = os.path.join(work, "unreach")
r = run(["run", script5, "--host", "http://127.0.0.1:%d" % port, "--iterations", "5",
         "--quiet", "--out", out])
# measured, and failed by the default check "no request succeeded" (99), not an internal error
check_eq(r.returncode, 99, "unreachable server is not an internal error")
check("tide: failed: no request succeeded (5 of 5 failed" in r.stderr, "one line says why",
      r.stderr[-500:])
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "http_req_failed", "rate"), 1, "all requests failed")
check(any("connect" in e["error"].lower() for e in s["errors"]), "failures.csv names the error",
      s["errors"])
check_eq(s["checks"][0]["fails"], 0, "error_code 1212 for a refused connection")

# --- Ctrl-C: exit 130, summary printed, report written and marked interrupted ---
out = os.path.join(work, "sigint")
p = subprocess.Popen([TIDE, "run", script3, "--host", url, "--vus", "5", "--duration", "60s",
                      "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
reset()
deadline = time.time() + 60  # until the load has started (a hang guard, not a speed)
while time.time() < deadline and stats()["total_requests"] < 10 and p.poll() is None:
    time.sleep(0.1)
so, se = signal_and_wait(p)
check_eq(p.returncode, 130, "SIGINT exit code")
check("http_reqs" in so, "summary still printed", so[-500:])
s = load_json(os.path.join(out, "summary.json"))
check_eq(s["run"]["status"], "interrupted", "report marked interrupted")
check(metric(s, "http_reqs", "count") > 0, "requests made before Ctrl-C are kept")
check(os.path.exists(os.path.join(out, "report.html")), "report.html written")
check(s["run"]["duration_s"] < 30, "stopped long before its 60 s", s["run"]["duration_s"])

stop(target)
done()
