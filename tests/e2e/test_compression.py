"""gzip/deflate bodies (docs/http.md, "Compression") give the same results on both transports:
the same Lua calls run with --transport native and --transport curl against `tide target`
(/gzip/{n}, /deflate/{n}, /_fault/gzip-*) and a raw loopback server (chunked gzip in tiny
pieces, a chain, raw deflate, br left alone, a HEAD, a gzip'd redirect), and every status,
body, header, truncation and error (1701, same text) must agree, as must data_received (the
wire's bytes). A body is decoded only when the request asked (Accept-Encoding or
accept_encoding = true). `compression = "gzip"` sends a body the server can gunzip. A 4 GiB
gzip bomb is cut at max_body on both transports with the process's RSS far below it."""
import gzip
import json
import os
import subprocess
import threading
import time
import zlib
from tidetest import *
from rawhttp import RawServer, read_body, read_head
from rawhttp import run_cases as run_cases_on

target, url = start_target()
work = tmpdir()

TEXT = b"".join(b"line %d of a compressed body\n" % i for i in range(3000))
raw_deflate = zlib.compressobj(wbits=-15)
RAW_DEFLATE = raw_deflate.compress(TEXT) + raw_deflate.flush()


def chunked(data, size):
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def plain(body, headers=b""):
    return b"HTTP/1.1 200 OK\r\n" + headers + b"Content-Length: %d\r\n\r\n" % len(body) + body


# path -> (response bytes, bytes per send: the body reaches tide in pieces this small)
RAW = {
    "/chunked-gzip": (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
                      + chunked(gzip.compress(TEXT), 7), 50),
    "/chain": (plain(gzip.compress(zlib.compress(TEXT)), b"Content-Encoding: deflate, gzip\r\n"), 0),
    "/raw-deflate": (plain(RAW_DEFLATE, b"Content-Encoding: deflate\r\n"), 0),
    "/br": (plain(b"\x1b\x03\x00not really brotli", b"Content-Encoding: br\r\n"), 0),
    "/x-gzip": (plain(gzip.compress(TEXT), b"Content-Encoding: x-gzip\r\n"), 0),
    "/redirect-gzip": (b"HTTP/1.1 302 Found\r\nLocation: /x-gzip\r\nContent-Encoding: gzip\r\n"
                       + b"Content-Length: %d\r\n\r\n" % len(gzip.compress(b"moved"))
                       + gzip.compress(b"moved"), 0),
    "/head": (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 999\r\n\r\n", 0),
    "/empty-gzip": (plain(b"", b"Content-Encoding: gzip\r\n"), 0),
}


def respond(method, path, headers, body):
    if path == "/inflate":  # the request body, decoded as its Content-Encoding says
        enc = headers.get("content-encoding", "")
        out = gzip.decompress(body) if enc == "gzip" else \
            zlib.decompress(body) if enc == "deflate" else b"not compressed"
        return plain(out, b"X-Got-Encoding: " + enc.encode() + b"\r\n"), 0
    return RAW.get(path, (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0))


def handler(c, number):
    """Keep-alive; a response with a step goes out 'step' bytes at a time, so tide reads
    it in pieces."""
    buf = b""
    while True:
        got = read_head(c, buf)
        if got is None:
            return
        method, path, lines, length, buf = got
        body, buf = read_body(c, buf, length)
        headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                   for l in lines if ":" in l}
        data, step = respond(method, path, headers, body)
        for i in range(0, len(data), step or max(len(data), 1)):
            c.sendall(data[i:i + (step or len(data))])
            if step:
                time.sleep(0.0005)


raw_base = RawServer(handler).base

