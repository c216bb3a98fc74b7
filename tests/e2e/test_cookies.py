"""Cookies owned by tide (engine/core/cookiejar.c, docs/http.md#cookies), end to end.

Against a small cookie server of this test (any Set-Cookie it is told, a 302 that sets one, an
echo of the Cookie header): Path, Domain (127.0.0.1 vs localhost), Secure, Max-Age/Expires,
replacement, a cookie set by a 302 sent on the redirect hop, a POST made a GET by the 302 (its
body headers dropped, a PUT's kept), the script's own Cookie and Authorization headers merged
or kept on the same origin and dropped on a cross-origin hop, the jar
API (set, cookies_for_url, delete, clear), res.cookies. Against `tide target`: each VU sends
only its own cookies. No cookie value reaches stdout, stderr or any file of the run folder."""
import http.server
import os
import secrets
import threading
import urllib.parse
from tidetest import *

TOKEN = "tok" + secrets.token_hex(12)  # a session cookie's value: must never be written out


class CookieServer(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qsl(u.query)
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if u.path == "/set":  # /set?h1=<Set-Cookie value>&h2=...
            self.reply(200, b"set", [("Set-Cookie", v) for k, v in q if k.startswith("h")])
        elif u.path == "/login":  # a 302 that sets the session cookie
            self.reply(302, b"", [("Set-Cookie", "sid=%s; Path=/; HttpOnly" % TOKEN),
                                  ("Location", "/echo/after-login")])
        elif u.path == "/cross":  # a 302 to another origin (localhost)
            port = self.server.server_address[1]
            self.reply(302, b"", [("Set-Cookie", "crossc=1"),
                                  ("Location", "http://localhost:%d/echo/cross" % port)])
        elif u.path == "/hop":  # a 302 to /headers, on this origin or on localhost's
            port = self.server.server_address[1]
            to = "http://localhost:%d/headers" % port if q and q[0][1] == "cross" else "/headers"
            self.reply(302, b"", [("Location", to)])
        elif u.path == "/headers":  # "METHOD|Authorization|Content-Type"
            body = "%s|%s|%s" % (self.command, self.headers.get("Authorization") or "",
                                 self.headers.get("Content-Type") or "")
            self.reply(200, body.encode())
        else:  # the method and the Cookie header, as "METHOD|a=1; b=2"
            body = "%s|%s" % (self.command, self.headers.get("Cookie") or "")
            self.reply(200, body.encode())

    do_GET = do_POST = do_PUT = route


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CookieServer)
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]
work = tmpdir()

