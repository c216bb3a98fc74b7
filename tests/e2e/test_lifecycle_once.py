"""End-to-end tests of the lifecycle runner: the scenario's top level runs once per Lua
environment (the options probe's state, which then runs setup, teardown, verify,
handle_summary and every hook, plus one per VU), globals persist across lifecycle calls, and
every lifecycle call is bounded by its time limit (--hook-timeout, options.hook_timeout,
setup_timeout, teardown_timeout): a busy loop or a request that never ends is stopped with one
line, and the run still writes its report; Ctrl-C stops a lifecycle call that waits."""
import os
from tidetest import *

target, url = start_target()
work = tmpdir()


def hook_events(out):
    ev = [json.loads(l) for l in open(os.path.join(out, "events.jsonl"))]
    return [e for e in ev if e["type"] == "hook"]


# --- the top level runs once for all the lifecycle calls and hooks, once per VU ---
plugin = write(work, "marker_plugin.lua", 'print("PLUGIN-RAN")\n')
counted = write(work, "counted.lua", """
local tide = require "tide"
print("TOP-LEVEL-RAN")
tide.hooks.on("test_start", function() end)
tide.hooks.on("test_end", function() print("HOOK-SEES " .. tostring(from_setup)) end)
function setup() from_setup = "set in setup" return { n = 1 } end
function run() end
function teardown() print("TEARDOWN-SEES " .. tostring(from_setup)) end
function verify() end
function handle_summary() return {} end
""")
out = os.path.join(work, "counted")
r = run(["run", counted, "--vus", "1", "--iterations", "1", "--plugin", plugin, "--quiet",
         "--out", out])
check_eq(r.returncode, 0, "counted run exit code")
# one environment for options + setup + teardown + verify + handle_summary + 2 hooks, one VU
check_eq(r.stderr.count("TOP-LEVEL-RAN"), 2, "top level runs once (lifecycle) + once (the VU)")
check_eq(r.stderr.count("PLUGIN-RAN"), 2, "a --plugin runs once per environment too")
check("TEARDOWN-SEES set in setup" in r.stderr, "a global set in setup() is seen by teardown()",
      r.stderr[-400:])
check("HOOK-SEES set in setup" in r.stderr, "and by the hooks", r.stderr[-400:])

r = run(["run", counted, "--vus", "3", "--iterations", "3", "--threads", "1", "--quiet",
         "--out", os.path.join(work, "counted3")])
check_eq(r.stderr.count("TOP-LEVEL-RAN"), 4, "3 VUs: 1 + 3 top-level runs")

# --- a hook stuck in a busy loop (even one wrapped in pcall) is stopped; the run ends ---
busy = write(work, "busy.lua", """
local tide = require "tide"
tide.hooks.on("test_end", function()
  while true do pcall(function() while true do end end) end
end)
function run() end
""")
out = os.path.join(work, "busy")
r = run(["run", busy, "--iterations", "1", "--hook-timeout", "1s", "--quiet", "--out", out],
        timeout=120)
check_eq(r.returncode, 0, "a stopped hook does not change the exit code")
msg = "hook test_end: still running after 1 s, stopped"
check_eq(r.stderr.count(msg), 1, "one line says the hook was stopped")
check(os.path.exists(os.path.join(out, "manifest.json")), "report written")
check_eq(run(["verify", out]).returncode, 0, "run folder verifies")
h = [e for e in hook_events(out) if e["event"] == "test_end"]
check(len(h) == 1 and not h[0]["ok"] and "still running" in h[0]["error"],
      "hook event logged as failed", h)

# --- a hook waiting on a request that does not end in time; options.hook_timeout ---
slow = write(work, "slowhook.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { hook_timeout = "1s" }
tide.hooks.on("test_start", function() http.get("/delay?ms=20000") end)
tide.hooks.on("test_end", function() tide.sleep(30) end)
function run() end
""")
out = os.path.join(work, "slowhook")
r = run(["run", slow, "--host", url, "--iterations", "1", "--quiet", "--out", out], timeout=120)
check_eq(r.returncode, 0, "slow hooks: exit 0")
check(r.stderr.count("hook test_start: still running after 1 s, stopped") == 1,
         "a hook waiting on a request is stopped at options.hook_timeout", r.stderr[-400:])
check(r.stderr.count("hook test_end: still running after 1 s, stopped") == 1,
         "a sleeping hook is stopped", r.stderr[-400:])
check(os.path.exists(os.path.join(out, "manifest.json")), "report written after slow hooks")

# --hook-timeout wins over options.hook_timeout
quick = write(work, "quick.lua", """
local tide = require "tide"
options = { hook_timeout = "30s" }
tide.hooks.on("test_end", function() while true do end end)
function run() end
""")
r = run(["run", quick, "--iterations", "1", "--hook-timeout", "500ms", "--quiet",
         "--out", os.path.join(work, "quick")], timeout=120)
check(r.stderr.count("hook test_end: still running after 0.5 s, stopped") == 1,
         "--hook-timeout wins over options.hook_timeout", r.stderr[-400:])

# --- setup() and teardown() have their limits too (k6's setupTimeout/teardownTimeout) ---
slow_setup = write(work, "slowsetup.lua", """
local http = require "tide.http"
options = { setup_timeout = "1s" }
function setup() http.get("/delay?ms=20000") end
function run() end
""")
r = run(["run", slow_setup, "--host", url, "--iterations", "1", "--quiet",
         "--out", os.path.join(work, "slowsetup")], timeout=120)
check_eq(r.returncode, 2, "setup() past setup_timeout: exit 2 (nothing measured)")
check("setup(): still running after 1 s, stopped" in r.stderr, "setup stop reported",
      r.stderr[-400:])

busy_td = write(work, "busyteardown.lua", """
options = { teardownTimeout = 1 }
function teardown() while true do end end
function run() end
""")
out = os.path.join(work, "busyteardown")
r = run(["run", busy_td, "--iterations", "1", "--quiet", "--out", out], timeout=120)
check_eq(r.returncode, 0, "a stopped teardown() does not change the exit code")
check(r.stderr.count("teardown(): still running after 1 s, stopped") == 1,
         "teardown stop reported once", r.stderr[-400:])
check(os.path.exists(os.path.join(out, "manifest.json")), "report written after teardown stop")

# --- Ctrl-C stops a lifecycle call that waits (setup_timeout not reached) ---
sleepy = write(work, "sleepysetup.lua", """
local tide = require "tide"
function setup() print("SETUP-STARTED") tide.sleep(60) end
function run() end
""")
p = subprocess.Popen([TIDE, "run", sleepy, "--iterations", "1", "--quiet",
                      "--out", os.path.join(work, "sleepy")],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 30
line = ""
while "SETUP-STARTED" not in line and time.time() < deadline:
    line = p.stderr.readline()
    if line == "" and p.poll() is not None:
        break
so, se = signal_and_wait(p)
check_eq(p.returncode, 130, "Ctrl-C during a sleeping setup(): exit 130 without waiting")
check("interrupted during setup()" in se, "interrupted setup reported", se[-400:])

r = run(["run", busy, "--iterations", "1", "--hook-timeout", "soon", "--quiet"])
check_eq(r.returncode, 2, "--hook-timeout needs a duration")

stop(target)
done()
