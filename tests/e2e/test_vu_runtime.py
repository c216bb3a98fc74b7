"""The VU runtime keeps control of script code: an error value whose __tostring raises is
reported, never a crash (at the top level, in setup(), in vu_setup(), in run()); a VU that never
yields ends at its hard deadline (also inside pcall) and on Ctrl-C; a VU hoarding Lua memory
ends at its cap; and the run completes with its report in each case."""
import os
import signal
import subprocess
import time
from tidetest import *

work = tmpdir()
BAD = 'setmetatable({}, {__tostring = function() error("boom") end})'


def script(name, text):
    return write(work, name, text)


def report_written(out):
    return os.path.exists(os.path.join(out, "summary.json"))


def failed_normally(r, what):
    """A run whose every iteration raised or was stopped ends normally, failed by the default
    checks (docs/cli.md "Default checks"): exit 99 and one line saying why, not a crash."""
    check_eq(r.returncode, 99, what)
    check(len([l for l in r.stderr.splitlines() if l.startswith("tide: failed: ")]) == 1,
          what + ": one line says why", r.stderr[-400:])


# --- error values whose __tostring raises: no PANIC anywhere ---
top = script("top.lua", "error(%s)\nfunction run() end\n" % BAD)
r = run(["run", top, "--iterations", "1", "--out", os.path.join(work, "top")], timeout=60)
check_eq(r.returncode, 2, "top level: exit 2 (a script that does not load)")
check("PANIC" not in r.stderr and len(r.stderr.strip().splitlines()) == 1,
      "top level: one line, no panic", r.stderr)

setup = script("setup.lua", "function setup() error(%s) end\nfunction run() end\n" % BAD)
r = run(["run", setup, "--iterations", "1", "--out", os.path.join(work, "setup")], timeout=60)
check_eq(r.returncode, 2, "setup(): exit 2, as documented for a raising setup()")
check("PANIC" not in r.stderr and "setup() failed" in r.stderr, "setup(): says so", r.stderr)

for fn, want, n in (("run", "(error object is a table value)", 3),
                    ("vu_setup", "vu_setup: (error object is a table value)", 1)):
    path = script(fn + ".lua", "function %s() error(%s) end\n" % (fn, BAD) +
                  ("function run() end\n" if fn != "run" else ""))
    out = os.path.join(work, fn)
    r = run(["run", path, "--vus", "1", "--iterations", "3", "--out", out], timeout=60)
    failed_normally(r, "%s(): the run completes" % fn)
    check("PANIC" not in r.stderr, "%s(): no panic" % fn, r.stderr[-400:])
    if check(report_written(out), "%s(): report written" % fn):
        errs = {e["message"]: e["count"] for e in load_json(os.path.join(out, "summary.json"))
                ["script_errors"]}
        check_eq(errs.get(want), n, "%s(): counted" % fn)

# --- coroutine.yield() in a VU's own code is a pass through the loop, not a hang ---
yld = script("yield.lua", "function run() coroutine.yield() end\n")
try:
    r = run(["run", yld, "--vus", "1", "--iterations", "3", "--quiet", "--out",
             os.path.join(work, "yield")], timeout=60)
    check_eq(r.returncode, 0, "coroutine.yield(): the run completes")
    s = load_json(os.path.join(work, "yield", "summary.json"))
    check_eq(metric(s, "iterations", "count"), 3, "coroutine.yield(): every iteration ran")
except subprocess.TimeoutExpired:
    check(False, "coroutine.yield(): the VU hung")

# --- busy loops: ended at the graceful stop, one line each, report written ---
SHAPE = ('options = { scenarios = { s = { executor = "constant-vus", vus = %d, '
         'duration = "1s", gracefulStop = "1s" } } }\n')
cases = [("plain", 1, "function run() while true do end end\n"),
         ("pcall", 1, "function run() while true do pcall(function() while true do end end) end end\n"),
         ("coroutine", 1, "function run() coroutine.wrap(function() while true do end end)() end\n")]
for name, vus, body in cases:
    path = script("busy_%s.lua" % name, SHAPE % vus + body)
    out = os.path.join(work, "busy_" + name)
    try:
        r = run(["run", path, "--out", out], timeout=60)
    except subprocess.TimeoutExpired:
        check(False, "busy loop (%s): the run did not end" % name)
        continue
    failed_normally(r, "busy loop (%s): a normal end" % name)
    lines = [l for l in r.stderr.splitlines() if "busy loop?" in l]
    check(len(lines) == 1 and "VU 1 still running" in lines[0] and "s after the stop" in lines[0],
          "busy loop (%s): one line naming the VU" % name, r.stderr[-600:])
    check(report_written(out), "busy loop (%s): report written" % name)

