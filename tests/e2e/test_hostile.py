"""Hostile scripts and servers (issue 15): nothing escapes (only http and https leave tide,
header injection refused, require confined to the scenario folder, handle_summary's
stdout/stderr redacted), no hidden re-sends, bounded memory (series, script-error messages,
response bodies), nothing hangs (tide verify on a FIFO, a second Ctrl-C during teardown)."""
import http.server
import json
import os
import resource
import signal
import subprocess
import threading
import time
from tidetest import *

work = tmpdir()
target, base = start_target()


def script(name, text, folder=work):
    return write(folder, name, text)


def tide_run(path, *args, timeout=120, env=None):
    out = os.path.join(work, "out-" + os.path.basename(path).replace(".lua", ""))
    r = run(["run", path, "--host", base, "--quiet", "--out", out, *args], timeout=timeout,
            env=env)
    return r, out


def summary_of(out):
    return load_json(os.path.join(out, "summary.json"))


# A server that redirects to whatever ?to= says (the target has no such route).
class Redirector(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        to = self.path.split("to=", 1)[1] if "to=" in self.path else "/"
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


redir = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
threading.Thread(target=redir.serve_forever, daemon=True).start()
redir_base = "http://127.0.0.1:%d" % redir.server_address[1]

# --- 1. nothing escapes: only http and https ---
s = script("schemes.lua", r'''
local http = require "tide.http"
function run()
  for _, u in ipairs{"file:///etc/passwd", "file:///proc/self/environ", "FTP://127.0.0.1/",
                     "dict://127.0.0.1:1/", "gopher://127.0.0.1:1/"} do
    local ok, e = pcall(http.get, u)
    print("SCHEME", u, ok, ok and "" or e)
  end
  local r = http.get("%s/r?to=file:///etc/passwd")
  print("REDIR", r.status, r.error_code, #r.body, r.body:find("root:") ~= nil)
  r = http.get("/health?next=http://127.0.0.1/x")
  print("QUERY", r.status, r.error_code)
end
''' % redir_base)
r, out = tide_run(s, "--iterations", "1", timeout=60)
lines = [l for l in r.stderr.splitlines() if l.startswith(("SCHEME", "REDIR", "QUERY"))]
scheme_lines = [l for l in lines if l.startswith("SCHEME")]
check_eq(len(scheme_lines), 5, "schemes: each URL tried")
for l in scheme_lines:
    check("\tfalse\t" in l and "only http and https" in l, "schemes: raises", l)
check("root:" not in r.stderr and "root:" not in r.stdout, "schemes: no file content leaks")
redir_line = next((l for l in lines if l.startswith("REDIR")), "")
check_eq(redir_line.split("\t")[1:], ["0", "1410", "0", "false"],
         "a redirect to file:// is not followed: error 1410, no body")
check_eq(next((l for l in lines if l.startswith("QUERY")), "").split("\t")[1:], ["200", "nil"],
         "a URL with :// in its query string is sent")

# --- header names and values ---
s = script("headers.lua", r'''
local http = require "tide.http"
function run()
  local cases = {
    {["X-A"] = "a\r\nX-Injected: 1"}, {["X-B"] = "a\nb"}, {["X-C"] = "a\0b"},
    {["X D"] = "v"}, {["X-E\r\nX-Injected"] = "v"}, {[""] = "v"}, {["X:F"] = "v"},
  }
  for i, h in ipairs(cases) do
    local ok, e = pcall(http.get, "/echo", { headers = h })
    print("HDR", i, ok, ok and "" or e)
  end
  local r = http.get("/echo", { headers = { ["X-Fine_1.~!"] = "ok value\tx" } })
  print("GOOD", r.status)
end
''')
r, out = tide_run(s, "--iterations", "1", timeout=60)
hdr = [l.split("\t") for l in r.stderr.splitlines() if l.startswith("HDR")]
check_eq(len(hdr), 7, "headers: each case tried")
for h in hdr:
    check(len(h) == 4 and h[2] == "false" and "tide.http: header" in h[3], "headers: raises", h)
check(any("X-A" in h[3] and "CR" in h[3] for h in hdr), "headers: names the header and CR")
check(any("\\x0D\\x0A" in h[3] for h in hdr), "headers: a bad name is shown escaped")
check("X-Injected: 1" not in r.stderr, "headers: the value is never printed")
check("GOOD\t200" in r.stderr, "headers: a valid token name and a tab in a value pass",
      r.stderr[-300:])

# --- require stays in the scenario folder (symlinks resolved) ---
outside = tmpdir("tide-outside-")
write(outside, "evil.lua", 'return "OUTSIDE"\n')
proj = tmpdir("tide-proj-")
os.makedirs(os.path.join(proj, "plugins"))
os.symlink(os.path.join(outside, "evil.lua"), os.path.join(proj, "evil.lua"))
os.symlink(outside, os.path.join(proj, "lib"))
write(proj, "plugins/good.lua", 'return "GOOD"\n')
os.mkfifo(os.path.join(proj, "plugins", "fifo.lua"))
s = script("main.lua", r'''
print("REQ", "good", pcall(require, "good"))
for _, m in ipairs{"evil", "lib_only", "fifo"} do
  local ok, e = pcall(require, m)
  print("REQ", m, ok, e)
end
function run() end
''', proj)
write(outside, "lib_only.lua", 'return "OUTSIDE"\n')
try:
    r = run(["run", s, "--iterations", "1", "--quiet", "--out", os.path.join(work, "req")],
            timeout=60)
    req = {l.split("\t")[1]: l.split("\t")[2:] for l in r.stderr.splitlines()
           if l.startswith("REQ")}
    check_eq(req.get("good"), ["true", "GOOD"], "require: a plugin inside the folder loads")
    for m in ("evil", "lib_only"):
        v = req.get(m, ["?", "?"])
        check(v[0] == "false" and "outside the scenario folder" in v[1],
              "require: a symlink out of the folder is refused (%s)" % m, v)
    v = req.get("fifo", ["?", "?"])
    check(v[0] == "false" and "not a regular file" in v[1], "require: a FIFO is refused", v)
    check("OUTSIDE" not in r.stderr, "require: nothing loaded from outside")
except subprocess.TimeoutExpired:
    check(False, "require: a FIFO module hangs the run")

# --- handle_summary's stdout and stderr are redacted ---
s = script("hs.lua", r'''
local tide = require "tide"
local token = tide.env("HOSTILE_TOKEN")
function run() end
function handle_summary(s)
  return { stdout = "OUT token=" .. token .. "\n", stderr = "ERR token=" .. token .. "\n" }
end
''')
r, out = tide_run(s, "--iterations", "1", env={"HOSTILE_TOKEN": "s3cr3t-hostile-value"},
                  timeout=60)
check("OUT token=***" in r.stdout, "handle_summary stdout: written, redacted", r.stdout[-300:])
check("ERR token=***" in r.stderr, "handle_summary stderr: written, redacted", r.stderr[-300:])
check("s3cr3t-hostile-value" not in r.stdout + r.stderr, "handle_summary: no secret in clear")

# --- 2. no hidden re-sends: a reset on a reused connection is one counted failure ---
reset_target, reset_base = start_target("--reset-rate", "0.2", "--seed", "7")
s = script("resend.lua", r'''
local http = require "tide.http"
function run()
  http.post("/echo", "x")
  http.get("/health")
end
''')
out = os.path.join(work, "resend")
http_json(reset_base + "/_stats/reset", method="POST")
r = run(["run", s, "--host", reset_base, "--vus", "5", "--iterations", "150", "--quiet",
         "--out", out], timeout=120)
sent = http_json(reset_base + "/_stats")
summ = summary_of(out)
check_eq(metric(summ, "http_reqs", "count"), 300, "re-sends: tide counted every request")
check_eq(sent["total_requests"], metric(summ, "http_reqs", "count"),
         "re-sends: the server received exactly what tide counted")
resets = sum(v.get("reset", 0) for v in sent["requests"].values())
check(resets > 0, "re-sends: the fault happened", sent)
kinds = [e["error"] for e in summ.get("errors", [])]
check(any("not re-sent" in k for k in kinds), "re-sends: the refused re-send is named", kinds)
stop(reset_target)

stop(target)
redir.shutdown()
done()
