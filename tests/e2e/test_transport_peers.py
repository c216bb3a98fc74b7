"""Both HTTP clients give the same results against real servers (issue 13, item 5): the same Lua
API calls run with --transport native and --transport curl against nginx (static files,
`return` and redirect locations, SSI for a chunked body, a cookie, `return 444` for a
connection closed without a reply) and against the Flask app of test_flask.py (login, the
projects CRUD, errors), and every status, body, relevant header, cookie, final URL and error
code must agree, call by call. Each server counts exactly what tide counts (nginx's access
log, the app's /_stats): http_reqs plus http_req_retries, on both transports.

nginx runs from a temp folder with its own config, pid and logs, on a free loopback port,
and is stopped at the end; without nginx (Debian `nginx`) or Flask the part is skipped, and
the test is skipped only when neither can run."""
import importlib.util
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
import urllib.request
import tidetest
from rawhttp import run_cases
from tidetest import *

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
HAVE_FLASK = importlib.util.find_spec("flask") is not None
if NGINX is None and not HAVE_FLASK:
    skip("neither nginx (apt-get install nginx) nor flask (python3-flask) is installed")

work = tmpdir()
os.chmod(work, 0o755)  # nginx's workers (user nobody) read the files


def wait_ready(url, proc, what):
    deadline = time.time() + 20
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


# the GET to nginx's `return 444` goes once more after its reused connection closed
expect_retries = {"nginx": 1}
# what differs from run to run on its own (ids, times, random project names), not between
# transports
VOLATILE = {"token", "id", "user_id", "created_at", "updated_at", "expires_at", "name"}


def normalize(c):
    c = dict(c)
    c.pop("transport", None)
    try:
        body = json.loads(c.get("body") or "")
    except ValueError:
        body = None
    if isinstance(body, (dict, list)):
        def scrub(x):
            if isinstance(x, dict):
                return {k: ("*" if k in VOLATILE else scrub(v)) for k, v in x.items()}
            if isinstance(x, list):
                return [scrub(v) for v in x]
            return x
        c["body"] = scrub(body)
        if c["body"] != body:  # ids and timestamps vary in length from run to run
            c["clen"] = "*"
    for k in ("location", "url"):
        c[k] = re.sub(r"/\d+", "/N", c.get(k, ""))
    return c


def run_both(name, script, host, count_requests, hops=0):
    """Runs 'script' on both transports; returns {transport: {case: result}} after checking
    the server's count of each run against tide's ('hops': redirects the script follows, each
    a request of its own for the server and part of one http_reqs for tide)."""
    results = {}
    for transport in ("native", "curl"):
        time.sleep(0.2)  # nginx writes its log line after the response
        before = count_requests()
        what = "%s (%s): " % (name, transport)
        cases, s, _ = run_cases(script, host, transport,
                                os.path.join(work, "%s-%s" % (name, transport)))
        if not cases or s is None:
            continue
        results[transport] = cases
        reqs = metric(s, "http_reqs", "count")
        retries = metric(s, "http_req_retries", "count") or 0
        served = [c["transport"] for c in results[transport].values()]
        check_eq(sorted(set(served)), [transport], what + "every call served by " + transport)
        time.sleep(0.2)  # nginx writes its log line after the response
        check_eq(count_requests() - before, reqs + retries + hops,
                 what + "the server counted http_reqs + http_req_retries (+ redirect hops)")
        check_eq(retries, expect_retries.get(name, 0), what + "http_req_retries")
    if len(results) == 2:
        a, b = results["native"], results["curl"]
        check_eq(sorted(a), sorted(b), name + ": the same cases on both")
        for case in sorted(b):
            check_eq(normalize(a.get(case, {})), normalize(b[case]),
                     "%s: %s: the same result on both transports" % (name, case))
    return results


