"""Both HTTP clients give the same results (docs/http.md): the same Lua API calls run with
--transport native and --transport curl against `tide target` and a raw loopback server that
sends tricky framing (chunked with extensions and trailers, read until close, 1xx, garbage,
broken chunks, short bodies, huge headers), and every status, body, header, redirect and
error must agree; the server counts exactly what tide counts on both; each case that auto
leaves to libcurl says so in res.transport; the summary counts requests per transport."""
import json
import os
import socket
import threading
from tidetest import *

target, url = start_target()
work = tmpdir()

# --- a raw server: canned responses by path, keep-alive unless the response ends by close ---
BIG = "X-Big: " + "a" * (200 << 10)
RAW = {
    "/chunked": ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                 "5;ext=\"a;b\"\r\nhello\r\n6 ; x=y\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", False),
    "/close": ("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", True),
    "/http10": ("HTTP/1.0 200 OK\r\n\r\nten", True),
    "/interim": ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", False),
    "/garbage": ("SSH-2.0-OpenSSH_9.2\r\n", True),
    "/badchunk": ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n", True),
    "/short": ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", True),
    "/empty": ("", True),
    "/bighead": ("HTTP/1.1 200 OK\r\n" + BIG + "\r\nContent-Length: 0\r\n\r\n", True),
    "/nolength204": ("HTTP/1.1 204 No Content\r\n\r\n", False),
    "/head": ("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", False),
    "/redir-abs": ("HTTP/1.1 302 Found\r\nLocation: %(base)s/chunked\r\nContent-Length: 0\r\n\r\n", False),
    "/redir-rel": ("HTTP/1.1 301 Moved\r\nLocation: chunked\r\nContent-Length: 3\r\n\r\nabc", False),
    "/redir-file": ("HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n", False),
}
raw_sock = socket.socket()
raw_sock.bind(("127.0.0.1", 0))
raw_sock.listen(64)
raw_base = "http://127.0.0.1:%d" % raw_sock.getsockname()[1]
raw_requests = []


