"""The promise scenarios against the Flask app (tests/flask_app/app.py), not tide's own server.

1. security.lua, sovereignty.lua and audit.lua pass against the Flask app (exit 0, every check
   and verify check passing, no "broken promise" line).
2. Started with each fault flag (--broken-authz, --leaky-erasure, --incomplete-export,
   --skip-audit), the app breaks the matching promise and the scenario exits 99 with the
   stderr line that names it and its verify check failed.
Skipped (exit 77) only when flask cannot be imported.
"""
import importlib.util
import re
import select
import subprocess
import sys
import time
import tidetest
from promises import *

if importlib.util.find_spec("flask") is None:
    skip("flask cannot be imported by %s (apt-get install python3-flask)" % sys.executable)

APP = os.path.join(SRC, "tests", "flask_app", "app.py")


def start_flask(*flags):
    """Starts the app on a free port; returns (process, url), or (process, None) with a
    failed check when it does not answer /health within 60 s."""
    log = open(os.path.join(tmpdir(), "flask.log"), "w")
    proc = subprocess.Popen([sys.executable, APP, "--port", "0", *flags],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    tidetest._procs.append(proc)  # killed at exit if the test ends early
    url, deadline = None, time.time() + 60
    while time.time() < deadline and url is None and proc.poll() is None:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            m = re.search(r"(http://127\.0\.0\.1:\d+)", proc.stdout.readline())
            url = m.group(1) if m else None
    while url is not None and time.time() < deadline:
        try:
            http_json(url + "/health")
            break
        except OSError:
            time.sleep(0.1)
    else:
        url = None
    log.close()
    check(url is not None, "the Flask app starts %s" % " ".join(flags),
          open(log.name).read()[-2000:])
    return proc, url


proc, url = start_flask()
if url is not None:
    for name in KEPT:
        r, s = run_scenario(name, url)
        check_kept(name + " on Flask", r, s)
stop(proc)

for name, flag, line, verify_check in BROKEN:
    proc, url = start_flask(flag)
    if url is not None:
        r, s = run_scenario(name, url)
        check_broken("%s on Flask %s" % (name, flag), r, s, line, verify_check)
    stop(proc)
done()