KEEP = """
local http = require "tide.http"
local json = require "tide.json"
local tide = require "tide"
options = { iterations = 1, vus = 1 }
local out = {}
local function keep(name, r)
  local h = r.headers
  out[#out + 1] = { name = name, status = r.status, body = r.body, url = r.url,
    error_code = r.error_code or 0, transport = r.transport,
    ctype = h["content-type"] or "", clen = h["content-length"] or "",
    location = h["location"] or "", te = h["transfer-encoding"] or "",
    allow = h["allow"] or "", truncated = r.truncated or false }
  return r
end
"""

# ---------------------------------------------------------------- nginx
if NGINX is None:
    print("nginx part skipped: no nginx (apt-get install nginx)")
else:
    ng = os.path.join(work, "nginx")
    www = os.path.join(ng, "www")
    os.makedirs(os.path.join(ng, "tmp"))
    os.makedirs(www)
    write(www, "hello.txt", "hello from nginx\n")
    write(www, "page.shtml", "<p>a</p><!--# echo var=\"ssi_var\" --><p>b</p>\n" * 40)
    big = bytes((i * 7 + 3) % 251 for i in range(1 << 20))
    big_hash = 0
    for x in big:
        big_hash = (big_hash * 31 + x) % 4294967296
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.write(big)
    port = free_port()
    conf = write(ng, "nginx.conf", """
worker_processes 1;
pid %(ng)s/nginx.pid;
error_log %(ng)s/error.log;
events { worker_connections 128; }
http {
  log_format peers '$connection $connection_requests $request_method $uri $status';
  access_log %(ng)s/access.log peers;
  client_body_temp_path %(ng)s/tmp/body;
  proxy_temp_path %(ng)s/tmp/proxy;
  fastcgi_temp_path %(ng)s/tmp/fastcgi;
  uwsgi_temp_path %(ng)s/tmp/uwsgi;
  scgi_temp_path %(ng)s/tmp/scgi;
  types { text/plain txt; text/html shtml; application/octet-stream bin; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:%(port)d;
    root %(www)s;
    location = /health { return 200 "ok\\n"; }
    location = /echo { default_type text/plain;
      return 200 "$request_method $request_uri len=$content_length type=$content_type\\n"; }
    location = /r302 { return 302 /hello.txt; }
    location = /r301 { return 301 /hello.txt; }
    location = /r303 { return 303 /echo?from=303; }
    location = /r307 { return 307 /echo?from=307; }
    location = /chain { return 302 /r301; }
    location = /setcookie { add_header Set-Cookie "sid=abc123; Path=/; HttpOnly"; return 200 "set\\n"; }
    location = /showcookie { default_type text/plain; return 200 "cookie=$http_cookie\\n"; }
    location = /close { return 444; }
    location = /teapot { return 418 "short and stout\\n"; }
    location ~ \\.shtml$ { ssi on; set $ssi_var "-"; }
  }
}
""" % {"ng": ng, "www": www, "port": port})
    nginx = subprocess.Popen([NGINX, "-p", ng, "-c", conf, "-e", os.path.join(ng, "error.log"),
                              "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    tidetest._procs.append(nginx)
    nbase = "http://127.0.0.1:%d" % port
    access = os.path.join(ng, "access.log")

    def nginx_count():
        return sum(1 for _ in open(access)) if os.path.exists(access) else 0

    if check(wait_ready(nbase + "/health", nginx, "nginx"), "nginx starts",
             (nginx.stderr.read() if nginx.poll() is not None else "") +
             (open(os.path.join(ng, "error.log")).read()[-2000:]
              if os.path.exists(os.path.join(ng, "error.log")) else "")):
        script = write(work, "nginx.lua", KEEP + """
function run()
  local first = keep("get static", http.get("/hello.txt"))
  r_base, r_transport = first.url:match("^(https?://[^/]+)"), first.transport
  keep("head static", http.head("/hello.txt"))
  keep("missing", http.get("/missing.txt"))
  keep("post static", http.post("/hello.txt", { body = "x" }))
  local b = http.get("/big.bin")
  local h = 0
  for i = 1, #b.body do h = (h * 31 + b.body:byte(i)) % 4294967296 end
  out[#out + 1] = { name = "big", status = b.status, len = #b.body, hash = h,
    transport = b.transport, error_code = b.error_code or 0 }
  local m = http.get("/big.bin", { max_body = 1000 })
  out[#out + 1] = { name = "big max_body", status = m.status, len = #m.body,
    truncated = m.truncated, transport = m.transport }
  keep("chunked ssi", http.get("/page.shtml"))
  keep("post json", http.post("/echo", { json = { a = 1, b = "two" } }))
  keep("post form", http.post("/echo", { form = { x = "1 2", y = "&" } }))
  keep("put", http.put("/echo?p=1", { body = "put body" }))
  keep("patch", http.patch("/echo", { body = "patch" }))
  keep("delete", http.delete("/echo?d=1"))
  keep("options", http.request("OPTIONS", "/echo"))
  keep("302", http.get("/r302"))
  keep("301", http.get("/r301"))
  keep("303 post", http.post("/r303", { body = "gone after 303" }))
  keep("307 post", http.post("/r307", { body = "kept after 307" }))
  keep("chain", http.get("/chain"))
  keep("chain capped", http.get("/chain", { redirects = 1 }))
  keep("no follow", http.get("/r302", { redirects = 0 }))
  -- cookie values are compared here: tide's output redacts them (privacy.md)
  local sc = http.get("/setcookie")
  out[#out + 1] = { name = "set cookie", status = sc.status, transport = sc.transport,
    ok = sc.headers["set-cookie"] == "sid=abc123; Path=/; HttpOnly" }
  local c1 = http.get("/showcookie")
  out[#out + 1] = { name = "send cookie", status = c1.status, transport = c1.transport,
    ok = c1.body == "cookie=sid=abc123\\n" }
  local c2 = http.get("/showcookie", { headers = { Cookie = "mine=1" } })
  out[#out + 1] = { name = "own cookie", status = c2.status, transport = c2.transport,
    ok = c2.body == "cookie=mine=1; sid=abc123\\n" }
  local jc = http.cookie_jar():cookies_for_url(r_base .. "/showcookie")
  out[#out + 1] = { name = "jar", transport = r_transport, ok = jc ~= nil and jc.sid == "abc123" }
  keep("444", http.get("/close"))
  keep("444 post", http.post("/close", { body = "x" }))
  keep("418", http.get("/teapot"))
  keep("after all", http.get("/hello.txt"))
  print("CASES " .. json.encode(out))
end
""")
        # hops: 302, 301, 303, 307 one each, /chain two, /chain capped one
        res = run_both("nginx", script, nbase, nginx_count, hops=7)
        for transport, got in res.items():
            what = "nginx (%s): " % transport
            check_eq(got["get static"]["body"], "hello from nginx\n", what + "static body")
            check_eq(got["big"]["len"], 1 << 20, what + "1 MiB body whole")
            check_eq(got["big"]["hash"], big_hash, what + "1 MiB body: every byte right")
            check_eq(got["chunked ssi"]["te"], "chunked", what + "SSI page is chunked")
            check_eq(got["chunked ssi"]["body"].count("<p>b</p>"), 40, what + "chunked body whole")
            check_eq((got["307 post"]["status"], got["307 post"]["body"]),
                     (200, "POST /echo?from=307 len=14 type=application/x-www-form-urlencoded\n"),
                     what + "307 keeps the method and the body")
            check_eq(got["303 post"]["body"], "GET /echo?from=303 len= type=\n",
                     what + "303 makes a GET without a body")
            for case in ("set cookie", "send cookie", "own cookie", "jar"):
                check_eq(got[case].get("ok"), True, what + case)
            check_eq(got["444"]["error_code"], 1220, what + "444: no reply is error 1220")
            check_eq(got["444 post"]["error_code"], 1220, what + "444 POST: 1220")
            check_eq(got["after all"]["status"], 200, what + "requests go on after 444")
        log = [l.split() for l in open(access)]
        check(any(int(x[1]) > 1 for x in log), "nginx: keep-alive connections were reused", log[:5])
        close_lines = [x for x in log if x[3] == "/close"]
        # per transport: the GET is re-sent once after its reused connection closed, the POST not
        check_eq(len(close_lines), 2 * 3, "nginx: /close: GET twice (one re-send), POST once, "
                 "on each transport")
    stop(nginx)

# ---------------------------------------------------------------- Flask
if not HAVE_FLASK:
    print("Flask part skipped: flask cannot be imported (apt-get install python3-flask)")
else:
    app = os.path.join(SRC, "tests", "flask_app", "app.py")
    flog = open(os.path.join(work, "flask.log"), "w")
    proc = subprocess.Popen([sys.executable, app, "--port", "0"], stdout=subprocess.PIPE,
                            stderr=flog, text=True)
    tidetest._procs.append(proc)
    furl = None
    deadline = time.time() + 20
    while time.time() < deadline and furl is None and proc.poll() is None:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            m = re.search(r"(http://127\.0\.0\.1:\d+)", proc.stdout.readline())
            furl = m.group(1) if m else None
    if check(furl is not None and wait_ready(furl + "/health", proc, "flask"),
             "the Flask app starts", open(flog.name).read()[-2000:]):
        def flask_count():
            return http_json(furl + "/_stats")["total_requests"]

        script = write(work, "flask.lua", KEEP + """
function run()
  keep("health", http.get("/health"))
  keep("head health", http.head("/health"))
  keep("post health", http.post("/health", { body = "x" }))
  keep("missing", http.get("/nope"))
  keep("bad login", http.post("/api/auth/login", { json = { username = "demo", password = "no" } }))
  keep("login form", http.post("/api/auth/login", { form = { username = "demo", password = "demo" } }))
  local r = keep("login", http.post("/api/auth/login", { json = { username = "demo", password = "demo" } }))
  local tok = json.decode(r.body).token
  local A = { headers = { Authorization = "Bearer " .. tok, ["X-Tenant-ID"] = "peers" } }
  keep("no auth", http.get("/api/projects"))
  keep("list", http.get("/api/projects?per_page=1", A))
  local c = keep("create", http.post("/api/projects", { json = { name = "peer-" .. math.random(1, 1000000000), description = "d" },
    headers = A.headers }))
  local p = c.headers["location"] or ("/api/projects/none-" .. c.status)
  keep("get", http.get(p, A))
  keep("put", http.put(p, { json = { name = "renamed-" .. math.random(1e9), description = "e" }, headers = A.headers }))
  keep("patch", http.patch(p, { json = { description = "f" }, headers = A.headers }))
  keep("bad patch", http.patch(p, { body = "{not json", headers = { Authorization = A.headers.Authorization, ["X-Tenant-ID"] = "peers", ["Content-Type"] = "application/json" } }))
  keep("delete", http.delete(p, A))
  keep("gone", http.get(p, A))
  keep("search", http.get("/api/search?q=zzz-none", A))
  keep("logout", http.post("/api/auth/logout", { headers = A.headers }))
  keep("after logout", http.get("/api/projects", A))
  print("CASES " .. json.encode(out))
end
""")
        res = run_both("flask", script, furl, flask_count)
        for transport, got in res.items():
            what = "flask (%s): " % transport
            check_eq(got["login"]["status"], 200, what + "login")
            check_eq(got["create"]["status"], 201, what + "create " + got["create"]["body"][:300])
            check_eq(got["delete"]["status"], 204, what + "delete")
            check_eq(got["gone"]["status"], 404, what + "deleted is gone")
            check_eq(got["no auth"]["status"], 401, what + "no token: 401")
            check_eq(got["after logout"]["status"], 401, what + "token revoked")
        stop(proc)
    flog.close()
done()
