"""Required and optional hooks, and typos (docs/extending.md#required-hooks): a required hook
that raises or returns false fails a passing run with exit 99 and a line naming the hook; an
optional one leaves the exit code alone and is a visible warning in the terminal summary,
summary.json, report.html and junit.xml; an unknown event name stops the run at load time
(exit 2, closest valid name) before any request."""
import os
import xml.etree.ElementTree as ET
from tidetest import *
from receiver import HTTPReceiver

target, url = start_target()
work = tmpdir()


def served():
    return sum(sum(v.values()) for v in http_json(url + "/_stats")["requests"].values())


def scenario(name, hooks):
    return write(work, name, """
local http = require "tide.http"
local tide = require "tide"
%s
function run() http.get("/health") end
""" % hooks)


# --- a required test_end hook that raises: exit 99, the line names it ---
s = scenario("req.lua", """
tide.hooks.on("test_end", function() error("ticket system down") end,
  { required = true, name = "open-ticket" })
""")
out = os.path.join(work, "req")
r = run(["run", s, "--host", url, "--iterations", "3", "--out", out])
check_eq(r.returncode, 99, "required hook raising: exit 99")
last = r.stderr.strip().splitlines()[-1]
check("open-ticket" in last and "test_end" in last and "ticket system down" in last,
      "the last line names the hook and why", last)
sj = load_json(os.path.join(out, "summary.json"))
check_eq(sj["run"]["exit_code"], 99, "summary.json exit code")
check_eq(sj["run"]["status"], "failed", "summary.json status")
check("open-ticket" in (sj["run"]["reason"] or ""), "summary.json reason names the hook")
check_eq(load_json(os.path.join(out, "manifest.json"))["exit_code"], 99, "manifest exit code")
check_eq(run(["verify", out]).returncode, 0, "the folder verifies")

# --- a required hook returning false (report_written, after the folder is sealed) ---
s = scenario("reqfalse.lua", """
tide.hooks.on("report_written", function() return false end, { required = true })
""")
r = run(["run", s, "--host", url, "--iterations", "2", "--quiet",
         "--out", os.path.join(work, "reqfalse")])
check_eq(r.returncode, 99, "required hook returning false: exit 99")
check("required hook report_written#1 (report_written) failed: returned false" in r.stderr,
      "line names the hook", r.stderr[-400:])

# --- a required hook stopped at the time limit ---
s = scenario("reqstuck.lua", """
tide.hooks.on("test_start", function() while true do end end, { required = true, name = "spin" })
""")
r = run(["run", s, "--host", url, "--iterations", "2", "--quiet", "--hook-timeout", "1s",
         "--out", os.path.join(work, "reqstuck")])
check_eq(r.returncode, 99, "required hook stopped: exit 99")
check("required hook spin (test_start) failed: still running after 1 s, stopped" in r.stderr,
      "stopped hook named", r.stderr[-400:])

# --- an optional hook fails: exit unchanged, a warning everywhere ---
recv = HTTPReceiver(status=500)
s = scenario("opt.lua", """
tide.hooks.on("test_end", function(s)
  local res = http.post(tide.env("HOOK_URL"), { json = { status = s.run.status }, timeout = 5 })
  if res.status ~= 200 then error("webhook answered " .. res.status) end
end, { name = "notify-chat" })
""")
out = os.path.join(work, "opt")
r = run(["run", s, "--host", url, "--iterations", "3", "--out", out],
        env={"HOOK_URL": recv.url + "/hook"})
check_eq(r.returncode, 0, "optional hook failing: exit unchanged")
check_eq(len(recv.requests), 1, "the webhook was called")
check("warning: hook notify-chat (test_end) failed: " in r.stdout and "webhook answered 500"
      in r.stdout, "terminal summary shows the warning", r.stdout[-600:])
sj = load_json(os.path.join(out, "summary.json"))
f = sj["hooks"]["failures"]
check(len(f) == 1 and f[0]["hook"] == "notify-chat" and not f[0]["required"] and
      "webhook answered 500" in f[0]["error"], "summary.json hooks.failures", f)
check_eq(sj["run"]["status"], "passed", "status stays passed")
html = open(os.path.join(out, "report.html")).read()
check("S.hooks" in html and "notify-chat" in html, "report.html carries the warning")
root = ET.parse(os.path.join(out, "junit.xml")).getroot()
hs = [t for t in root.iter("testsuite") if t.get("name") == "hooks"]
check(len(hs) == 1 and hs[0].get("failures") == "0" and
      "webhook answered 500" in (hs[0].find("testcase/system-err").text or ""),
      "junit.xml hooks suite with the warning", ET.tostring(hs[0]) if hs else None)
recv.stop()

# --- two handlers: both run, only the failing one is reported ---
s = scenario("two.lua", """
tide.hooks.on("test_start", function() error("first fails") end)
tide.hooks.on("test_start", function() print("SECOND RAN") end)
""")
r = run(["run", s, "--host", url, "--iterations", "1", "--out", os.path.join(work, "two")])
check_eq(r.returncode, 0, "two handlers exit")
check("SECOND RAN" in r.stderr, "a failing handler does not stop the next", r.stderr[-400:])

# --- a typo'd event: exit 2 before any request, closest name ---
http_json(url + "/_stats/reset", method="POST", body={})
s = scenario("typo.lua", """
tide.hooks.on("tset_end", function() end)
""")
out = os.path.join(work, "typo")
r = run(["run", s, "--host", url, "--iterations", "3", "--out", out])
check_eq(r.returncode, 2, "typo exit 2")
check('unknown event "tset_end" (did you mean test_end?)' in r.stderr, "closest name",
      r.stderr[-300:])
check(r.stderr.count("\n") <= 2, "one clear line", r.stderr)
check_eq(served(), 0, "no request sent")
check(not os.path.exists(os.path.join(out, "summary.json")), "no run folder written")
s = scenario("badopt.lua", """
tide.hooks.on("test_end", function() end, { requierd = true })
""")
r = run(["run", s, "--host", url, "--iterations", "1", "--out", os.path.join(work, "bo")])
check_eq(r.returncode, 2, "unknown hook option exit 2")
check('unknown option "requierd"' in r.stderr, "unknown option named", r.stderr[-300:])

stop(target)
done()