script = write(work, "cookies.lua", r'''
local http = require "tide.http"
local tide = require "tide"
local B = "http://127.0.0.1:%d"
local L = "http://localhost:%d"
-- not registered as a secret: the check below is that tide writes no cookie value at all
local TOKEN = tide.env("COOKIE_TOKEN", nil, { secret = false })
local function ok(name, cond) tide.check(cond, { [name] = function(v) return v == true end }) end
-- the Cookie header the server saw, as "METHOD|a=1; b=2"
local function sent(url, opts) return http.get(url, opts).body end
local function has(echo, pair) return ("; " .. echo:gsub("^%%u+|", "") .. ";"):find("; " .. pair .. ";", 1, true) ~= nil end

function run()
  local r = http.get(B .. "/set", { query = {
    h1 = "plain=" .. TOKEN, h2 = "sub=1; Path=/echo/sub", h3 = "sec=1; Secure",
    h4 = "other=1; Domain=example.com", h5 = "ho=1; HttpOnly; SameSite=Lax",
    h6 = "short=1; Max-Age=1", h7 = "gone=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT",
    h8 = "repl=old" } })
  ok("res.cookies has the value", r.cookies.plain ~= nil and r.cookies.plain.value == TOKEN)
  ok("res.cookies path", r.cookies.sub ~= nil and r.cookies.sub.path == "/echo/sub")
  ok("res.cookies http_only and samesite", r.cookies.ho ~= nil and r.cookies.ho.http_only == true
     and r.cookies.ho.samesite == "Lax" and r.cookies.ho.domain == "127.0.0.1")
  ok("res.cookies expires", r.cookies.short ~= nil and type(r.cookies.short.expires) == "number")
  ok("res.cookies: a Secure cookie over http is refused", r.cookies.sec == nil)
  http.get(B .. "/set", { query = { h1 = "repl=new" } })

  local e = sent(B .. "/echo")
  ok("sent: a later request gets the cookie", has(e, "plain=" .. TOKEN))
  ok("sent: HttpOnly cookies go over HTTP", has(e, "ho=1"))
  ok("sent: replaced by name, domain, path", has(e, "repl=new") and not e:find("repl=old", 1, true))
  ok("not sent: Path elsewhere", not e:find("sub=1", 1, true))
  ok("not sent: Secure over http", not e:find("sec=1", 1, true))
  ok("not sent: Domain of another site", not e:find("other=1", 1, true))
  ok("not sent: expired Expires", not e:find("gone=1", 1, true))
  local deep = sent(B .. "/echo/sub/page")
  ok("Path: sent below it, longer path first", deep:find("^GET|sub=1; ") ~= nil)

  -- Domain: host-only cookies of 127.0.0.1 are not sent to localhost, and back
  ok("host-only: not sent to another host", not sent(L .. "/echo"):find("plain", 1, true))
  http.get(L .. "/set", { query = { h1 = "dom=1; Domain=localhost" } })
  ok("Domain=localhost sent to localhost", has(sent(L .. "/echo"), "dom=1"))
  ok("Domain=localhost not sent to 127.0.0.1", not sent(B .. "/echo"):find("dom=1", 1, true))

  -- the script's own Cookie header is merged; its names win
  local m = sent(B .. "/echo", { headers = { Cookie = "plain=mine; extra=2" } })
  ok("merged: the script's own first", m:find("^GET|plain=mine; extra=2; ") ~= nil)
  ok("merged: the jar's of the same name left out", not m:find(TOKEN, 1, true) and has(m, "ho=1"))

  -- redirects: a cookie set by a 302 is sent on the hop; a POST becomes a GET
  local lg = http.get(B .. "/login")
  ok("302 followed", lg.status == 200 and lg.url:find("/echo/after%%-login$") ~= nil)
  ok("cookie set in a 302 sent on the redirect hop", has(lg.body, "sid=" .. TOKEN))
  local lp = http.post(B .. "/login", "a=1")
  ok("POST made a GET by the 302", lp.body:find("^GET|") ~= nil)
  local no = http.get(B .. "/login", { redirects = 0 })
  ok("redirects = 0: the 302, its cookie kept", no.status == 302 and no.cookies.sid ~= nil)
  -- a cross-origin hop: no script Cookie header, no cookie of the first host
  local cr = http.get(B .. "/cross", { headers = { Cookie = "mine=1" } })
  ok("cross-origin hop followed", cr.status == 200 and cr.url:find("^http://localhost") ~= nil)
  ok("cross-origin hop: the script's Cookie header dropped", not cr.body:find("mine=1", 1, true))
  ok("cross-origin hop: the first host's cookies stay there",
     not cr.body:find("crossc", 1, true) and not cr.body:find(TOKEN, 1, true) and has(cr.body, "dom=1"))
  ok("cross-origin hop: its cookie stored for the first host", has(sent(B .. "/echo"), "crossc=1"))
  local auth = { headers = { Authorization = "Bearer x1" } }
  ok("same-origin hop keeps Authorization", http.get(B .. "/hop", auth).body == "GET|Bearer x1|")
  ok("cross-origin hop drops Authorization", http.get(B .. "/hop?to=cross", auth).body == "GET||")
  ok("POST made a GET drops Content-Type", http.post(B .. "/hop", { json = { a = 1 } }).body == "GET||")
  local kept = http.request("PUT", B .. "/hop", { json = { a = 1 } })
  ok("PUT kept by a 302 keeps its body headers", kept.body == "PUT||application/json")

  -- Max-Age expiry
  tide.sleep(2.2)
  ok("Max-Age=1 expired", not sent(B .. "/echo"):find("short=1", 1, true))
  http.get(B .. "/set", { query = { h1 = "ho=x; Max-Age=0" } })
  ok("Max-Age=0 deletes", not sent(B .. "/echo"):find("ho=", 1, true))

  -- the jar API
  local jar = http.cookie_jar()
  local c = jar:cookies_for_url(B .. "/echo")
  ok("cookies_for_url sees the response's cookies", c.plain == TOKEN and c.sid == TOKEN)
  ok("cookies_for_url: only what the URL gets", c.sub == nil and c.dom == nil)
  ok("jar:set", jar:set(B .. "/", "api", "v1") == true and has(sent(B .. "/echo"), "api=v1"))
  ok("jar:set path", jar:set(B .. "/", "p", "1", { path = "/echo/sub" }) == true
     and has(sent(B .. "/echo/sub/x"), "p=1") and not sent(B .. "/echo"):find("p=1", 1, true))
  ok("jar:set secure: not over http", jar:set(B .. "/", "s", "1", { secure = true }) == true
     and not sent(B .. "/echo"):find("s=1", 1, true))
  ok("jar:set domain of another site refused",
     jar:set(B .. "/", "x", "1", { domain = "example.com" }) == false)
  ok("jar:set max_age", jar:set(B .. "/", "ma", "1", { max_age = 3600, http_only = true }) == true
     and jar:cookies_for_url(B .. "/").ma == "1")
  ok("jar:set expires in the past", jar:set(B .. "/", "old", "1",
     { expires = "Sun, 06 Nov 1994 08:49:37 GMT" }) == true and jar:cookies_for_url(B .. "/").old == nil)
  ok("jar:set relative URL (--host)", jar:set("/", "rel", "1") == true and has(sent("/echo"), "rel=1"))
  ok("jar:set bad name raises", not pcall(jar.set, jar, B .. "/", "a;b", "1"))
  ok("jar:delete", jar:delete(B .. "/", "api") == 1 and not sent(B .. "/echo"):find("api=", 1, true))
  ok("jar:clear(url)", jar:clear(B .. "/") > 0 and sent(B .. "/echo") == "GET|")
  ok("jar:clear(url) leaves other hosts", jar:cookies_for_url(L .. "/").dom == "1")
  jar:clear()
  ok("jar:clear() empties the jar", next(jar:cookies_for_url(L .. "/")) == nil)
end
''' % (port, port))

