"""Expect: 100-continue (docs/http.md): a script's `Expect: 100-continue` header on a request
with a body makes both transports send the head, wait for the 100 (at most 1 s, then send the
body anyway), and never send the body when a final status comes instead; a 417 is the answer
(libcurl 7.88 alone would send the request again and again until the timeout). Both
transports give the same statuses and bodies, and the server sees the same requests.

The loopback server here logs what reached it: heads, bodies (with the time the body came
after its head), and any bytes sent after a final status it gave without reading the body."""
import os
import socket
import threading
import time
from rawhttp import RawServer, read_body, read_head, run_cases as run_script
from tidetest import *

work = tmpdir()
lock = threading.Lock()
events = []  # (connection number, what, path, detail)


def log(*e):
    with lock:
        events.append(e)


def serve_conn(c, n):
    buf = b""
    while True:
        req = read_head(c, buf)
        if req is None:
            return
        _method, path, lines, cl, buf = req
        expect = any(x.lower().replace(" ", "") == "expect:100-continue" for x in lines)
        log(n, "head", path, expect)
        t0 = time.monotonic()

        def take_body():
            nonlocal buf
            body, buf = read_body(c, buf, cl)
            log(n, "body", path, (body.decode("latin-1"), time.monotonic() - t0))

        if path == "/early" and expect:  # a 103 is not the go-ahead: the body waits
            c.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
            c.settimeout(0.3)
            try:
                early = c.recv(65536)
            except socket.timeout:
                early = b""
            c.settimeout(10)
            log(n, "before 100", path, early.decode("latin-1"))
            buf += early
            c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            take_body()
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly")
        elif path == "/continue" and expect:
            c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            take_body()
            c.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\ncreated")
        elif path.startswith("/final/") and expect:  # answers at once, body unread
            code = path[7:10].encode()
            c.sendall(b"HTTP/1.1 " + code + b" X\r\nContent-Length: 4\r\n\r\nnope")
            c.settimeout(0.5)
            try:
                got = c.recv(65536)
            except socket.timeout:
                got = None
            c.settimeout(10)
            if got == b"":
                log(n, "closed after final", path, None)
                return
            if got:
                log(n, "bytes after final", path, got[:5].decode("latin-1"))
                buf += got
        else:  # /silent and everything else: reads the body, answers
            take_body()
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


srv = RawServer(serve_conn)
base = srv.base

cases = write(work, "expect.lua", """
local http = require "tide.http"
local json = require "tide.json"
options = { iterations = 1, vus = 1 }
local out = {}
local E = { Expect = "100-continue" }
local function keep(name, r)
  out[#out + 1] = { name = name, status = r.status, body = r.body, error_code = r.error_code or 0 }
end
function run()
  keep("continue", http.post("/continue", { body = "hello", headers = E }))
  keep("after continue", http.get("/after"))
  keep("early hints", http.post("/early", { body = "later", headers = E }))
  keep("silent", http.put("/silent", { body = "quiet", headers = E }))
  keep("final 200", http.post("/final/200", { body = "never", headers = E }))
  keep("after 200", http.get("/after"))
  keep("final 401", http.post("/final/401", { body = "never", headers = E }))
  keep("final 417", http.post("/final/417", { body = "never", headers = E }))
  keep("after 417", http.get("/after"))
  keep("no expect", http.post("/plain", { body = "direct" }))
  print("CASES " .. json.encode(out))
end
""")


def run_cases(transport):
    with lock:
        events.clear()
    got, _, _ = run_script(cases, base, transport, os.path.join(work, "out-" + transport))
    time.sleep(0.6)  # the server's last wait after a final status
    with lock:
        ev = list(events)
    return got, ev


results = {}
for transport in ("native", "curl"):
    got, ev = run_cases(transport)
    results[transport] = got
    what = transport + ": "
    bodies = {e[2]: e[3] for e in ev if e[1] == "body"}
    heads = [e[2] for e in ev if e[1] == "head"]
    check_eq((got.get("continue", {}).get("status"), got.get("continue", {}).get("body")),
             (201, "created"), what + "the body went after the 100")
    check_eq(bodies.get("/continue", ("",))[0], "hello", what + "the server got the body")
    check_eq((got.get("early hints", {}).get("status"), got.get("early hints", {}).get("body")),
             (200, "early"), what + "103 then 100: answered")
    check_eq([e[3] for e in ev if e[1] == "before 100"], [""],
             what + "a 103 is not the 100: the body waited")
    check_eq(bodies.get("/early", ("",))[0], "later", what + "103 then 100: the body went")
    check_eq(got.get("silent", {}).get("status"), 200, what + "no 100: the body went anyway")
    b = bodies.get("/silent", ("", 0))
    check_eq(b[0], "quiet", what + "no 100: the server got the body")
    check(b[1] >= 0.5, what + "no 100: the body waited for the 100 first", b)
    for code in (200, 401):
        c = got.get("final %d" % code, {})
        check_eq((c.get("status"), c.get("body")), (code, "nope"),
                 what + "a final %d instead of the 100 is the answer" % code)
        check("/final/%d" % code not in bodies, what + "final %d: the body was not sent" % code)
    c = got.get("final 417", {})
    check_eq((c.get("status"), c.get("error_code")), (417, 0), what + "a 417 is the answer")
    check_eq(heads.count("/final/417"), 1, what + "a 417: not sent again")
    check(not any(e[1] == "bytes after final" and e[3].startswith("never") for e in ev),
          what + "no body after a final status", ev)
    for name in ("after continue", "after 200", "after 417"):
        check_eq(got.get(name, {}).get("status"), 200, what + name + ": the next request works")
    check_eq(got.get("no expect", {}).get("status"), 200, what + "no Expect header: no wait")
    check_eq(bodies.get("/plain", ("",))[0], "direct", what + "no Expect header: body sent")
    expects = {e[2]: e[3] for e in ev if e[1] == "head"}
    check_eq(expects.get("/plain"), False, what + "no Expect header of the client's own")
    check_eq(expects.get("/continue"), True, what + "the script's Expect header is sent")

for name in sorted(results["curl"]):
    check_eq(results["native"].get(name), results["curl"][name],
             name + ": the same result on both transports")
srv.close()
done()
