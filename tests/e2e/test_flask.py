"""The scenarios against a real Flask backend (tests/flask_app/app.py), not tide's own server.

Starts the app on a free loopback port, waits until /health answers, and runs crud.lua,
smoke.lua and edge_cases.lua against it with --host for a few seconds: each exits 0 with
every check (and crud.lua's verify) passing. This proves the scenarios depend on the API, not on
tide's built-in target. Skipped (exit 77, "Skipped" in ctest), with the reason, only when
flask cannot be imported.
"""
import importlib.util
import os
import re
import select
import subprocess
import sys
import time
import urllib.request
import tidetest
from tidetest import *

if importlib.util.find_spec("flask") is None:
    skip("flask cannot be imported by %s (apt-get install python3-flask)" % sys.executable)

app = os.path.join(SRC, "tests", "flask_app", "app.py")
work = tmpdir()
log = open(os.path.join(work, "flask.log"), "w")
proc = subprocess.Popen([sys.executable, app, "--port", "0"], stdout=subprocess.PIPE,
                        stderr=log, text=True)
tidetest._procs.append(proc)  # killed at exit if the test ends early

url = None
deadline = time.time() + 20
while time.time() < deadline and url is None and proc.poll() is None:
    if select.select([proc.stdout], [], [], 0.2)[0]:
        m = re.search(r"(http://127\.0\.0\.1:\d+)", proc.stdout.readline())
        url = m.group(1) if m else None
if not check(url is not None, "the Flask app starts", open(log.name).read()[-2000:]):
    done()

ready = False
while time.time() < deadline and not ready:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as r:
            ready = r.status == 200
    except OSError:
        time.sleep(0.1)
if not check(ready, "the Flask app answers /health"):
    done()

RUNS = [
    ("crud.lua", ["--vus", "3", "--duration", "3s"]),
    ("smoke.lua", []),
    ("edge_cases.lua", ["--vus", "2", "--duration", "3s"]),
]
for name, args in RUNS:
    out = tmpdir()
    r = run(["run", os.path.join(SRC, "scenarios", name), "--host", url, "--quiet", "--out", out,
             *args], timeout=60)
    path = os.path.join(out, "summary.json")
    if not check(os.path.exists(path), name + " on Flask: summary.json",
                 "exit %d: %s" % (r.returncode, r.stderr[-2000:])):
        continue
    s = load_json(path)
    check_eq(r.returncode, 0, name + " on Flask: exit code")
    check_eq(s["run"]["host"], url, name + " on Flask: the host is the Flask app")
    check(metric(s, "http_reqs", "count") > 0, name + " on Flask: requests were made")
    check_eq([c["name"] for c in s["checks"] if c["fails"] > 0], [],
             name + " on Flask: every check passed")
    check_eq(s["script_errors"], [], name + " on Flask: no script errors")
    if name == "crud.lua":
        check(s["verify"]["ok"] is True, "crud.lua on Flask: verify passed",
              [c["name"] for c in s["verify"]["checks"] if c["fails"] > 0])
stop(proc)
log.close()
done()