out = os.path.join(work, "out")
r = run(["run", script, "--host", "http://127.0.0.1:%d" % port, "--iterations", "1", "--out", out],
        env={"COOKIE_TOKEN": TOKEN}, timeout=120)
check(r.returncode == 0, "cookie script runs", r.stderr[-2000:])
names = [l.split('ok("', 1)[1].split('"', 1)[0] for l in open(script) if 'ok("' in l and "local function" not in l]
try:
    s = load_json(os.path.join(out, "summary.json"))
    got = {c["name"]: (c["passes"], c["fails"]) for c in s["checks"]}
except (OSError, ValueError, KeyError) as e:
    got = {}
    check(False, "summary.json read", e)
for n in names:
    check_eq(got.get(n), (1, 0), n)
print("checked %d named checks" % len(names))

# --- nothing sensitive in outputs: the session cookie's value is written nowhere ---
check(TOKEN not in r.stdout and TOKEN not in r.stderr, "no cookie value on stdout/stderr")
leaks = []
for root, _, files in os.walk(out):
    for f in files:
        with open(os.path.join(root, f), "rb") as fh:
            if TOKEN.encode() in fh.read():
                leaks.append(os.path.join(root, f))
check_eq(leaks, [], "no cookie value in any file of the run folder")

# --- against tide target: each VU sends its own cookies only ---
target, url = start_target()
pervu = write(work, "pervu.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { scenarios = { c = { executor = "per-vu-iterations", vus = 4, iterations = 3 } } }
function run()
  local id = tostring(tide.vu.id)
  if tide.vu.iteration == 0 then
    http.get("/cookies/set?vu=" .. id)
    http.cookie_jar():set("/", "jar", id)
  else
    local seen = http.get("/cookies"):json().cookies
    tide.check(seen, {
      ["a VU sends only its own response cookie"] = function(c) return c.vu == id end,
      ["a VU sends only its own jar cookie"] = function(c) return c.jar == id end,
    })
    local mine = http.cookie_jar():cookies_for_url("/")
    tide.check(mine, { ["a VU's jar holds its own"] = function(c) return c.vu == id and c.jar == id end })
  end
end
""")
out2 = os.path.join(work, "pervu")
r = run(["run", pervu, "--host", url, "--quiet", "--out", out2], timeout=120)
check(r.returncode == 0, "per-VU run", r.stderr[-2000:])
s = load_json(os.path.join(out2, "summary.json"))
check_eq(sorted((c["name"], c["passes"], c["fails"]) for c in s["checks"]),
         [("a VU sends only its own jar cookie", 8, 0),
          ("a VU sends only its own response cookie", 8, 0),
          ("a VU's jar holds its own", 8, 0)], "cookies stay with their VU")
done()
