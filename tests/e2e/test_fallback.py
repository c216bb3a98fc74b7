"""What only libcurl serves goes to libcurl, visible in res.transport (docs/http.md, "What goes
to libcurl"): a proxy from the environment (libcurl's rules: http_proxy lower case only,
ALL_PROXY, NO_PROXY; https through HTTPS_PROXY in a CONNECT tunnel) or from the `proxy` param /
options.proxy, with --allow-hosts judging the proxy too; a Unix socket (`unix_socket`); Digest and NTLM authentication (`auth`); `http2`.
The proxy, the Unix-socket server and the Digest server are small Python servers on loopback
that count what they served, so a request that claims to have gone through one really did.
--transport native still sends these to libcurl. Unknown params are still refused."""
import hashlib
import http.client
import http.server
import json
import os
import socket
import socketserver
import ssl
import threading
import urllib.parse
from tidetest import *

target, url = start_target()
work = tmpdir()


def serve(server):
    """Serves 'server' (a socketserver) from a thread until the test ends; returns it."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def t_lines(r):
    """The "T key rest" lines a scenario printed, as {key: rest}."""
    return dict(line[2:].split(" ", 1) for line in (r.stdout + r.stderr).splitlines()
                if line.startswith("T "))


# --- a forward proxy: absolute-form requests, forwarded with http.client (no env proxies) ---
class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    forwarded = []

    def do_CONNECT(self):  # https through the proxy: a tunnel to the origin, bytes relayed
        Proxy.forwarded.append("CONNECT " + self.path)
        host, _, port = self.path.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        down = self.connection

        def pump(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            for sock in (a, b):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        back = threading.Thread(target=pump, args=(upstream, down), daemon=True)
        back.start()
        pump(down, upstream)
        back.join(10)
        upstream.close()
        self.close_connection = True

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if not u.scheme:  # not proxy traffic: a client that thinks this is the origin
            self.send_error(400, "not a proxy request")
            return
        Proxy.forwarded.append(self.path)
        c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
        c.request("GET", u.path + ("?" + u.query if u.query else ""),
                  headers={"Host": u.netloc})
        r = c.getresponse()
        body = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Via", "1.1 tide-test-proxy")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        c.close()

    def log_message(self, *args):
        pass


proxy_server = serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy))
proxy = "http://127.0.0.1:%d" % proxy_server.server_address[1]

# one script for every proxy case: plain, proxy = "" (none), redirects = 0, the param
proxy_lua = write(work, "proxy.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 1, vus = 1 }
local base = tide.env("BASE", nil, { secret = false })
local prox = tide.env("PROXY", nil, { secret = false })
local function show(key, r)
  print("T " .. key .. " " .. r.status .. " " .. r.transport .. " " .. tostring(r.headers["via"] ~= nil))
end
function run()
  show("plain", http.get(base .. "/health?plain"))
  show("none", http.get(base .. "/health?none", { proxy = "" }))
  show("noredir", http.get(base .. "/health?noredir", { redirects = 0 }))
  show("param", http.get(base .. "/health?param", { proxy = prox }))
end
""")


# tidetest removed the machine's proxy variables: tide runs with those each case sets
def proxy_run(name, env, extra=()):
    del Proxy.forwarded[:]
    r = run(["run", proxy_lua, "--env", "BASE=" + url, "--env", "PROXY=" + proxy, "--quiet",
             "--no-default-thresholds", "--out", os.path.join(work, name)] + list(extra), env=env)
    check_eq(r.returncode, 0, name + ": the run ends well") or print(r.stderr[-2000:])
    got = t_lines(r)
    paths = sorted(p.split("?")[1] for p in Proxy.forwarded)
    return got, paths


got, paths = proxy_run("env", {"http_proxy": proxy})
check_eq(got.get("plain"), "200 curl true", "http_proxy: served by libcurl through the proxy")
check_eq(got.get("none"), "200 native false", "proxy = \"\": no proxy, native")
check_eq(got.get("noredir"), "200 curl true", "http_proxy: redirects = 0 is still proxied")
check_eq(got.get("param"), "200 curl true", "the proxy param: libcurl through it")
check_eq(paths, ["noredir", "param", "plain"], "the proxy forwarded exactly those requests")

