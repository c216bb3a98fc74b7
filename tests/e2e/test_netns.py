"""Local only, provably: a short demo-style run (the bundled demo scenario against the built-in
API, --target) inside a network namespace that has nothing but loopback, under strace. Every
connect() the process makes goes to the in-process target: no telemetry, no lookups, no
other host. Needs root (unshare --net) and strace; skipped (exit 77) with the reason
otherwise.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import tidetest as t  # noqa: E402

from test_allow_hosts import strace_connects  # noqa: E402


def main():
    for tool in ("unshare", "ip", "strace"):
        if shutil.which(tool) is None:
            t.skip("%s is not installed" % tool)
    probe = subprocess.run(["unshare", "--net", "ip", "link", "set", "lo", "up"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        t.skip("cannot make a network namespace here (unshare --net: %s)"
               % (probe.stderr.strip()[:200] or "exit %d" % probe.returncode))
    tmp = t.tmpdir()
    log = os.path.join(tmp, "connects.log")
    out = os.path.join(tmp, "run")
    tide = os.path.abspath(t.TIDE)
    demo = os.path.join(t.SRC, "scenarios", "demo.lua")
    inner = ("ip link set lo up && exec strace -f -qq -e trace=connect -o %s %s run %s --target "
             "--duration 3s --vus 3 --out %s --quiet --no-default-thresholds"
             % (log, tide, demo, out))
    env = dict(os.environ)  # LeakSanitizer cannot run under ptrace (the ASan pass)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    p = subprocess.run(["unshare", "--net", "sh", "-c", inner], capture_output=True, text=True,
                       timeout=240, env=env)
    if p.returncode != 0 and "ptrace" in p.stderr and not os.path.exists(out):
        t.skip("strace cannot trace here: " + p.stderr.strip()[:200])
    t.check(p.returncode in (0, 99), "the run in the namespace ends normally",
            p.stderr[-1500:])
    t.check(os.path.exists(os.path.join(out, "summary.json")), "it wrote its run folder")
    # the namespace has only loopback: an interface list shows it
    links = subprocess.run(["unshare", "--net", "ip", "-o", "link"], capture_output=True,
                           text=True, timeout=30).stdout
    t.check_eq(sorted(re.findall(r"^\d+: (\w+)", links, re.M)), ["lo"],
               "a namespace of its own has loopback only")
    conns = strace_connects(log)
    inet = [c for c in conns if c[0] in ("AF_INET", "AF_INET6")]
    t.check(len(inet) > 0, "strace saw the run's connections", str(conns)[:300])
    ports = {c[2] for c in inet}
    t.check_eq(len(ports), 1, "one destination port: the target's")
    stray = [c for c in inet if c[1] != "127.0.0.1"]
    t.check(not stray, "every connect() goes to the in-process target on 127.0.0.1", str(stray))
    unix = [c for c in conns if c[0] == "AF_UNIX"]
    t.check(all("nscd" in c[1] for c in unix), "no other local socket than a name cache",
            str(unix))
    other = [c for c in conns if c[0] not in ("AF_INET", "AF_INET6", "AF_UNIX")]
    t.check(not other, "no other kind of connection", str(other))
    t.done()


if __name__ == "__main__":
    main()
