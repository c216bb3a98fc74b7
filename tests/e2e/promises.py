"""Shared by test_scenarios_promises.py and test_flask_promises.py: runs one of the promise
scenarios (security, sovereignty, audit, dweb) against a host and judges the outcome.

A run that keeps its promises exits 0 with every check and every verify check passing. A run
against a server that breaks one (a fault flag) exits 99 and prints, on stderr, the line
"broken promise: <what>" that the scenario writes in verify().
"""
import os
from tidetest import *

SHAPE = ["--vus", "3", "--duration", "3s"]

# scenario, fault flag, the words of the line verify() prints, a verify check that fails
BROKEN = [
    ("security.lua", "--broken-authz", "broken promise: authorisation",
     "a user of another tenant is refused (403)"),
    ("sovereignty.lua", "--leaky-erasure", "broken promise: erasure",
     "nothing of an erased user is returned by any route"),
    ("sovereignty.lua", "--incomplete-export", "broken promise: export",
     "an export holds the profile and every project"),
    ("audit.lua", "--skip-audit", "broken promise: audit",
     "every project.delete has exactly one audit record"),
]

KEPT = ["security.lua", "sovereignty.lua", "audit.lua"]


def run_scenario(name, host, args=SHAPE, timeout=120):
    """Runs scenarios/NAME against host; returns (CompletedProcess, summary or None)."""
    out = tmpdir()
    r = run(["run", os.path.join(SRC, "scenarios", name), "--host", host, "--quiet", "--out",
             out, *args], timeout=timeout)
    path = os.path.join(out, "summary.json")
    if not check(os.path.exists(path), name + ": summary.json",
                 "exit %d: %s" % (r.returncode, r.stderr[-2000:])):
        return r, None
    return r, load_json(path)


def failed(checks_):
    return [c["name"] for c in checks_ if c["fails"] > 0]


def check_kept(what, r, s):
    """The run kept every promise: exit 0, all checks and verify checks pass."""
    if s is None:
        return
    check_eq(r.returncode, 0, what + ": exit 0")
    if r.returncode != 0:
        print(r.stderr[-3000:])
    check_eq(s["script_errors"], [], what + ": no script errors")
    check(len(s["checks"]) > 0, what + ": has checks")
    check_eq(failed(s["checks"]), [], what + ": every check passed")
    v = s["verify"] or {}
    check(v.get("ok") is True and len(v.get("checks", [])) > 0, what + ": verify passed",
          failed(v.get("checks", [])))
    check("broken promise" not in r.stderr, what + ": no broken promise printed", r.stderr[-500:])


def check_broken(what, r, s, line, verify_check):
    """The run caught the fault: exit 99, the named line on stderr, the verify check failed."""
    if s is None:
        return
    check_eq(r.returncode, 99, what + ": exit 99")
    lines = [l for l in r.stderr.splitlines() if line in l]
    check(len(lines) > 0, what + ": stderr names the broken promise (%s)" % line, r.stderr[-1500:])
    v = s["verify"] or {}
    check(v.get("ok") is False, what + ": verify failed")
    check(verify_check in failed(v.get("checks", [])), what + ": verify check failed: " +
          verify_check, failed(v.get("checks", [])))