got, paths = proxy_run("env-native", {"http_proxy": proxy}, ["--transport", "native"])
check_eq(got.get("plain"), "200 curl true",
         "--transport native: a proxied request still goes to libcurl, through the proxy")
check_eq(got.get("none"), "200 native false", "--transport native: the rest is native")

got, paths = proxy_run("upper", {"HTTP_PROXY": proxy})
check_eq(got.get("plain"), "200 native false",
         "HTTP_PROXY (upper case) is ignored for http://, as libcurl does")
check_eq(paths, ["param"], "HTTP_PROXY: only the param's request was proxied")

got, paths = proxy_run("all", {"ALL_PROXY": proxy})
check_eq(got.get("plain"), "200 curl true", "ALL_PROXY: libcurl through the proxy")

got, paths = proxy_run("https-only", {"HTTPS_PROXY": proxy})
check_eq(got.get("noredir"), "200 native false",
         "HTTPS_PROXY does not carry http://: native when no redirect is followed")
check_eq(got.get("plain"), "200 curl false",
         "a proxy configured and redirects followed: libcurl (a redirect may need it), direct")

got, paths = proxy_run("no-proxy", {"http_proxy": proxy, "NO_PROXY": "localhost,127.0.0.0/8"})
check_eq(got.get("noredir"), "200 native false", "NO_PROXY (CIDR) exempts the host: native")
check_eq(got.get("plain"), "200 curl false", "NO_PROXY: direct, on libcurl when redirects follow")
check_eq(paths, ["param"], "NO_PROXY: only the explicit param went through the proxy")

# options.proxy: every request's default; the summary counts them as libcurl's
opt_lua = write(work, "opt.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 3, vus = 1, proxy = tide.env("PROXY", nil, { secret = false }) }
function run()
  local r = http.get("/health?opt")
  print("T opt " .. r.status .. " " .. r.transport)
end
""")
del Proxy.forwarded[:]
r = run(["run", opt_lua, "--host", url, "--env", "PROXY=" + proxy, "--quiet",
         "--no-default-thresholds", "--out", os.path.join(work, "opt")])
check_eq(r.returncode, 0, "options.proxy: the run ends well")
check_eq(len(Proxy.forwarded), 3, "options.proxy: every request went through the proxy")
s = load_json(os.path.join(work, "opt", "summary.json"))
check_eq((s["transports"]["curl"], s["transports"]["native"]), (3, 0),
         "options.proxy: summary.json counts them as libcurl's")

# --allow-hosts judges the proxy as well as the target
allow_lua = write(work, "allow.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 1, vus = 1 }
function run()
  local r = http.get("/health?allowed", { proxy = tide.env("PROXY", nil, { secret = false }) })
  print("T allowed " .. r.status .. " " .. tostring(r.error_code))
  r = http.get("/health?refused", { proxy = "http://127.0.0.2:9" })
  print("T refused " .. r.status .. " " .. tostring(r.error_code) .. " " .. tostring(r.error))
end
""")
del Proxy.forwarded[:]
r = run(["run", allow_lua, "--host", url, "--env", "PROXY=" + proxy, "--quiet",
         "--allow-hosts", "127.0.0.1", "--no-default-thresholds", "--out",
         os.path.join(work, "allow")])
got = t_lines(r)
check_eq(got.get("allowed"), "200 nil", "--allow-hosts: a proxy on the list carries the request")
check(got.get("refused", "").startswith("0 1420 host 127.0.0.2 (the proxy)"),
      "--allow-hosts: a proxy off the list is refused (1420), named", got)
check_eq(len(Proxy.forwarded), 1, "--allow-hosts: the refused request went nowhere")

# https through HTTPS_PROXY: a CONNECT tunnel, TLS to the origin inside it
cert, key, cert_error = self_signed_cert(work)
check_eq(cert_error, "", "openssl made a test certificate")


class TLSHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
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
serve(tls_server)
tls_hp = "127.0.0.1:%d" % tls_server.server_address[1]
tls_lua = write(work, "tls.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 1, vus = 1 }
function run()
  local r = http.get("https://" .. tide.env("TLS", nil, { secret = false }) .. "/secure",
                     { redirects = 0 })
  print("T tls " .. r.status .. " " .. r.transport .. " " .. r.body)
end
""")
for name, env, want, tunnels in (
        ("https_proxy", {"https_proxy": proxy}, '200 curl {"tls":true}', 1),
        ("HTTPS_PROXY", {"HTTPS_PROXY": proxy}, '200 curl {"tls":true}', 1),
        ("http_proxy-only", {"http_proxy": proxy}, '200 native {"tls":true}', 0)):
    del Proxy.forwarded[:]
    r = run(["run", tls_lua, "--insecure", "--env", "TLS=" + tls_hp, "--quiet",
             "--no-default-thresholds", "--out", os.path.join(work, "tls-" + name)], env=env)
    check_eq(t_lines(r).get("tls"), want, name + ": an https request " + want.split()[1])
    check_eq(Proxy.forwarded, ["CONNECT " + tls_hp] * tunnels,
             name + ": the proxy tunnelled %d request(s)" % tunnels)
tls_server.shutdown()

# a bad proxy URL: one line, exit 2
bad = write(work, "bad.lua", 'options = { proxy = "ftp://x" }\nfunction run() end\n')
r = run(["run", bad])
check_eq(r.returncode, 2, "options.proxy = \"ftp://x\": exit 2")
check("options.proxy" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
      "options.proxy = \"ftp://x\": one line naming it", r.stderr)


# --- a Unix socket: a Python HTTP server on a socket in the temp dir ---
class UnixHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    served = 0

    def address_string(self):
        return "unix"

    def do_GET(self):
        UnixHandler.served += 1
        body = json.dumps({"path": self.path, "host": self.headers.get("Host")}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = self.socket.accept()
        return conn, ("unix", 0)


sock_path = os.path.join(work, "http.sock")
unix_server = serve(UnixServer(sock_path, UnixHandler))


# --- Digest authentication (RFC 7616, MD5, qop=auth) ---
class DigestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ok = 0
    challenged = 0

    def do_GET(self):
        given = self.headers.get("Authorization", "")
        if given.startswith("Digest ") and digest_valid(given[7:], self.path):
            DigestHandler.ok += 1
            body = b'{"digest":"ok"}'
            self.send_response(200)
        else:
            DigestHandler.challenged += 1
            body = b"no"
            self.send_response(401)
            self.send_header("WWW-Authenticate",
                             'Digest realm="tide", qop="auth", nonce="n0nce42", algorithm=MD5')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def digest_fields(text):
    fields = {}
    for item in text.split(","):
        k, _, v = item.strip().partition("=")
        fields[k] = v.strip('"')
    return fields


def digest_valid(text, path):
    """Whether a Digest Authorization header's fields answer the challenge for 'path'."""
    f = digest_fields(text)
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
    if f.get("username") != "alice" or f.get("nonce") != "n0nce42":
        return False
    ha1 = md5("alice:tide:s3cret")
    ha2 = md5("GET:" + f.get("uri", ""))
    want = md5(":".join([ha1, f["nonce"], f.get("nc", ""), f.get("cnonce", ""), "auth", ha2]))
    return f.get("response") == want and f.get("uri") == path


digest_server = serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), DigestHandler))
digest_hp = "127.0.0.1:%d" % digest_server.server_address[1]

