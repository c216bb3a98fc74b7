"""`tide demo`: the bundled scenario against the built-in API, with a report, in under a minute.

It runs twice: from the source tree (scenarios/demo.lua) and from an empty folder, where the
copy built into the binary (embedded from scenarios/demo.lua at build time) is used. Both exit
0 and print the report folder, which holds summary.json and report.html. The binary must carry
the current scenario. "Under a minute" is judged on the scenario's own schedule (every
scenario ends within 60 s), not on the wall clock, which a busy machine stretches.
"""
import os
import re
import tidetest
from tidetest import *

tidetest.TIDE = os.path.abspath(tidetest.TIDE)  # the demo runs in other folders

source_copy = os.path.join(SRC, "scenarios", "demo.lua")
with open(source_copy, "rb") as f:
    demo = f.read()


def run_demo(cwd, args=(), env=None):
    """Runs `tide demo` in cwd; returns (CompletedProcess, report folder or None)."""
    r = run(["demo", *args], timeout=240, cwd=cwd, env=env)  # a hang guard, not a speed
    m = re.search(r"report in (\S+?)/? \(", r.stdout)
    folder = None
    if m:
        folder = m.group(1) if os.path.isabs(m.group(1)) else os.path.join(cwd, m.group(1))
    return r, folder


def scheduled_end(sc):
    """When a scenario of the summary's options ends, in seconds from the start."""
    length = sc.get("duration_s", 0) + sum(st["duration_s"] for st in sc.get("stages", []))
    return sc.get("start_time_s", 0) + length


def check_demo(what, r, folder):
    check_eq(r.returncode, 0, what + ": exit code")
    if r.returncode != 0:
        print(r.stdout[-3000:], r.stderr[-3000:])
    check(folder is not None, what + ": the output names the report folder", r.stdout[-500:])
    if folder is None:
        return None
    for name in ("summary.json", "report.html"):
        check(os.path.isfile(os.path.join(folder, name)), "%s: %s in the report folder" % (what,
              name), folder)
    s = load_json(os.path.join(folder, "summary.json"))
    check_eq([c["name"] for c in s["checks"] if c["fails"] > 0], [], what + ": every check passed")
    check_eq([t["metric"] for t in s["thresholds"] if not t["ok"]], [],
             what + ": every threshold held")
    check((s["verify"] or {}).get("ok") is True, what + ": verify passed")
    ends = [scheduled_end(sc) for sc in s["options"]["scenarios"]]
    check(ends and 0 < max(ends) <= 60, what + ": every scenario ends within a minute", ends)
    return s


# From the source tree: scenarios/demo.lua. --out keeps the tree's report/ folder untouched.
out = os.path.join(tmpdir(), "demo-run")
r, folder = run_demo(SRC, ["--out", out])
check("scenarios/demo.lua" in r.stdout, "in the source tree, demo runs scenarios/demo.lua",
      r.stdout[:300])
s = check_demo("demo in the source tree", r, folder)
if s is not None:
    check_eq(os.path.realpath(folder), os.path.realpath(out), "the named folder is --out")
    names = {sc["name"] for sc in s["options"]["scenarios"]}
    check_eq(names, {"editors", "readers"}, "the demo runs its two scenarios")

# From an empty folder: the embedded copy, and the default report/<run>/ folder.
empty = tmpdir()
scratch = tmpdir()  # where tide writes the embedded scenario (TMPDIR)
r, folder = run_demo(empty, env={"TMPDIR": scratch})
check("scenarios/demo.lua" not in r.stdout, "outside the tree, demo uses its built-in copy",
      r.stdout[:300])
s = check_demo("demo in an empty folder", r, folder)
if folder is not None:
    check(os.path.realpath(folder).startswith(os.path.realpath(os.path.join(empty, "report"))),
          "the default report folder is report/<run> under the current folder", folder)
written = [os.path.join(d, f) for d, _, fs in os.walk(scratch) for f in fs if f == "demo.lua"]
check_eq(len(written), 1, "the built-in scenario was written out once")
if written:
    with open(written[0], "rb") as f:
        check(f.read() == demo, "the binary carries the current scenarios/demo.lua",
              "(rebuild tide)")
done()