# --- Ctrl-C / SIGTERM during a busy loop inside pcall: exit 130 with the report ---
for sig in (signal.SIGINT, signal.SIGTERM):
    path = script("busy_long.lua", 'options = { vus = 2, duration = "10m" }\n' + cases[1][2])
    out = os.path.join(work, "busy_sig%d" % sig)
    p = subprocess.Popen([TIDE, "run", path, "--quiet", "--out", out], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.send_signal(sig)
    try:
        p.communicate(timeout=60)
        check_eq(p.returncode, 130, "busy loop + signal %d: exit 130" % sig)
        check(report_written(out), "busy loop + signal %d: report written" % sig)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        check(False, "busy loop + signal %d: the run did not end" % sig)

# --- Ctrl-C during a busy setup() (no deadline there): exit 130 as documented ---
path = script("busy_setup.lua", "function setup() while true do pcall(function() "
              "while true do end end) end end\nfunction run() end\n")
p = subprocess.Popen([TIDE, "run", path, "--iterations", "1", "--out",
                      os.path.join(work, "busy_setup")], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
time.sleep(1.5)
p.send_signal(signal.SIGINT)
try:
    p.communicate(timeout=60)
    check_eq(p.returncode, 130, "busy setup() + Ctrl-C: exit 130")
except subprocess.TimeoutExpired:
    p.kill()
    p.communicate()
    check(False, "busy setup() + Ctrl-C: the run did not end")

# --- a VU hoarding Lua memory ends at its cap; the run goes on ---
HOARD = {
    "local": "function run() local t = {} while true do t[#t+1] = string.rep('x', 1e6) .. #t end end\n",
    "global": "local tide = require 'tide'\nkept = {}\n"
              "function run() kept[#kept+1] = string.rep('x', 1e6) .. #kept tide.sleep(0.001) end\n",
}
for name, body in HOARD.items():
    path = script("hoard_%s.lua" % name, 'options = { vus = 2, duration = "2s" }\n' + body)
    out = os.path.join(work, "hoard_" + name)
    try:
        r = run(["run", path, "--vu-memory", "8MB", "--out", out], timeout=60)
    except subprocess.TimeoutExpired:
        check(False, "hoarding (%s): the run did not end" % name)
        continue
    failed_normally(r, "hoarding (%s): a normal end" % name)
    msg = "out of memory (Lua memory cap 8 MiB per VU)"
    check(msg in r.stderr, "hoarding (%s): says so" % name, r.stderr[-600:])
    if check(report_written(out), "hoarding (%s): report written" % name):
        errs = {e["message"]: e["count"] for e in load_json(os.path.join(out, "summary.json"))
                ["script_errors"]}
        check(errs.get(msg, 0) >= 2, "hoarding (%s): counted per VU ended" % name, errs)

# garbage is not hoarding: many VUs making short-lived big strings stay under a small cap
path = script("garbage.lua", 'options = { vus = 4, iterations = 200 }\n'
              "function run() local t = {} for i = 1, 20 do t[i] = string.rep('y', 1e5) .. i end end\n")
r = run(["run", path, "--vu-memory", "4MB", "--quiet", "--out", os.path.join(work, "garbage")],
        timeout=120)
check_eq(r.returncode, 0, "garbage: a normal end")
s = load_json(os.path.join(work, "garbage", "summary.json"))
check_eq(s["script_errors"], [], "garbage: no VU ended for memory it did not keep")
check_eq(metric(s, "iterations", "count"), 200, "garbage: every iteration ran")

# lifecycle functions are not capped: setup() may hold more than a VU may
path = script("bigsetup.lua", "function setup() local s = string.rep('x', 20 * 1024 * 1024) "
              "return #s end\nfunction run(n) assert(n == 20 * 1024 * 1024) end\n")
r = run(["run", path, "--vu-memory", "4MB", "--iterations", "1", "--quiet", "--out",
         os.path.join(work, "bigsetup")], timeout=60)
check_eq(r.returncode, 0, "setup() above the VU cap: runs")
check_eq(load_json(os.path.join(work, "bigsetup", "summary.json"))["script_errors"], [],
         "setup() above the VU cap: no error")

r = run(["run", path, "--vu-memory", "12"], timeout=60)
check(r.returncode == 2 and "--vu-memory" in r.stderr, "--vu-memory checks its value", r.stderr)

done()
