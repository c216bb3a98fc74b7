"""`tide target` reads requests with the shared HTTP/1.1 parser (engine/base/http1_parse.c,
docs/architecture.md): raw requests over loopback sockets, as a client may send them. Pipelined
requests in one write get their answers in order; a request sent one byte at a time, chunked
with extensions and trailers, reads the same; Expect: 100-continue gets its interim answer
before the body; HTTP/1.0 closes unless asked to keep alive; and each malformed request gets
its status (400, 413 over --max-body, 431 over the 64 KB head) with the reason, then the close."""
import json
import socket
import time
from tidetest import *

target, url = start_target("--max-body", "1k")
port = int(url.rsplit(":", 1)[1])


def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, buf):
    """One response from the socket (buf: bytes already read); returns (status, headers, body,
    rest of buf), or (None, ...) when the connection closed first."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None, {}, b"", buf
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return status, headers, buf[:n], buf[n:]


def closed(s):
    """True when the server closes the connection (within the socket's timeout)."""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return True
    except (socket.timeout, ConnectionResetError):
        return False


# --- pipelined: four requests in one write, answered in order on one connection ---
s = connect()
s.sendall(b"GET /echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
          b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
          b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          b"3;ext=\"a;b\"\r\nabc\r\n4 \r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n"
          b"GET /echo?last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
buf = b""
got = []
for _ in range(4):
    status, headers, body, buf = read_response(s, buf)
    got.append((status, json.loads(body) if body else None, headers))
check([g[0] for g in got] == [200, 200, 200, 200], "pipelined: four answers", got)
check_eq(got[0][1]["args"], {"a": "1"}, "pipelined: the first request's query")
check_eq(got[1][1]["body"], "hello", "pipelined: a Content-Length body")
check_eq(got[2][1]["body"], "abcdefg", "pipelined: a chunked body with extensions and trailers")
check_eq(got[3][1]["query"], "last", "pipelined: the last request")
check_eq(got[3][2].get("connection"), "close", "Connection: close is answered with close")
check(closed(s), "the connection closes after Connection: close")
s.close()

# --- one byte per write: the same request reads the same ---
s = connect()
req = (b"POST /echo?x=%20y HTTP/1.1\r\nHost: x\r\nX-Multi: a\r\nX-Multi: b\r\n"
       b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;e=1\r\n!\r\n0\r\n\r\n")
for i in range(len(req)):
    s.sendall(req[i:i + 1])
    if i % 8 == 0:
        time.sleep(0.002)  # let the target read (and parse) a piece on its own
status, headers, body, buf = read_response(s, b"")
echo = json.loads(body) if status == 200 else {}
check_eq(status, 200, "byte by byte: answered")
check_eq(echo.get("body"), "hello!", "byte by byte: the chunked body")
check_eq(echo.get("args"), {"x": " y"}, "byte by byte: the query")
check_eq(echo.get("headers", {}).get("x-multi"), "a, b", "byte by byte: repeated headers")
s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
status, _, _, buf = read_response(s, buf)
check_eq(status, 200, "keep-alive: the next request on the same connection")
s.close()

# --- Expect: 100-continue: the interim answer comes before the body is sent ---
s = connect()
s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
status, _, _, buf = read_response(s, b"")
check_eq(status, 100, "Expect: 100-continue gets 100 Continue before the body")
s.sendall(b"body")
status, _, body, buf = read_response(s, buf)
check(status == 200 and json.loads(body)["body"] == "body", "then the request is answered", body)
s.close()

# --- HTTP/1.0: closes by default, keeps alive when asked ---
s = connect()
s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
status, headers, _, _ = read_response(s, b"")
check(status == 200 and headers.get("connection") == "close", "HTTP/1.0: answered, then close",
      headers)
check(closed(s), "HTTP/1.0: the connection closes")
s.close()
s = connect()
s.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
status, headers, _, buf = read_response(s, b"")
check_eq(headers.get("connection"), "keep-alive", "HTTP/1.0 keep-alive is kept")
s.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
status, _, _, _ = read_response(s, buf)
check_eq(status, 200, "HTTP/1.0 keep-alive: a second request")
s.close()

# --- malformed requests: the status, the reason, the close ---
BAD = [
    (b"GET / HTTP/2.0\r\n\r\n", 400, "unsupported HTTP version"),
    (b"G(T / HTTP/1.1\r\n\r\n", 400, "bad method"),
    (b"GET x HTTP/1.1\r\n\r\n", 400, "bad request target"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "obsolete line folding"),
    (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "bad header name"),
    (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400,
     "conflicting Content-Length headers"),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
     "unsupported Transfer-Encoding (only chunked)"),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400,
     "both Content-Length and Transfer-Encoding"),
    (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "bad chunked body"),
    (b"POST /echo HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 413, "request body too large"),
    (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" + b"a" * 512 +
     b"\r\n300\r\n", 413, "request body too large"),
    (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 431, "request head too large"),
]
for raw, want, why in BAD:
    s = connect()
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the target may answer and close before all of a too-large request is sent
    status, _, body, _ = read_response(s, b"")
    err = json.loads(body).get("error") if body else None
    check(status == want and err == why, "%r...: %d %s" % (raw[:24], want, why), (status, body))
    check(closed(s), "%r...: closed after the refusal" % raw[:24])
    s.close()

# the target is still fine, and counted each refusal once
check_eq(http_json(url + "/_stats")["bad_requests"], len(BAD), "/_stats counts the refusals")
s = connect()
s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
status, _, _, _ = read_response(s, b"")
check_eq(status, 200, "the target still answers after the malformed requests")
s.close()
stop(target)
done()
