"""--csv and --html paths are checked before the run: a missing folder is made, one that cannot
be made or written stops the run with one line and exit 2 before any request is sent."""
import os
from tidetest import *

work = tmpdir()
script = write(work, "s.lua", 'local http = require "tide.http"\n'
               'function run() http.get("/health") end\n')

# a missing folder is made, and the Locust-style files land in it
out = os.path.join(work, "run1")
prefix = os.path.join(work, "deep", "er", "stats")
html = os.path.join(work, "html", "sub", "report.html")
r = run(["run", script, "--target", "--iterations", "2", "--out", out, "--csv", prefix,
         "--html", html, "--quiet"], timeout=60)
check_eq(r.returncode, 0, "missing --csv/--html folders: the run passes")
for suffix in ("_stats.csv", "_stats_history.csv", "_failures.csv"):
    check(os.path.exists(prefix + suffix), "--csv wrote " + suffix)
check(os.path.exists(html), "--html wrote its file in a new folder")

# a folder that cannot be made: exit 2, one line, nothing run (no run folder, no request)
target, url = start_target()
for flag, value in (("--csv", "/proc/no-such/stats"), ("--html", "/proc/no-such/r.html")):
    out = os.path.join(work, "bad" + flag.strip("-"))
    r = run(["run", script, "--host", url, "--iterations", "1", "--out", out, flag, value],
            timeout=60)
    check_eq(r.returncode, 2, flag + " in a folder that cannot be made: exit 2")
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(len(lines) == 1 and lines[0].startswith("tide: " + flag), flag + ": one line",
          r.stderr)
    check(not os.path.exists(out), flag + ": no run folder (stopped before the run)")
stats = http_json(url + "/_stats")
check_eq(stats["total_requests"], 0, "no request reached the server")
stop(target)
done()
