"""A stale keep-alive connection (docs/http.md, "Re-sends"; docs/reliability.md): when a reused
connection ends (FIN or RST) before any byte of answer, an idempotent request is sent once
more on a new connection and counted in http_req_retries; a POST is not re-sent and fails
with 1220; a second failure is not retried again. Both transports behave and count the same,
and the server's count is always http_reqs + http_req_retries.

The server here reads each request whole (and counts it) before it decides: it answers the
first request of each connection; on a later one, paths /fin and /rst drop the connection
without answering (a close, or a reset), path /dead drops every request, even a first one."""
import os
import socket
import struct
import threading
from rawhttp import RawServer, read_body, read_head, run_cases as run_script
from tidetest import *

work = tmpdir()
lock = threading.Lock()
received = []  # (method, path, nth request on its connection)


def serve_conn(c, _n):
    buf, nth = b"", 0
    while True:
        req = read_head(c, buf)
        if req is None:
            return
        method, path, _lines, length, buf = req
        _body, buf = read_body(c, buf, length)
        path = path.split("?")[0]
        nth += 1
        with lock:
            received.append((method, path, nth))
        if path == "/dead" or (path in ("/fin", "/rst") and nth > 1):
            if path != "/fin":  # a reset: SO_LINGER 0, then close
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        body = ("%s %s %d" % (method, path, nth)).encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" %
                  (len(body), body if method != "HEAD" else b""))


srv = RawServer(serve_conn)
base = srv.base

# one VU, one iteration: each call reuses the connection the call before left idle
cases = write(work, "stale.lua", """
local http = require "tide.http"
local json = require "tide.json"
options = { iterations = 1, vus = 1 }
local out = {}
local function keep(name, r)
  out[#out + 1] = { name = name, status = r.status, body = r.body,
                    error_code = r.error_code or 0, transport = r.transport }
end
function run()
  keep("warm", http.get("/ok"))
  keep("get fin", http.get("/fin"))    -- 2nd on its connection: dropped, re-sent, answered
  keep("get rst", http.get("/rst"))    -- likewise with a reset
  keep("put rst", http.put("/rst", { body = "p" }))
  keep("delete fin", http.delete("/fin"))
  keep("head fin", http.head("/fin"))
  keep("post fin", http.post("/fin", { body = "once" }))  -- never re-sent: 1220
  keep("warm again", http.get("/ok"))
  keep("patch rst", http.patch("/rst", { body = "once" })) -- never re-sent: 1220
  keep("warm 3", http.get("/ok"))
  keep("get dead", http.get("/dead"))  -- dropped again on the new connection: one re-send only
  print("CASES " .. json.encode(out))
end
""")

RETRIED = ("get fin", "get rst", "put rst", "delete fin", "head fin", "get dead")


def run_cases(transport):
    with lock:
        received.clear()
    got, s, _ = run_script(cases, base, transport, os.path.join(work, "out-" + transport))
    with lock:
        seen = list(received)
    return got, s or {"metrics": {}}, seen


results = {}
for transport in ("native", "curl"):
    got, s, seen = run_cases(transport)
    results[transport] = got
    reqs = metric(s, "http_reqs", "count")
    retries = metric(s, "http_req_retries", "count")
    check_eq(reqs, 11, transport + ": one http_reqs per call")
    check_eq(retries, len(RETRIED), transport + ": each re-send counted in http_req_retries")
    check_eq(len(seen), reqs + (retries or 0),
             transport + ": the server received http_reqs + http_req_retries requests")
    for name in ("warm", "warm again", "warm 3"):
        check_eq(got.get(name, {}).get("status"), 200, transport + ": " + name)
    for name, method, path in (("get fin", "GET", "/fin"), ("get rst", "GET", "/rst"),
                               ("put rst", "PUT", "/rst"), ("delete fin", "DELETE", "/fin")):
        c = got.get(name, {})
        check_eq((c.get("status"), c.get("body")), (200, "%s %s 1" % (method, path)),
                 transport + ": " + name + ": re-sent on a new connection, answered there")
        check_eq(sum(1 for x in seen if x[:2] == (method, path)), 2,
                 transport + ": " + name + ": the server saw it twice")
    check_eq(got.get("head fin", {}).get("status"), 200, transport + ": head fin: re-sent")
    for name, method in (("post fin", "POST"), ("patch rst", "PATCH")):
        c = got.get(name, {})
        check_eq((c.get("status"), c.get("error_code")), (0, 1220),
                 transport + ": " + name + ": not re-sent, error 1220")
        check_eq(sum(1 for x in seen if x[0] == method), 1,
                 transport + ": " + name + ": the server saw it once")
    c = got.get("get dead", {})
    check_eq((c.get("status"), c.get("error_code")), (0, 1220),
             transport + ": get dead: fails after one re-send")
    check_eq(sum(1 for x in seen if x[1] == "/dead"), 2, transport + ": get dead: sent twice")
    kinds = [e["error"] for e in s.get("errors", [])]
    check(any("not re-sent" in k for k in kinds), transport + ": the refused re-send is named",
          kinds)
    retried_series = [x for x in s.get("series", []) if x.get("metric") == "http_req_retries"]
    check(retried_series or s["metrics"].get("http_req_retries"),
          transport + ": http_req_retries in the summary", list(s["metrics"])[:40])

# the same outcome on both transports, call by call
for name in sorted(results["curl"]):
    a, b = dict(results["native"].get(name, {})), dict(results["curl"][name])
    a.pop("transport", None)
    b.pop("transport", None)
    check_eq(a, b, name + ": the same result on both transports")

# a run without any re-send has no http_req_retries at all (not a 0 that means nothing)
plain = write(work, "plain.lua", """
local http = require "tide.http"
options = { iterations = 3, vus = 1 }
function run() http.get("/ok") end
""")
out = os.path.join(work, "plain")
r = run(["run", plain, "--host", base, "--quiet", "--out", out], timeout=60)
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "http_reqs", "count"), 3, "plain: 3 requests")
check("http_req_retries" not in s["metrics"], "plain: no http_req_retries metric")
srv.close()
done()
