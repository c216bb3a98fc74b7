#!/usr/bin/env python3
"""Commands that read a run folder (report, compare, merge) refuse a summary.json that is not a
regular file — a FIFO would block them forever, /dev/zero would grow their memory without end —
with one line and exit 2, at once (docs/reliability.md, "Nothing hangs")."""
import os
import tidetest as t

work = t.tmpdir()
real = os.path.join(work, "real")
script = t.write(work, "one.lua", """
local http = require "tide.http"
options = { iterations = 1, vus = 1 }
function run() http.get("/health") end
""")
r = t.run(["run", script, "--target", "--quiet", "--out", real, "--no-default-thresholds"])
t.check_eq(r.returncode, 0, "a real run to compare with")

fifo_dir = os.path.join(work, "fifo")
os.makedirs(fifo_dir)
os.mkfifo(os.path.join(fifo_dir, "summary.json"))  # nobody ever writes to it
zero_dir = os.path.join(work, "zero")
os.makedirs(zero_dir)
os.symlink("/dev/zero", os.path.join(zero_dir, "summary.json"))

cases = [
    ("report on a FIFO", ["report", fifo_dir]),
    ("report on /dev/zero", ["report", zero_dir]),
    ("compare with a FIFO base", ["compare", fifo_dir, real]),
    ("compare with /dev/zero as the new run", ["compare", real, zero_dir]),
]
for what, argv in cases:
    r = t.run(argv, timeout=30)  # a hang fails here (TimeoutExpired), not after minutes
    t.check_eq(r.returncode, 2, what + ": exit 2")
    lines = r.stderr.strip().splitlines()
    t.check(len(lines) == 1 and "not a regular file" in lines[0],
            what + ": one line saying why", r.stderr)

t.done()