def serve_conn(c):
    c.settimeout(20)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                got = c.recv(65536)
                if not got:
                    return
                buf += got
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            n = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    n = int(line.split(":", 1)[1])
            while len(buf) < n:
                buf += c.recv(65536)
            buf = buf[n:]
            method, path = lines[0].split(" ")[:2]
            raw_requests.append((method, path))
            text, close = RAW.get(path, ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", False))
            c.sendall((text % {"base": raw_base}).encode() if "%(base)" in text else text.encode())
            if close:
                return
    except OSError:
        pass
    finally:
        c.close()


def serve():
    while True:
        try:
            c, _ = raw_sock.accept()
        except OSError:
            return
        threading.Thread(target=serve_conn, args=(c,), daemon=True).start()


threading.Thread(target=serve, daemon=True).start()

# --- the same calls on both transports; one JSON line per call ---
refused = free_port()
cases = write(work, "cases.lua", """
local http = require "tide.http"
local tide = require "tide"
local json = require "tide.json"
options = { iterations = 1, vus = 1 }
local raw = tide.env("RAW", nil, { secret = false })
local out = {}
local function keep(name, r)
  local h = r.headers
  out[#out + 1] = { name = name, status = r.status, body = r.body, url = r.url,
    error_code = r.error_code or 0, proto = r.proto, transport = r.transport,
    ctype = h["content-type"] or "", clen = h["content-length"] or "",
    location = h["location"] or "", trailer = h["x-trailer"] or "",
    truncated = r.truncated or false }
end
function run()
  keep("get", http.get("/echo?a=1&b=two", { headers = { ["X-Custom"] = "v", Accept = "text/plain" } }))
  keep("post json", http.post("/echo", { json = { a = 1, b = { 2, 3 } } }))
  keep("post form", http.post("/echo", { form = { x = "1 2&=" } }))
  keep("post raw", http.post("/echo", { body = "raw body", headers = { ["Content-Type"] = "text/x" } }))
  keep("post empty", http.post("/echo"))
  keep("put", http.put("/echo/p", { body = "put" }))
  keep("patch", http.patch("/echo/p", { json = { z = true } }))
  keep("delete", http.delete("/echo/d"))
  keep("options", http.request("OPTIONS", "/echo/o"))
  keep("removed header", http.get("/echo", { headers = { ["User-Agent"] = "" } }))
  keep("head", http.head("/bytes/100"))
  keep("bytes", http.get("/bytes/100000"))
  keep("204", http.get("/status/204"))
  keep("304", http.get("/status/304"))
  keep("503", http.get("/status/503"))
  keep("redirect 3", http.get("/redirect/3"))
  keep("redirect cap", http.get("/redirect/3", { redirects = 1 }))
  keep("redirect off", http.get("/redirect/3", { redirects = 0 }))
  keep("redirect post", http.post("/redirect/1", { body = "x" }))
  keep("timeout", http.get("/delay?ms=3000", { timeout = "200ms" }))
  keep("refused", http.get("http://127.0.0.1:%d/"))
  keep("discard", http.get("/bytes/5000", { discard_body = true }))
  keep("max_body", http.get("/bytes/5000", { max_body = 100 }))
  for _, p in ipairs({ "/chunked", "/close", "/http10", "/interim", "/garbage", "/badchunk",
                       "/short", "/empty", "/bighead", "/nolength204", "/redir-abs",
                       "/redir-rel", "/redir-file" }) do
    keep("raw " .. p, http.get(raw .. p))
  end
  keep("raw head", http.head(raw .. "/head"))
  keep("raw after head", http.get(raw .. "/chunked"))
  print("CASES " .. json.encode(out))
end
""" % refused)


def run_cases(transport):
    out = os.path.join(work, "cases-" + transport)
    r = run(["run", cases, "--host", url, "--transport", transport, "--env", "RAW=" + raw_base,
             "--quiet", "--out", out, "--no-default-thresholds"], timeout=120)
    check("Sanitizer" not in r.stderr, transport + ": no sanitizer report", r.stderr[-3000:])
    line = [x for x in (r.stdout + r.stderr).splitlines() if x.startswith("CASES ")]
    check(line, transport + ": the cases ran", r.stdout[-1000:] + r.stderr[-2000:])
    return {c["name"]: c for c in json.loads(line[0][6:])} if line else {}


native = run_cases("native")
curl = run_cases("curl")
check_eq(sorted(native), sorted(curl), "the same cases on both")
for name in sorted(curl):
    a, b = dict(native[name]), dict(curl[name])
    check_eq(b["transport"], "curl", name + ": --transport curl is served by libcurl")
    check_eq(a["transport"], "native", name + ": --transport native serves plain http")
    a.pop("transport")
    b.pop("transport")
    for x in (a, b):  # /echo: compared as JSON (header order follows a Lua table's)
        if x["body"].startswith('{"method"'):
            x["body"] = json.loads(x["body"])
    check_eq(a, b, name + ": the same result on both transports")
# a few that must be what they are, not merely equal
check_eq(curl["raw /chunked"]["body"], "hello world", "chunked with extensions decoded")
check_eq(curl["raw /chunked"]["trailer"], "t", "trailers are headers of the response")
check_eq(curl["raw /close"]["body"], "until the end", "read until close")
check_eq(curl["raw /garbage"]["error_code"], 1500, "garbage: 1500")
check_eq(curl["raw /empty"]["error_code"], 1220, "empty reply: 1220")
check_eq(curl["raw /bighead"]["error_code"], 1000, "header too large: 1000")
check_eq(curl["raw /redir-file"]["error_code"], 1410, "redirect to file://: 1410")
check_eq(curl["redirect cap"]["error_code"], 1400, "too many redirects: 1400")
check_eq(curl["timeout"]["error_code"], 1050, "timeout: 1050")
check_eq(curl["refused"]["error_code"], 1212, "refused: 1212")
check_eq(curl["raw after head"]["body"], "hello world", "a HEAD's connection is reused cleanly")

# --- load: the server counts what tide counts, per transport ---
load = write(work, "load.lua", """
local http = require "tide.http"
local tide = require "tide"
function run()
  local r = http.post("/echo", { json = { n = tide.vu.iteration } })
  tide.check(r, { ["200"] = function(x) return x.status == 200 end })
  http.get("/health")
  http.get("/status/404")
end
""")
for transport, want in (("native", "native"), ("curl", "curl"), ("auto", "native")):
    http_json(url + "/_stats/reset", method="POST", body={})
    before = http_json(url + "/_stats")["connections"]["total"]
    out = os.path.join(work, "load-" + transport)
    r = run(["run", load, "--host", url, "--transport", transport, "--vus", "4",
             "--iterations", "100", "--quiet", "--out", out, "--no-default-thresholds"])
    check(r.returncode == 0, transport + ": load ran", r.stderr[-1000:])
    s = load_json(os.path.join(out, "summary.json"))
    stats = http_json(url + "/_stats")
    check_eq(metric(s, "http_reqs", "count"), stats["total_requests"],
             transport + ": the server received exactly what tide counted")
    check_eq(metric(s, "http_reqs", "count"), 300, transport + ": every request counted")
    other = "curl" if want == "native" else "native"
    check_eq((s["transports"][want], s["transports"][other]), (300, 0),
             transport + ": summary.json counts requests per transport")
    opened = stats["connections"]["total"] - before - 1  # the /_stats call just made
    if want == "native":  # libcurl's own pool may open more
        check(opened <= 4, transport + ": one keep-alive connection per VU", opened)

# --- what auto leaves to libcurl, visible in res.transport ---
pem = write(work, "dummy.pem", "not really a certificate\n")
fallback = write(work, "fallback.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 1, vus = 1 }
local base = tide.env("BASE", nil, { secret = false })
function run()
  local r = http.get("/health")
  print("T plain " .. r.transport)
  r = http.get("/health", { cert = "%s", key = "%s" })
  print("T cert " .. r.transport)
  r = http.get("/health", { ca_bundle = "%s" })
  print("T ca " .. r.transport)
  r = http.get("http://user:pw@" .. base:sub(8) .. "/echo")
  print("T userinfo " .. r.transport .. " " .. tostring(r:json().headers.authorization))
  r = http.get("/health")
  print("T before-cookie " .. r.transport)
  r = http.get("/cookies/set?sid=abc")
  print("T set-cookie " .. r.transport)
  r = http.get("/cookies")
  print("T after-cookie " .. r.transport .. " " .. tostring(r:json().cookies.sid))
  -- one jar for both transports: a CA bundle sends a request to libcurl (http: unused)
  r = http.get("/cookies", { ca_bundle = "%s" })
  print("T native-to-curl " .. r.transport .. " " .. tostring(r:json().cookies.sid))
  r = http.get("/cookies/set?cv=xyz", { ca_bundle = "%s" })
  print("T curl-sets " .. r.transport)
  r = http.get("/cookies")
  print("T curl-to-native " .. r.transport .. " " .. tostring(r:json().cookies.cv))
end
""" % (pem, pem, pem, pem, pem))
r = run(["run", fallback, "--host", url, "--env", "BASE=" + url, "--quiet", "--out",
         os.path.join(work, "fb"), "--no-default-thresholds"])
got = dict(line[2:].split(" ", 1) for line in (r.stdout + r.stderr).splitlines()
           if line.startswith("T "))
check_eq(got.get("plain"), "native", "auto: plain http is native")
check_eq(got.get("cert"), "curl", "auto: a client certificate goes to libcurl")
check_eq(got.get("ca"), "curl", "auto: a CA bundle goes to libcurl")
check(got.get("userinfo", "").startswith("curl Basic "), "auto: user info in the URL: libcurl",
      got)
check_eq(got.get("before-cookie"), "native", "auto: plain http is native")
check_eq(got.get("set-cookie"), "native", "auto: the response that sets a cookie")
check_eq(got.get("after-cookie"), "native abc",
         "auto: a VU with cookies stays native and sends them (one jar, tide's)")
check_eq(got.get("native-to-curl"), "curl abc",
         "a cookie set on the native path is sent by the libcurl path")
check_eq(got.get("curl-sets"), "curl", "a CA bundle: libcurl sets a cookie")
check_eq(got.get("curl-to-native"), "native xyz",
         "a cookie set on the libcurl path is sent by the native path")

# --- TLS: the same results over https (a self-signed certificate, on loopback) ---
import ssl
import subprocess
import http.server
cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                       "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                       "subjectAltName=DNS:localhost,IP:127.0.0.1"], capture_output=True)
check_eq(made.returncode, 0, "openssl made a test certificate")


class TLSHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/to-http":
            self.send_response(302)
            self.send_header("Location", url + "/health")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"tls":true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


tls_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TLSHandler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
tls_server.socket = ctx.wrap_socket(tls_server.socket, server_side=True)
threading.Thread(target=tls_server.serve_forever, daemon=True).start()
tls_base = "https://127.0.0.1:%d" % tls_server.server_address[1]
tls_cases = write(work, "tls.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 1, vus = 1 }
local base = tide.env("TLS", nil, { secret = false })
function run()
  for i = 1, 3 do  -- the second and third reuse the connection
    local r = http.get(base .. "/x")
    print("T get" .. i .. " " .. r.status .. " " .. r.body .. " " .. tostring(r.error_code) .. " " .. r.transport)
  end
  local r = http.get(base:gsub("127.0.0.1", "localhost") .. "/x")
  print("T name " .. r.status .. " " .. tostring(r.error_code))
  r = http.get(base .. "/to-http")
  print("T redirect " .. r.status .. " " .. r.url .. " " .. tostring(r.error_code))
end
""")
tls = {}
for transport in ("native", "curl"):
    for flags in ([], ["--insecure"]):
        r = run(["run", tls_cases, "--transport", transport, "--env", "TLS=" + tls_base, "--quiet",
                 "--out", os.path.join(work, "tls-%s%d" % (transport, len(flags))),
                 "--no-default-thresholds"] + flags)
        check("Sanitizer" not in r.stderr, "https: no sanitizer report", r.stderr[-3000:])
        tls[(transport, bool(flags))] = dict(
            line[2:].split(" ", 1) for line in (r.stdout + r.stderr).splitlines()
            if line.startswith("T "))
for insecure in (False, True):
    a, b = tls[("native", insecure)], tls[("curl", insecure)]
    check(a.get("get1", "").endswith(" native") and b.get("get1", "").endswith(" curl"),
          "https: each transport served its own run", (a, b))
    strip = lambda d: {k: v.replace(" native", "").replace(" curl", "") for k, v in d.items()}
    check_eq(strip(a), strip(b), "https (insecure=%s): the same results on both" % insecure)
check_eq(tls[("native", False)].get("get1"), "0  1300 native",
         "https: a self-signed certificate fails verification (1300)")
check_eq(tls[("native", True)].get("get3"), '200 {"tls":true} nil native',
         "https --insecure: 200 over a reused TLS connection")
check_eq(tls[("native", True)].get("redirect"), "200 %s/health nil" % url,
         "https --insecure: a redirect from https to http is followed")
tls_server.shutdown()

# --- a bad --transport is a usage error ---
r = run(["run", load, "--transport", "fast"])
check_eq(r.returncode, 2, "--transport fast: exit 2")
check("--transport" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
      "--transport fast: one line", r.stderr)
bad = write(work, "bad.lua", 'options = { transport = "h3" }\nfunction run() end\n')
r = run(["run", bad])
check_eq(r.returncode, 2, "options.transport = \"h3\": exit 2")
check("options.transport" in r.stderr, "options.transport: named", r.stderr)
raw_sock.close()
done()
