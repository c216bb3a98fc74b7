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


# Big bodies and header floods (the target sends 16 MiB at most).
class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.startswith("/big/"):
            n = int(self.path.split("/")[2]) << 20
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"x" * (1 << 20)
            try:
                for _ in range(n >> 20):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        if self.path == "/hugeheader":
            self.send_response(200)
            self.send_header("X-Huge", "h" * (1 << 20))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # tide resets connections on purpose (truncated bodies, refused headers)


hostile = QuietServer(("127.0.0.1", 0), Hostile)
threading.Thread(target=hostile.serve_forever, daemon=True).start()
hostile_base = "http://127.0.0.1:%d" % hostile.server_address[1]

RSS_BOUND_MB = 256  # docs/reliability.md
# Under AddressSanitizer (make test's second pass) shadow memory and the quarantine make RSS
# meaningless: the loads still run, the bound is checked in the normal build only.
SANITIZED = "libasan" in subprocess.run(["ldd", TIDE], capture_output=True, text=True).stdout


def check_rss(peak, what):
    if not SANITIZED:
        check(peak < RSS_BOUND_MB, "%s: peak RSS under %d MB" % (what, RSS_BOUND_MB),
              "%d MB" % peak)


def peak_rss_run(args, timeout=120):
    """Runs tide, sampling its peak RSS (VmHWM) until it ends; returns (exit code, stderr,
    peak MB)."""
    p = subprocess.Popen([TIDE, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    err = []
    t = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
    t.start()
    peak, deadline = 0, time.time() + timeout
    while p.poll() is None and time.time() < deadline:
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) // 1024)
        except OSError:
            pass
        time.sleep(0.05)
    if p.poll() is None:
        p.kill()
    p.wait()
    t.join(5)
    return p.returncode, "".join(err), peak


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

# --- 2. no hidden re-sends: a reset on a reused connection is one counted failure for a POST;
# a GET is sent once more on a new connection and counted in http_req_retries ---
reset_target, reset_base = start_target("--reset-rate", "0.2", "--seed", "7")
s = script("resend.lua", r'''
local http = require "tide.http"
function run()
  http.post("/echo", "x")
  http.get("/health")
end
''')
for transport in ("native", "curl"):
    out = os.path.join(work, "resend-" + transport)
    http_json(reset_base + "/_stats/reset", method="POST")
    r = run(["run", s, "--host", reset_base, "--vus", "5", "--iterations", "150", "--quiet",
             "--transport", transport, "--out", out], timeout=120)
    sent = http_json(reset_base + "/_stats")
    summ = summary_of(out)
    what = "re-sends (%s): " % transport
    check_eq(metric(summ, "http_reqs", "count"), 300, what + "tide counted every request")
    retries = metric(summ, "http_req_retries", "count") or 0
    check_eq(sent["total_requests"], metric(summ, "http_reqs", "count") + retries,
             what + "the server received exactly http_reqs + http_req_retries")
    resets = sum(v.get("reset", 0) for v in sent["requests"].values())
    check(resets > 0, what + "the fault happened", sent)
    check(retries > 0, what + "GETs on a reset reused connection were re-sent, counted", summ)
    kinds = [e["error"] for e in summ.get("errors", [])]
    check(any("not re-sent" in k for k in kinds), what + "the refused re-send is named", kinds)
stop(reset_target)

# --- 3. bounded memory ---
# 10k+ distinct URLs without a name: series capped, a warning, RSS bounded, report written
s = script("cardinality.lua", r'''
local http = require "tide.http"
local tide = require "tide"
local function letters(n)
  local s = ""
  repeat s = s .. string.char(97 + n % 26); n = n // 26 until n == 0
  return s
end
function run()
  http.get("/echo/" .. letters(tide.vu.id * 1000000 + tide.vu.iteration))
end
''')
out = os.path.join(work, "cardinality")
rc, err, peak = peak_rss_run(["run", s, "--host", base, "--vus", "10", "--iterations", "12000",
                              "--duration", "20s", "--quiet", "--out", out])
check_eq(rc, 0, "cardinality: the run completes and passes")
check_rss(peak, "cardinality")
check("more than 250 series" in err and "name" in err, "cardinality: a warning naming the cap",
      err[-500:])
check_eq(err.count("more than 250 series"), 1, "cardinality: warned once")
if check(os.path.exists(os.path.join(out, "summary.json")), "cardinality: report written"):
    summ = summary_of(out)
    check_eq(metric(summ, "http_reqs", "count"), 12000, "cardinality: every request counted")
    names = {e["name"] for e in summ["endpoints"]}
    check("(other)" in names and len(names) <= 251, "cardinality: endpoints folded", len(names))
    check(os.path.getsize(os.path.join(out, "summary.json")) < 8 << 20,
          "cardinality: summary.json stays small")

# an error message carrying an id per iteration: grouped, printed once, bounded
s = script("errids.lua", r'''
local tide = require "tide"
function run()
  error("order " .. (tide.vu.id * 100000 + tide.vu.iteration) .. " was rejected")
end
''')
out = os.path.join(work, "errids")
r = run(["run", s, "--host", base, "--vus", "4", "--iterations", "4000", "--quiet", "--out",
         out], timeout=120)
errs = summary_of(out)["script_errors"]
check(len(errs) == 1, "error ids: one group", errs[:3])
check(errs and errs[0]["message"].endswith("order N was rejected") and errs[0]["count"] == 4000,
      "error ids: the id folded, every error counted", errs[:1])
check(r.stderr.count("further occurrences are counted") == 1, "error ids: printed once",
      r.stderr[-400:])
s = script("errwords.lua", r'''
local tide = require "tide"
function run()
  local n, w = tide.vu.id * 1000 + tide.vu.iteration, ""
  repeat w = w .. string.char(97 + n % 26); n = n // 26 until n == 0
  error("user " .. w .. " unknown")
end
''')
out = os.path.join(work, "errwords")
r = run(["run", s, "--host", base, "--vus", "2", "--iterations", "1000", "--quiet", "--out",
         out], timeout=120)
errs = summary_of(out)["script_errors"]
check(len(errs) <= 101, "distinct messages: at most 100 groups and the rest", len(errs))
check_eq(sum(e["count"] for e in errs), 1000, "distinct messages: every error counted")
check(any(e["message"] == "(other script errors)" for e in errs), "distinct messages: folded")
check(r.stderr.count("further occurrences are counted") <= 100,
      "distinct messages: stderr bounded", r.stderr.count("unknown"))

# a 300 MiB body: counted, kept up to 16 MiB, res.truncated; RSS bounded
s = script("bigbody.lua", r'''
local http = require "tide.http"
function run()
  local r = http.get("%s/big/300")
  print("BIG", r.status, #r.body, tostring(r.truncated))
  r = http.get("%s/big/2", { max_body = 1000 })
  print("SMALL", r.status, #r.body, tostring(r.truncated))
  r = http.get("/bytes/100")
  print("FITS", r.status, #r.body, tostring(r.truncated))
  local ok, e = pcall(http.get, "/bytes/1", { max_body = -1 })
  print("BAD", ok, e)
  r = http.get("%s/hugeheader")
  print("HDR", r.status, r.error_code, r.error)
end
''' % (hostile_base, hostile_base, hostile_base))
out = os.path.join(work, "bigbody")
rc, err, peak = peak_rss_run(["run", s, "--host", base, "--iterations", "1", "--out", out])
# one request of five fails on purpose (the header flood): a verdict with default checks may
# fail the run (99); it must complete either way
check(rc in (0, 99), "big body: the run completes", rc)
check_rss(peak, "big body")
check("BIG\t200\t16777216\ttrue" in err, "big body: 16 MiB kept, truncated", err[-600:])
check("SMALL\t200\t1000\ttrue" in err, "big body: max_body per request")
check("FITS\t200\t100\tnil" in err, "big body: a body that fits is whole")
check("BAD\tfalse\t" in err and "max_body" in err, "big body: a bad max_body raises")
check("HDR\t0\t" in err and "header too large" in err, "a 1 MiB header: said so", err[-600:])
summ = summary_of(out)
check(metric(summ, "data_received", "count") > 302 << 20,
      "big body: every byte counted in data_received", metric(summ, "data_received", "count"))

# 50 VUs fetching 16 MiB bodies: the global budget holds
s = script("many16.lua", r'''
local http = require "tide.http"
function run() http.get("/bytes/16777216") end
''')
# one fetch per VU, all 50 at once: the budget is what is tested, not the loopback's speed
# (150 fetches took over 120 s on a loaded 2-core machine)
rc, err, peak = peak_rss_run(["run", s, "--host", base, "--vus", "50", "--iterations", "50",
                              "--quiet", "--out", os.path.join(work, "many16")], timeout=240)
# completes with every iteration run; on a busy machine a few 16 MiB transfers may time out,
# and the default checks may then fail the run (99): the verdict is the machine's
check(rc in (0, 99), "50 x 16 MiB: the run completes", rc)
summ = summary_of(os.path.join(work, "many16"))
check_eq(metric(summ, "iterations", "count"), 50, "50 x 16 MiB: every iteration ran")
check_rss(peak, "50 x 16 MiB")

# --- 4. nothing hangs: tide verify refuses special files and links ---
s = script("tiny.lua", "function run() end\n")
out = os.path.join(work, "verify")
r = run(["run", s, "--iterations", "1", "--quiet", "--out", out], timeout=60)
check_eq(run(["verify", out], timeout=30).returncode, 0, "verify: a clean run folder passes")


def verify_with(name, make):
    folder = os.path.join(work, "verify-" + name.replace("/", "_").replace(".", "_"))
    subprocess.run(["cp", "-r", out, folder], check=True)
    make(os.path.join(folder, name) if "/" not in name and name != ".." else folder)
    m = load_json(os.path.join(folder, "manifest.json"))
    m["files"][name] = "0" * 64
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(m, f)
    try:
        return run(["verify", folder], timeout=20)
    except subprocess.TimeoutExpired:
        return None


r = verify_with("pipe", os.mkfifo)
check(r is not None, "verify: a FIFO in the manifest does not hang")
if r is not None:
    check(r.returncode != 0 and "not a regular file" in r.stderr, "verify: the FIFO is refused",
          r.stderr)
r = verify_with("link", lambda p: os.symlink("/etc/hostname", p))
check(r is not None and r.returncode != 0 and "symbolic link" in r.stderr,
      "verify: a symlink in the manifest is refused", r and r.stderr)
r = verify_with("../outside", lambda p: None)
check(r is not None and r.returncode != 0 and "not a file name" in r.stderr,
      "verify: a path out of the folder is refused", r and r.stderr)
folder = os.path.join(work, "verify-fifo-manifest")
os.makedirs(folder)
os.mkfifo(os.path.join(folder, "manifest.json"))
try:
    r = run(["verify", folder], timeout=20)
    check(r.returncode != 0 and "not a regular file" in r.stderr,
          "verify: a FIFO manifest.json is refused", r.stderr)
except subprocess.TimeoutExpired:
    check(False, "verify: a FIFO manifest.json hangs")

# --- a second Ctrl-C right after the first: teardown's pending request does not hold it ---
s = script("twice.lua", r'''
local http = require "tide.http"
local said = false
function run()
  if not said then print("RUNNING"); said = true end
  http.get("/health")
end
function teardown() http.get("/delay?ms=60000") end
''')
out = os.path.join(work, "twice")
for sig in (signal.SIGINT, signal.SIGTERM):
    p = subprocess.Popen([TIDE, "run", s, "--host", base, "--vus", "2", "--duration", "60s",
                          "--quiet", "--out", out], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and "RUNNING" not in (p.stderr.readline() or "RUNNING"):
        pass
    p.send_signal(sig)
    time.sleep(0.02)
    p.send_signal(sig)
    t = time.time()
    try:
        p.wait(25)  # teardown's request takes 60 s: a forgotten second signal waits for it
        check(True, "twice: ended")
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        check(False, "twice (%s): the second signal was forgotten" % sig.name)
    p.stderr.close()
    check_eq(p.returncode, 130, "twice (%s): exit 130" % sig.name)
    check(os.path.exists(os.path.join(out, "summary.json")), "twice: the report is written")

stop(target)
redir.shutdown()
hostile.shutdown()
done()
