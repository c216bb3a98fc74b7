"""A split test across "hosts": each of the N = 3 segments runs in its own network namespace
with its own address (10.77.i.2) and reaches the target, in a fourth namespace, over a veth
pair, as separate machines would; then `tide merge` in the test's own namespace. The target
binds loopback inside its namespace; a small relay in that namespace listens on 10.77.0.1 (the
address every segment is given as --host, so their options are the same) and forwards to it.
Checked: iterations and per-endpoint requests equal the target's /_stats, setup() and
teardown() ran once, the merged histogram is the sum of the segments'.

Needs root and network namespaces; otherwise it skips (exit 77) saying why. The namespaces
it creates are deleted in every case.
"""
import os
import re
import shutil
import subprocess
import sys
import time

import tidetest as t

N = 3
TAG = "td%d" % (os.getpid() % 100000)
TARGET_NS = TAG + "t"
SEG_NS = [TAG + "s%d" % i for i in range(1, N + 1)]
SERVICE = "10.77.0.1"
PORT = 18080

SCRIPT = r"""
local http = require "tide.http"
options = { scenarios = {
  shared = { executor = "shared-iterations", vus = 6, iterations = 120, max_duration = "60s" },
  pervu = { executor = "per-vu-iterations", vus = 4, iterations = 5, exec = "other",
            max_duration = "60s" },
} }
function setup() http.get("/status/201") return { ok = true } end
function teardown(d) if d and d.ok then http.get("/status/202") end end
function run(d) http.get("/echo") end
function other(d) http.post("/echo", { json = { n = 1 } }) end
"""

RELAY = r"""
import socket, sys, threading
listen, port, dest, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((listen, port))
srv.listen(256)
print("relay ready", flush=True)
def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
while True:
    c, _ = srv.accept()
    u = socket.create_connection((dest, dport))
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
"""