cases = write(work, "cases.lua", """
local http = require "tide.http"
local tide = require "tide"
local json = require "tide.json"
options = { iterations = 1, vus = 1 }
local raw = tide.env("RAW", nil, { secret = false })
local out = {}
local ask = { accept_encoding = true }
local function shown(body)  -- text as is; binary (compressed) bytes as hex; big ones cut
  if #body > 200000 then body = body:sub(1, 100) end
  if body:find("[^\\n\\r\\t\\32-\\126]") then
    return "hex:" .. (body:sub(1, 256):gsub(".", function(c) return string.format("%02x", c:byte()) end))
  end
  return body
end
local function keep(name, r)
  out[#out + 1] = { name = name, status = r.status, body = shown(r.body), bodylen = #r.body,
    error_code = r.error_code or 0, error = r.error or "", transport = r.transport,
    encoding = r.headers["content-encoding"] or "", truncated = r.truncated or false,
    url = r.url }
end
function run()
  keep("gzip", http.get("/gzip/100000", ask))
  keep("deflate", http.get("/deflate/100000", ask))
  keep("deflate raw", http.get("/deflate/100000?raw=1", ask))
  keep("gzip not asked", http.get("/gzip/1000"))
  keep("gzip header asked", http.get("/gzip/1000", { headers = { ["Accept-Encoding"] = "br, gzip" } }))
  keep("gzip q=0", http.get("/gzip/1000", { headers = { ["Accept-Encoding"] = "gzip;q=0" } }))
  keep("gzip discard", http.get("/gzip/100000", { accept_encoding = true, discard_body = true }))
  keep("gzip max_body", http.get("/gzip/100000", { accept_encoding = true, max_body = 1000 }))
  keep("corrupt", http.get("/_fault/gzip-corrupt", ask))
  keep("truncated", http.get("/_fault/gzip-truncated", ask))
  keep("corrupt not asked", http.get("/_fault/gzip-corrupt"))
  keep("after corrupt", http.get("/gzip/10", ask))
  keep("bomb", http.get("/_fault/gzip-bomb?mb=64", ask))
  keep("head", http.head("/gzip/1000", ask))
  for _, p in ipairs({ "/chunked-gzip", "/chain", "/raw-deflate", "/br", "/x-gzip",
                       "/redirect-gzip", "/empty-gzip" }) do
    keep("raw " .. p, http.get(raw .. p, ask))
  end
  keep("raw head", http.head(raw .. "/head", ask))
  keep("post gzip", http.post(raw .. "/inflate", { body = "hello compressed world", compression = "gzip" }))
  keep("post deflate", http.post(raw .. "/inflate", { json = { a = 1 }, compression = "deflate" }))
  print("CASES " .. json.encode(out))
end
""")


def run_cases(transport):
    return run_cases_on(cases, url, transport, os.path.join(work, "cases-" + transport),
                        ["--env", "RAW=" + raw_base])[0]


native = run_cases("native")
curl = run_cases("curl")
check_eq(sorted(native), sorted(curl), "the same cases on both")
for name in sorted(curl):
    a, b = dict(native[name]), dict(curl[name])
    check_eq((a.pop("transport"), b.pop("transport")), ("native", "curl"),
             name + ": each transport served its run")
    check_eq(a, b, name + ": the same result on both transports")
# data_received and tide_content_bytes: the wire's bytes, the same on both (a chunked
# response too: the blank line after its last chunk is counted by neither)
wire = write(work, "wire.lua", """
local http = require "tide.http"
local raw = require("tide").env("RAW", nil, { secret = false })
options = { iterations = 1, vus = 1 }
function run()
  local ask = { accept_encoding = true }
  http.get(raw .. "/chunked-gzip", ask)
  http.get("/gzip/100000", ask)
  http.get("/deflate/100000?raw=1", ask)
  http.get("/_fault/gzip-bomb?mb=64", ask)
  http.get("/_fault/gzip-corrupt", ask)
end
""")
counted = {}
for transport in ("native", "curl"):
    out = os.path.join(work, "wire-" + transport)
    r = run(["run", wire, "--host", url, "--transport", transport, "--quiet", "--out", out,
             "--no-default-thresholds", "--env", "RAW=" + raw_base], timeout=120)
    s = load_json(os.path.join(out, "summary.json"))
    counted[transport] = (metric(s, "data_received", "count"), metric(s, "tide_content_bytes", "count"))
check_eq(counted["native"], counted["curl"], "data_received, tide_content_bytes: the same on both")
check(counted["curl"][0] < (1 << 20), "data_received counts the wire's bytes, not the decoded ones",
      counted)

want = bytes(ord("a") + i % 26 for i in range(100000)).decode()
for name in ("gzip", "deflate", "deflate raw"):
    check_eq(curl[name]["body"] == want, True, name + ": decoded to /bytes/100000's body")
    check_eq(curl[name]["truncated"], False, name + ": not truncated")
check(curl["gzip not asked"]["body"].startswith("hex:1f8b") and curl["gzip not asked"]["bodylen"] < 100,
      "not asked: the body is kept as it came (compressed)", curl["gzip not asked"]["bodylen"])
check_eq(curl["gzip header asked"]["bodylen"], 1000, "an Accept-Encoding header asks too")
check(curl["gzip q=0"]["bodylen"] < 1000, "gzip;q=0 does not ask")
check_eq(curl["gzip"]["encoding"], "gzip", "the Content-Encoding header is kept as received")
check_eq(curl["gzip discard"]["bodylen"], 0, "discard_body: nothing kept")
check_eq((curl["gzip max_body"]["bodylen"], curl["gzip max_body"]["truncated"]), (1000, True),
         "max_body counts decoded bytes")
for name in ("corrupt", "truncated"):
    check_eq((curl[name]["status"], curl[name]["error_code"]), (0, 1701),
             name + ": error 1701")
