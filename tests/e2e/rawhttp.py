"""Helpers for the tests that compare tide's two HTTP clients (test_stale_retry,
test_expect_continue, test_transport_peers): a raw loopback HTTP/1.1 server whose handler sees
each connection's bytes (to close, reset or answer at a chosen moment), and a runner that runs
a Lua script printing one "CASES <json>" line on a given --transport."""
import json
import os
import socket
import threading
from tidetest import check, load_json, run


class RawServer:
    """Listens on 127.0.0.1 (a free port); handler(conn, number) runs in a thread per
    connection, numbered from 1. Stops accepting when closed (daemon threads end with the
    test)."""

    def __init__(self, handler):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.base = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.handler = handler
        self.count = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            threading.Thread(target=self._serve, args=(c, self.count), daemon=True).start()

    def _serve(self, c, n):
        c.settimeout(20)
        try:
            self.handler(c, n)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()


def read_head(c, buf):
    """Reads one request head from 'c' ('buf': bytes already read). Returns (method, path,
    header lines, Content-Length, rest of buf), or None when the connection closed first."""
    while b"\r\n\r\n" not in buf:
        got = c.recv(65536)
        if not got:
            return None
        buf += got
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    method, path = lines[0].split(" ")[:2]
    return method, path, lines[1:], length, buf


def read_body(c, buf, length):
    """Reads a body of 'length' bytes; returns (body, rest of buf). Shorter when it closed."""
    while len(buf) < length:
        got = c.recv(65536)
        if not got:
            break
        buf += got
    return buf[:length], buf[length:]


def run_cases(script, host, transport, out, extra=()):
    """Runs 'script' once on 'transport'; returns ({case name: case}, summary or None, what
    the run printed). A sanitizer report or a missing CASES line is a failed check."""
    r = run(["run", script, "--host", host, "--transport", transport, "--quiet", "--out", out,
             "--no-default-thresholds", *extra], timeout=120)
    printed = r.stdout + r.stderr
    check("Sanitizer" not in r.stderr, transport + ": no sanitizer report", r.stderr[-3000:])
    line = [x for x in printed.splitlines() if x.startswith("CASES ")]
    check(line, transport + ": the cases ran", r.stdout[-1000:] + r.stderr[-2000:])
    cases = {c["name"]: c for c in json.loads(line[0][6:])} if line else {}
    path = os.path.join(out, "summary.json")
    return cases, (load_json(path) if os.path.exists(path) else None), printed