def sh(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def cleanup(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for ns in [TARGET_NS] + SEG_NS:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def network():
    sh("ip", "netns", "add", TARGET_NS)
    sh("ip", "link", "set", "lo", "up", ns=TARGET_NS)
    sh("ip", "addr", "add", SERVICE + "/32", "dev", "lo", ns=TARGET_NS)
    for i, ns in enumerate(SEG_NS, 1):
        a, b = "%sa%d" % (TAG, i), "%sb%d" % (TAG, i)
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", a, "netns", TARGET_NS)
        sh("ip", "link", "set", b, "netns", ns)
        sh("ip", "addr", "add", "10.77.%d.1/24" % i, "dev", a, ns=TARGET_NS)
        sh("ip", "link", "set", a, "up", ns=TARGET_NS)
        sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "addr", "add", "10.77.%d.2/24" % i, "dev", b, ns=ns)
        sh("ip", "link", "set", b, "up", ns=ns)
        sh("ip", "route", "add", SERVICE + "/32", "via", "10.77.%d.1" % i, ns=ns)


def start_in(ns, args, ready):
    p = subprocess.Popen(["ip", "netns", "exec", ns, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = p.stdout.readline()
        m = re.search(ready, line or "")
        if m:
            return p, m
        if p.poll() is not None:
            break
    raise RuntimeError("%s did not start" % args[0])


def stats_from(ns):
    r = sh("curl", "-s", "--max-time", "10", "http://%s:%d/_stats" % (SERVICE, PORT), ns=ns)
    import json
    return json.loads(r.stdout)


def main():
    if os.geteuid() != 0:
        t.skip("needs root for network namespaces")
    if shutil.which("ip") is None or shutil.which("curl") is None:
        t.skip("needs ip (iproute2) and curl")
    probe = subprocess.run(["ip", "netns", "add", TAG + "p"], capture_output=True, text=True)
    if probe.returncode != 0:
        t.skip("network namespaces not permitted here: " + probe.stderr.strip())
    subprocess.run(["ip", "netns", "del", TAG + "p"], capture_output=True)
    procs = []
    try:
        try:
            network()
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            cleanup(procs)
            t.skip("cannot build the namespaces' network: %s" % e)
        tmp = t.tmpdir()
        script = t.write(tmp, "split.lua", SCRIPT)
        relay = t.write(tmp, "relay.py", RELAY)
        target, m = start_in(TARGET_NS, [t.TIDE, "target", "--port", "0"],
                             r"http://127\.0\.0\.1:(\d+)")
        procs.append(target)
        fwd, _ = start_in(TARGET_NS, [sys.executable, relay, SERVICE, str(PORT), "127.0.0.1",
                                      m.group(1)], "relay ready")
        procs.append(fwd)
        host = "http://%s:%d" % (SERVICE, PORT)
        setup_file = os.path.join(tmp, "setup-data.json")
        r = sh(t.TIDE, "run", script, "--host", host, "--phase", "setup", "--setup-data",
               setup_file, ns=SEG_NS[0], check=False)
        t.check_eq(r.returncode, 0, "setup phase from host 1 (%s)" % r.stderr.strip())
        start_at = "%.3f" % (time.time() + 4)
        runs, dirs = [], []
        for i, ns in enumerate(SEG_NS, 1):
            out = os.path.join(tmp, "seg%d" % i)
            dirs.append(out)
            runs.append(subprocess.Popen(
                ["ip", "netns", "exec", ns, t.TIDE, "run", script, "--host", host,
                 "--segment", "%d/%d" % (i, N), "--start-at", start_at, "--setup-data",
                 setup_file, "--threads", "1", "--quiet", "--out", out],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        procs.extend(runs)
        for i, p in enumerate(runs, 1):
            try:
                _, err = p.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
            t.check_eq(p.returncode, 0, "segment %d on its own host (%s)" % (i, err.strip()[-300:]))
        r = sh(t.TIDE, "run", script, "--host", host, "--phase", "teardown", "--setup-data",
               setup_file, ns=SEG_NS[-1], check=False)
        t.check_eq(r.returncode, 0, "teardown phase from host 3 (%s)" % r.stderr.strip())
        merged = os.path.join(tmp, "merged")
        r = t.run(["merge", *dirs, "--out", merged, "--quiet"])
        t.check_eq(r.returncode, 0, "merge exit code (%s)" % r.stderr.strip()[-300:])
        s = t.load_json(os.path.join(merged, "summary.json"))
        stats = stats_from(SEG_NS[0])["requests"]
        t.check_eq(stats.get("GET /status/{code}"), {"201": 1, "202": 1},
                   "setup() and teardown() once over all hosts")
        t.check_eq(t.metric(s, "iterations", "count"), 120 + 4 * 5, "merged iterations")
        t.check_eq(stats.get("GET /echo", {}).get("200"), 120, "target: GET /echo")
        t.check_eq(stats.get("POST /echo", {}).get("200"), 20, "target: POST /echo")
        eps = {(e["method"], e["name"].replace(host, "")): e["requests"] for e in s["endpoints"]}
        t.check_eq(eps.get(("GET", "/echo")), 120, "merged endpoint GET /echo")
        t.check_eq(eps.get(("POST", "/echo")), 20, "merged endpoint POST /echo")
        segs = [t.load_json(os.path.join(d, "summary.json")) for d in dirs]
        want = {}
        for x in segs:
            for v, c in x["metrics"]["http_req_duration"]["histogram"]["buckets"]:
                want[v] = want.get(v, 0) + c
        got = {v: c for v, c in s["metrics"]["http_req_duration"]["histogram"]["buckets"]}
        t.check_eq(got, want, "merged histogram = sum of the hosts' histograms")
        t.check_eq(len({x["run"]["segment"] for x in segs}), N, "one segment per host")
    finally:
        cleanup(procs)
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    t.check(TAG not in left, "namespaces removed", left)
    t.done()


if __name__ == "__main__":
    main()
