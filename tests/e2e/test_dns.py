"""Names on both transports (docs/http.md, "DNS"): the same requests with --transport native and
--transport curl must give the same results.

On loopback: `localhost` is 127.0.0.1 then ::1 on both, so a server listening on only one of
them is reached (the native client tries the next address when a connection is refused);
`*.localhost` too; an address that refuses on every family gives the same error; a name
under `.invalid` gives the same error (1100, or 1050 when the machine's name server does not
answer within the request's short timeout, on both).

In a network namespace of its own (unshare --net --mount, skipped when impossible) with its
own /etc/hosts and resolv.conf pointing at a tiny DNS server this test runs on 127.0.0.1:53:
a name with two addresses (::1 first, the server on 127.0.0.1 only) is reached; while one VU
waits for a name the server never answers, another VU of the same worker goes on sending
(the system resolver would hold a blocking lookup for 5 s); 200 VUs asking
for one name make one lookup on the native path (the server counts the queries); a name the
server answers late shows in http_req_blocked on both; a name it never answers ends at the
request's timeout with libcurl's "Resolving timed out" on both; and a run whose VUs are all
waiting for a lookup when its duration ends stops in bounded time."""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tidetest import *  # noqa: E402,F403

IN_NS = os.environ.get("TIDE_DNS_TEST_NS") == "1"
servers = {}  # port: server
work = tmpdir()


class Label(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.times.append(time.time())
        body = self.server.label.encode()
        try:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # a client that went away (a run ending): not this test's concern
            pass

    def log_message(self, *a):
        pass


class V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(addr, label, port=0):
    """An HTTP server on one address only that answers its label; returns its port."""
    cls = V6Server if ":" in addr else ThreadingHTTPServer
    cls.request_queue_size = 1024  # 200 VUs connect at once
    srv = cls((addr, port), Label)
    srv.daemon_threads = True
    srv.label = label
    srv.times = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers[srv.server_address[1]] = srv
    return srv.server_address[1]


def refused_on(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam)
    s.settimeout(2)
    try:
        return s.connect_ex((addr, port)) != 0
    finally:
        s.close()


CASES = """
local http = require "tide.http"
local json = require "tide.json"
options = { iterations = 1, vus = 1 }
local out = {}
function run()
  for _, c in ipairs(json.decode(%r)) do
    local r = http.get(c[2], { timeout = c[3] or "3s" })
    out[#out + 1] = { name = c[1], status = r.status, body = r.body or "",
      error_code = r.error_code or 0, error = r.error or "", transport = r.transport,
      blocked = r.timings.blocked }
  end
  print("CASES " .. json.encode(out))
end
"""


def run_cases(cases, transport, tag):
    script = write(work, "cases-%s.lua" % tag, CASES % json.dumps(cases))
    t0 = time.time()
    r = run(["run", script, "--transport", transport, "--quiet", "--no-default-thresholds",
             "--out", os.path.join(work, "out-%s-%s" % (tag, transport))], timeout=120)
    check("Sanitizer" not in r.stderr and "runtime error" not in r.stderr,
          "%s/%s: no sanitizer report" % (tag, transport), r.stderr[-3000:])
    print("%s/%s: %.1f s" % (tag, transport, time.time() - t0))
    line = [x for x in (r.stdout + r.stderr).splitlines() if x.startswith("CASES ")]
    check(line, "%s/%s: the cases ran" % (tag, transport), r.stdout[-800:] + r.stderr[-1500:])
    return {c["name"]: c for c in json.loads(line[0][6:])} if line else {}


def digits_out(text):
    return "".join("#" if ch.isdigit() else ch for ch in text)


def both(cases, tag):
    """Runs 'cases' on both transports; checks each is served as asked and that both agree on
    status, body, error code and error text (numbers in it aside: milliseconds differ)."""
    got = {t: run_cases(cases, t, tag) for t in ("native", "curl")}
    for name in sorted(got["curl"]):
        a, b = got["native"].get(name, {}), got["curl"][name]
        check_eq(a.get("transport"), "native", name + ": served natively")
        check_eq(b.get("transport"), "curl", name + ": served by libcurl")
        check_eq((a.get("status"), a.get("body"), a.get("error_code"),
                  digits_out(a.get("error", ""))),
                 (b["status"], b["body"], b["error_code"], digits_out(b["error"])),
                 name + ": the same result on both transports")
    return got


def loopback_part():
    v4 = serve("127.0.0.1", "v4")
    try:
        v6 = serve("::1", "v6")
    except OSError:
        v6 = None
    cases = [["localhost v4", "http://localhost:%d/" % v4],
             ["sub.localhost v4", "http://api.test.localhost:%d/" % v4],
             ["numeric v4", "http://127.0.0.1:%d/" % v4],
             ["invalid", "http://tide-dns-test.invalid/", "2s"]]
    if v6 is not None and refused_on("127.0.0.1", v6):
        # localhost is 127.0.0.1 first: refused there, served on ::1
        cases += [["localhost v6 only", "http://localhost:%d/" % v6],
                  ["numeric v6", "http://[::1]:%d/" % v6]]
    dead = free_port()
    if refused_on("127.0.0.1", dead) and (v6 is None or refused_on("::1", dead)):
        cases.append(["localhost refused", "http://localhost:%d/" % dead])
    got = both(cases, "loopback")
    for t in ("native", "curl"):
        g = got[t]
        check_eq((g.get("localhost v4", {}).get("status"), g.get("localhost v4", {}).get("body")),
                 (200, "v4"), t + ": localhost reaches a server on 127.0.0.1 only")
        check_eq(g.get("sub.localhost v4", {}).get("body"), "v4", t + ": *.localhost too")
        if "localhost v6 only" in g:
            check_eq((g["localhost v6 only"]["status"], g["localhost v6 only"]["body"]),
                     (200, "v6"), t + ": localhost reaches a server on ::1 only (next address)")
        check(g.get("invalid", {}).get("error_code") in (1100, 1050),
              t + ": a name under .invalid is an error (1100, or 1050 when no answer in time)",
              str(g.get("invalid")))
        if g.get("invalid", {}).get("error_code") == 1100:
            check_eq(g["invalid"]["error"], "Could not resolve host: tide-dns-test.invalid",
                     t + ": libcurl's text for a name that does not resolve")
        if "localhost refused" in g:
            check_eq(g["localhost refused"]["error_code"], 1212,
                     t + ": refused on every address: connection refused")


# ---- inside the namespace: a DNS server of our own ----

queries = {}
first_query = {}  # name: time.time() of its first query
queries_lock = threading.Lock()
LATE = 0.4  # s: late.test is answered after this


def dns_answer(data):
    """Answer of a standard query: A/AAAA for *.test names, NXDOMAIN for others; None: none."""
    if len(data) < 12:
        return None, None
    qid, flags, qd = struct.unpack(">HHH", data[:6])
    at, labels = 12, []
    while at < len(data) and data[at] != 0:
        n = data[at]
        labels.append(data[at + 1:at + 1 + n].decode("latin-1").lower())
        at += 1 + n
    qtype = struct.unpack(">H", data[at + 1:at + 3])[0]
    question = data[12:at + 5]
    name = ".".join(labels)
    with queries_lock:
        queries[(name, qtype)] = queries.get((name, qtype), 0) + 1
        first_query.setdefault(name, time.time())
    if name == "silent.test":
        return name, None
    rr = b""
    if name.endswith(".test") and qtype == 1:  # A 127.0.0.1
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 5, 4) + socket.inet_aton("127.0.0.1")
    rcode = 0 if name.endswith(".test") else 3
    head = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, 1 if rr else 0, 0, 0)
    return name, head + question + rr


