"""End-to-end test of `tide run --dashboard` over plain HTTP (the page in a browser is
tests/browser/dashboard.test.mjs): the URL is printed at start on 127.0.0.1; / serves the live
page (CSP allows only its own server); /events streams "tick" events with the summary so
far and ends with "final"; the server is read-only (POST 405), refuses a foreign Host header
(DNS rebinding), 404s other paths; a bad or taken address stops the run before anything is
sent (exit 2); a non-loopback address warns."""
import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from tidetest import *

work = tmpdir()
scenario = os.path.join(SRC, "scenarios", "demo.lua")


def start(args, out):
    p = subprocess.Popen([TIDE, "run", scenario, "--target", "--vus", "2", "--out", out, *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    err = ""
    while time.time() < deadline:
        line = p.stderr.readline()
        err += line
        m = re.search(r"dashboard: (http://[^ ]+/)", line)
        if m:
            return p, m.group(1), err
        if not line and p.poll() is not None:
            break
    return p, None, err


p, url, err = start(["--duration", "6s", "--dashboard"], os.path.join(work, "a"))
check(url is not None and url.startswith("http://127.0.0.1:"), "URL printed, on loopback", err)
if url:
    with urllib.request.urlopen(url, timeout=5) as r:
        page = r.read().decode()
        check_eq(r.status, 200, "GET /")
        check("connect-src 'self'" in page, "the live page may connect to its own server only")
        check("default-src 'none'" in page, "and nothing else")
    # read events until the final one
    events = []
    with urllib.request.urlopen(url + "events", timeout=30) as r:
        check_eq(r.headers.get("Content-Type"), "text/event-stream", "/events is an event stream")
        name = None
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
                if name == "final":
                    break
    ticks = [e for n, e in events if n == "tick"]
    finals = [e for n, e in events if n == "final"]
    check(len(ticks) >= 2, "at least two ticks", len(ticks))
    check_eq(len(finals), 1, "one final event")
    check(all(t["summary"]["run"]["status"] == "running" for t in ticks), "ticks say running")
    reqs = [t["summary"]["aggregated"]["requests"] for t in ticks if t["summary"].get("aggregated")]
    check(reqs == sorted(reqs) and reqs and reqs[-1] > 0, "requests grow tick by tick", reqs)
    rows = sum(len(t["rows"]) for t in ticks)
    check(rows >= 2, "history rows arrive with the ticks", rows)
    if finals:
        check_eq(finals[0]["summary"]["run"]["status"], "passed", "the final verdict")
        check("options" not in finals[0]["summary"], "no options (secrets) in the events")
    code = p.wait(timeout=30)
    check_eq(code, 0, "the run passed")
    s = load_json(os.path.join(work, "a", "summary.json"))
    if finals:
        check_eq(finals[0]["summary"]["aggregated"]["requests"], s["aggregated"]["requests"],
                 "the final event has the summary's totals")
else:
    p.kill()

# read-only, Host checked, unknown paths 404: a longer run to ask while it serves
p, url, err = start(["--duration", "30s", "--dashboard", "127.0.0.1:0"], os.path.join(work, "b"))
check(url is not None, "--dashboard 127.0.0.1:0", err)
if url:
    def status(method="GET", path="", headers=None):
        req = urllib.request.Request(url + path, method=method, headers=headers or {},
                                     data=b"x" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    check_eq(status("POST"), 405, "POST is refused")
    check_eq(status(path="nope"), 404, "unknown path")
    check_eq(status(path="report.html"), 404, "no final report before the end")
    check_eq(status(headers={"Host": "attacker.example:80"}), 421, "a foreign Host is refused")
    with urllib.request.urlopen(url + "events", timeout=30) as r:  # the run is under way
        for raw in r:
            if raw.startswith(b"event: tick"):
                break
    so, se = signal_and_wait(p)
    check_eq(p.returncode, 130, "Ctrl-C ends a dashboard run like any other")
else:
    p.kill()

# bad and taken addresses: exit 2, one line, nothing run
busy = socket.socket()
busy.bind(("127.0.0.1", 0))
busy.listen(1)
taken = "127.0.0.1:%d" % busy.getsockname()[1]
for addr, words in [("--dashboard=localhost:80", "expected PORT, IP:PORT"),
                    ("--dashboard=127.0.0.1:99999", "expected PORT, IP:PORT"),
                    ("--dashboard=" + taken, "cannot listen")]:
    out = os.path.join(work, "bad")
    r = run(["run", scenario, "--target", "--vus", "1", "--duration", "1s", "--out", out, addr])
    check_eq(r.returncode, 2, "%s: exit 2" % addr)
    lines = [l for l in r.stderr.strip().splitlines() if "built-in target" not in l]
    check(len(lines) == 1 and words in lines[0], "%s: one line" % addr, r.stderr[-300:])
    check(not os.path.exists(os.path.join(out, "summary.json")), "%s: nothing run" % addr)
busy.close()

# not loopback: a warning (0.0.0.0 is bound but the test talks to it over 127.0.0.1 only)
r = run(["run", scenario, "--target", "--vus", "1", "--duration", "1s", "--out",
         os.path.join(work, "any"), "--dashboard", "0.0.0.0:0"])
check_eq(r.returncode, 0, "--dashboard 0.0.0.0:0 runs")
check("not loopback" in r.stderr, "and warns that it is not loopback", r.stderr[-300:])
done()