cases_lua = write(work, "cases.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 1, vus = 1 }
local base = tide.env("BASE", nil, { secret = false })
local dig = tide.env("DIGEST", nil, { secret = false })
local sock = tide.env("SOCK", nil, { secret = false })
local function raised(f)
  local ok, err = pcall(f)
  return ok and "no error" or tostring(err):gsub("^.-tide%.http", "tide.http")
end
function run()
  local r = http.get("http://example.invalid/over-unix", { unix_socket = sock })
  print("T unix " .. r.status .. " " .. r.transport .. " " .. r.body)
  r = http.get("http://alice:s3cret@" .. dig .. "/private", { auth = "digest" })
  print("T digest " .. r.status .. " " .. r.transport .. " " .. r.body)
  r = http.get("http://alice:wrong@" .. dig .. "/private", { auth = "digest" })
  print("T digest-wrong " .. r.status .. " " .. r.transport)
  r = http.get("http://bob:pw@" .. base:sub(8) .. "/echo", { auth = "ntlm" })
  print("T ntlm " .. r.status .. " " .. r.transport .. " " .. tostring(r:json().headers.authorization):sub(1, 5))
  r = http.get(base .. "/health", { auth = "basic" })
  print("T basic-plain " .. r.status .. " " .. r.transport)
  r = http.get(base .. "/health", { http2 = true })
  print("T h2c " .. r.status .. " " .. r.transport .. " " .. r.proto)
  r = http.get(base .. "/health")
  print("T plain " .. r.status .. " " .. r.transport .. " " .. r.proto)
  print("T auth-nouser " .. raised(function() http.get(base .. "/health", { auth = "digest" }) end))
  print("T auth-bad " .. raised(function() http.get(base .. "/health", { auth = "kerberos" }) end))
  print("T unknown " .. raised(function() http.get(base .. "/health", { proxi = "x" }) end))
  print("T bad-proxy " .. raised(function() http.get(base .. "/health", { proxy = "gopher://x" }) end))
  print("T bad-h2 " .. raised(function() http.get(base .. "/health", { http2 = "yes" }) end))
  print("T bad-sock " .. raised(function() http.get(base .. "/health", { unix_socket = "" }) end))
end
""")
for transport in ("auto", "native"):
    UnixHandler.served = DigestHandler.ok = 0
    r = run(["run", cases_lua, "--env", "BASE=" + url, "--env", "DIGEST=" + digest_hp, "--env",
             "SOCK=" + sock_path, "--transport", transport, "--quiet", "--no-default-thresholds",
             "--out", os.path.join(work, "cases-" + transport)])
    check("Sanitizer" not in r.stderr, transport + ": no sanitizer report", r.stderr[-3000:])
    check_eq(r.returncode, 0, transport + ": the run ends well")
    got = t_lines(r)
    t = transport + ": "
    check_eq(got.get("unix"), '200 curl {"path": "/over-unix", "host": "example.invalid"}',
             t + "unix_socket: libcurl over the socket, the URL's host in Host")
    check_eq(UnixHandler.served, 1, t + "the Unix-socket server served it")
    check_eq(got.get("digest"), '200 curl {"digest":"ok"}', t + "auth = \"digest\": libcurl, 200")
    check_eq(got.get("digest-wrong"), "401 curl", t + "auth = \"digest\", a wrong password: 401")
    check_eq(DigestHandler.ok, 1, t + "the Digest server accepted exactly one response")
    check_eq(got.get("ntlm"), "200 curl NTLM ", t + "auth = \"ntlm\": libcurl sends NTLM")
    check_eq(got.get("basic-plain"), "200 native", t + "auth = \"basic\" alone changes nothing")
    check_eq(got.get("h2c"), "200 curl HTTP/1.1",
             t + "http2 on http://: libcurl, HTTP/1.1 from a server without h2c")
    check_eq(got.get("plain"), "200 native HTTP/1.1", t + "a plain request stays native")
    check("needs the user name and password in the URL's" in got.get("auth-nouser", ""),
          t + "auth without user info raises", got.get("auth-nouser"))
    check("auth must be" in got.get("auth-bad", ""), t + "an unknown auth scheme raises",
          got.get("auth-bad"))
    check("unknown option 'proxi' (did you mean 'proxy'?)" in got.get("unknown", ""),
          t + "an unknown param still raises, with the closest name", got.get("unknown"))
    check("is not a proxy URL" in got.get("bad-proxy", ""), t + "a bad proxy URL raises",
          got.get("bad-proxy"))
    check("http2 must be true or false" in got.get("bad-h2", ""), t + "http2 = \"yes\" raises",
          got.get("bad-h2"))
    check("unix_socket must be" in got.get("bad-sock", ""), t + "unix_socket = \"\" raises",
          got.get("bad-sock"))
    s = load_json(os.path.join(work, "cases-" + transport, "summary.json"))
    check_eq((s["transports"]["curl"], s["transports"]["native"]), (5, 2),
             t + "summary.json: 5 requests on libcurl, 2 native")

proxy_server.shutdown()
unix_server.shutdown()
digest_server.shutdown()
done()