def dns_server():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 53))

    def loop():
        while True:
            data, peer = s.recvfrom(2048)
            name, reply = dns_answer(data)
            if reply is None:
                continue
            if name == "late.test":
                threading.Timer(LATE, s.sendto, (reply, peer)).start()
            else:
                s.sendto(reply, peer)

    threading.Thread(target=loop, daemon=True).start()


def lookups_of(name):
    with queries_lock:
        return sum(v for (n, t), v in queries.items() if n == name and t == 1)


def namespace_part():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
    etc = tmpdir()
    hosts = write(etc, "hosts", "::1 both.example\n127.0.0.1 both.example\n")
    resolv = write(etc, "resolv.conf", "nameserver 127.0.0.1\noptions timeout:5 attempts:1\n")
    for src, dst in ((hosts, "/etc/hosts"), (resolv, "/etc/resolv.conf")):
        subprocess.run(["mount", "--bind", src, dst], check=True, timeout=30)
    dns_server()
    v4 = serve("127.0.0.1", "v4")
    both([["hosts: ::1 then 127.0.0.1", "http://both.example:%d/" % v4],
          ["dns", "http://svc.test:%d/" % v4],
          ["nxdomain", "http://nothing.invalid:%d/" % v4],
          ["silent", "http://silent.test:%d/" % v4, "600ms"]], "ns")
    got = both([["late", "http://late.test:%d/" % v4]], "ns-late")
    for t in ("native", "curl"):
        g = run_cases([["hosts", "http://both.example:%d/" % v4],
                       ["silent", "http://silent.test:%d/" % v4, "600ms"]], t, "ns-" + t)
        check_eq((g.get("hosts", {}).get("status"), g.get("hosts", {}).get("body")), (200, "v4"),
                 t + ": a name whose first address refuses is served on the next one")
        silent = g.get("silent", {})
        check_eq((silent.get("error_code"), digits_out(silent.get("error", ""))),
                 (1050, "Resolving timed out after ### milliseconds"),
                 t + ": the request's timeout covers the lookup, with libcurl's text")
        late = got[t].get("late", {})
        check(late.get("status") == 200 and late.get("blocked", 0) >= LATE * 1000 * 0.9,
              t + ": a late answer shows in http_req_blocked", str(late))

    # 200 VUs, one worker, one name: one lookup (cached for its TTL afterwards)
    before = lookups_of("many.test")
    load = write(work, "many.lua", """
local http = require "tide.http"
options = { vus = 200, iterations = 600 }
function run() http.get("http://many.test:%d/") end
""" % v4)
    t0 = time.time()
    r = run(["run", load, "--transport", "native", "--threads", "1", "--quiet",
             "--no-default-thresholds", "--out", os.path.join(work, "many")], timeout=120)
    print("many: %.1f s" % (time.time() - t0))
    check_eq(r.returncode, 0, "200 VUs on one name: the run passes")
    check("Sanitizer" not in r.stderr, "200 VUs on one name: no sanitizer report", r.stderr[-2000:])
    s = load_json(os.path.join(work, "many", "summary.json"))
    check_eq(metric(s, "http_reqs", "count"), 600, "every request counted")
    check_eq(lookups_of("many.test") - before, 1, "200 VUs asking for one name: one lookup")

    # the loop never waits for a name server: while one VU waits for a lookup that is never
    # answered (the system resolver would block 5 s), a VU on the same worker goes on
    side = serve("127.0.0.1", "side")
    two = write(work, "two.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { vus = 2, duration = "4s", gracefulStop = "1s" }
function run()
  if tide.vu.id %% 2 == 1 then http.get("http://silent.test:%d/", { timeout = "3s" })
  else http.get("http://127.0.0.1:%d/") end
end
""" % (v4, side))
    with queries_lock:
        first_query.pop("silent.test", None)  # this run's first query, not an earlier one
    r = run(["run", two, "--transport", "native", "--threads", "1", "--quiet",
             "--no-default-thresholds", "--out", os.path.join(work, "two")], timeout=120)
    check(r.returncode in (0, 99) and "Sanitizer" not in r.stderr,
          "one VU waiting for a name: the run ends, no sanitizer report", r.stderr[-1500:])
    t_q = first_query.get("silent.test")
    during = [x for x in servers[side].times if t_q is not None and t_q <= x <= t_q + 2.5]
    check(len(during) > 0, "another VU of the worker sends requests while a lookup waits",
          "%d requests in all" % len(servers[side].times))

    # every VU waiting for a lookup when the duration ends: the run still ends
    stuck = write(work, "stuck.lua", """
local http = require "tide.http"
options = { vus = 20, duration = "1s", gracefulStop = "0s" }
function run() http.get("http://silent.test:%d/", { timeout = "60s" }) end
""" % v4)
    t0 = time.time()
    r = run(["run", stuck, "--transport", "native", "--quiet", "--no-default-thresholds",
             "--out", os.path.join(work, "stuck")], timeout=60)
    print("stuck: %.1f s" % (time.time() - t0))
    check(r.returncode in (0, 99), "VUs cancelled during a lookup: the run ends normally",
          r.stderr[-1500:])
    check(time.time() - t0 < 30, "and in bounded time (not the 60 s request timeout)")
    check("Sanitizer" not in r.stderr, "no sanitizer report when cancelled", r.stderr[-2000:])


def main():
    if IN_NS:
        namespace_part()
        done()
        return
    loopback_part()
    # the namespace part in a child of its own (its mounts and network vanish with it)
    reason = None
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        reason = "unshare or ip is not installed"
    else:
        probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True,
                               text=True, timeout=30)
        if probe.returncode != 0:
            reason = probe.stderr.strip()[:200] or "exit %d" % probe.returncode
    if reason is not None:
        print("namespace part skipped: " + reason)
    else:
        env = dict(os.environ, TIDE_DNS_TEST_NS="1", TIDE_BIN=os.path.abspath(TIDE))
        p = subprocess.run(["unshare", "--net", "--mount", sys.executable, os.path.abspath(__file__)],
                           capture_output=True, text=True, timeout=600, env=env)
        sys.stdout.write(p.stdout)
        sys.stderr.write(p.stderr)
        check(p.returncode == 0, "the namespace part passes", p.stdout[-2000:] + p.stderr[-2000:])
    done()


main()
