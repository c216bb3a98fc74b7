"""A full disk while tide writes the run folder: summary.json (written first) survives, one clear
line names the cause and how to recover, the exit code is 1, and no temporary file is left.

The disk is a 40 KB tmpfs, which only root may mount: elsewhere this test is skipped (exit 77,
"Skipped" in ctest's closing lines), never passed silently."""
import os
import subprocess
from tidetest import *

work = tmpdir()
tiny = os.path.join(work, "tiny")
os.makedirs(tiny)
m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40k", "tmpfs", tiny], capture_output=True,
                   text=True)
if m.returncode != 0:
    skip("cannot mount a tmpfs here (needs root): %s" % (m.stderr.strip() or "mount failed"))

try:
    target, url = start_target()
    get = write(work, "get.lua", """
local http = require "tide.http"
function run() http.get("/health") end
""")
    out = os.path.join(tiny, "run")
    r = run(["run", get, "--host", url, "--iterations", "200", "--out", out])
    stop(target)
    check_eq(r.returncode, 1, "full disk: exit 1")
    lines = [l for l in r.stderr.splitlines() if "No space left on device" in l]
    check(len(lines) == 1, "full disk: one line naming the cause", r.stderr[-600:])
    check("tide report" in lines[0] if lines else False, "says how to recover")
    s = load_json(os.path.join(out, "summary.json"))
    check_eq(metric(s, "http_reqs", "count"), 200, "full disk: the measurements are kept")
    check("http_reqs" in r.stdout, "full disk: the summary is still printed")
    check(not any(n.startswith(".") and n.endswith(".tmp") for n in os.listdir(out)),
          "no temporary files left", os.listdir(out))
finally:
    subprocess.run(["umount", tiny])
done()