check_eq(curl["corrupt"]["error"], "response body: bad gzip data (invalid distance too far back)",
         "corrupt: the error says what was wrong")
check_eq(curl["truncated"]["error"], "response body: bad gzip data (the compressed body ended early)",
         "truncated: the error says what was wrong")
check_eq((curl["corrupt not asked"]["status"], curl["corrupt not asked"]["error_code"]), (200, 0),
         "a corrupt body nobody asked to decode is not an error")
check_eq(curl["after corrupt"]["body"], "abcdefghij", "the next request after a bad body works")
check_eq((curl["bomb"]["bodylen"], curl["bomb"]["truncated"]), (16 << 20, True),
         "a 64 MiB bomb is cut at max_body (16 MiB)")
check_eq(curl["head"]["bodylen"], 0, "HEAD: no body to decode")
check_eq(curl["raw /chunked-gzip"]["body"], TEXT.decode(), "chunked gzip in 7-byte chunks")
check_eq(curl["raw /chain"]["body"], TEXT.decode(), "deflate, gzip: both undone")
check_eq(curl["raw /raw-deflate"]["body"], TEXT.decode(), "raw deflate (no zlib header)")
check_eq(curl["raw /x-gzip"]["body"], TEXT.decode(), "x-gzip")
check_eq(curl["raw /br"]["body"], "hex:" + b"\x1b\x03\x00not really brotli".hex(), "br: kept as it came")
check_eq((curl["raw /redirect-gzip"]["body"], curl["raw /redirect-gzip"]["url"]),
         (TEXT.decode(), raw_base + "/x-gzip"), "a gzip'd redirect, then a gzip'd body")
check_eq((curl["raw /empty-gzip"]["status"], curl["raw /empty-gzip"]["bodylen"]), (200, 0),
         "an empty body with Content-Encoding gzip")
check_eq(curl["post gzip"]["body"], "hello compressed world", "compression = gzip: the server gunzips it")
check_eq(json.loads(curl["post deflate"]["body"]), {"a": 1}, "compression = deflate: zlib stream")

# --- bad options: one clear error ---
bad = write(work, "bad.lua", """
local http = require "tide.http"
options = { iterations = 1, vus = 1 }
function run()
  local ok, err = pcall(http.get, "/health", { compression = "br" })
  print("E1 " .. tostring(err))
  ok, err = pcall(http.get, "/health", { accept_encoding = "gzip" })
  print("E2 " .. tostring(err))
  ok, err = pcall(http.get, "/health", { acept_encoding = true })
  print("E3 " .. tostring(err))
end
""")
r = run(["run", bad, "--host", url, "--quiet", "--out", os.path.join(work, "bad")])
outerr = r.stdout + r.stderr
check('compression must be "gzip" or "deflate"' in outerr, "compression = br is refused", outerr[-800:])
check("accept_encoding must be true or false (got a string)" in outerr,
      "accept_encoding must be a boolean", outerr[-800:])
check("did you mean 'accept_encoding'" in outerr, "a misspelt option gets its name", outerr[-800:])

# --- a 4 GiB bomb (4 MiB on the wire): memory stays bounded on both transports ---
bomb = write(work, "bomb.lua", """
local http = require "tide.http"
options = { iterations = 2, vus = 1 }
function run()
  local r = http.get("/_fault/gzip-bomb?mb=4096", { accept_encoding = true })
  print("BOMB " .. r.status .. " " .. #r.body .. " " .. tostring(r.truncated))
end
""")
for transport in ("native", "curl"):
    log = os.path.join(work, "bomb-%s.log" % transport)
    with open(log, "w") as f:
        p = subprocess.Popen([TIDE, "run", bomb, "--host", url, "--transport", transport,
                              "--quiet", "--out", os.path.join(work, "bomb-" + transport),
                              "--no-default-thresholds"], stdout=f, stderr=subprocess.STDOUT)
    guard = threading.Timer(240, p.kill)  # never hangs
    guard.start()
    _, status, usage = os.wait4(p.pid, 0)  # this child's own peak RSS
    guard.cancel()
    with open(log) as f:
        text = f.read()
    lines = [l for l in text.splitlines() if l.startswith("BOMB ")]
    check_eq(lines, ["BOMB 200 16777216 true"] * 2, transport + ": the bomb is cut at max_body")
    check_eq(os.waitstatus_to_exitcode(status), 0, transport + ": the run ends normally")
    peak_mb = usage.ru_maxrss / 1024
    check(peak_mb < 1024, transport + ": peak RSS far below the 4 GiB decoded (%d MB)" % peak_mb)
    print("%s: bomb of 4 GiB, peak RSS %d MB" % (transport, peak_mb))
done()
