"""`tide merge DIR... --out DIR --verify` (docs/distributed.md): verify() runs once, on the
merged results of the whole test, not in the segments.

Setup once (--phase setup), 2 segments at one instant against one `tide target`, each VU
creating projects; the scenario's verify() asks the server how many projects the tenant holds
and checks that it equals the merged iteration count (a segment's own count is half of it):

- the segments send no verify() request; each `merge --verify` sends exactly one (the
  target's /_stats), and a merge without --verify none (its summary's verify is null);
- merge --verify passes: summary.json's verify section, junit.xml's verify suite, report.html
  and events.jsonl carry it, and the merged folder verifies (`tide verify`);
- a verify() that fails (EXTRA_EXPECTED moves its expectation) exits 99 with the one-line
  reason of a run, the summary says failed;
- --script FILE whose SHA-256 differs from the segments' exits 2 with one line, sending
  nothing; --script with the same content elsewhere is accepted; a recorded script that is
  gone asks for --script; --setup-data, --host without --verify are refused (--script alone
  only brings hooks: verify() does not run);
- --host sends verify() to another server (a second target, which holds no project: 99).
"""
import os
import subprocess
import time

import tidetest as t

SCRIPT = r"""
local tide = require "tide"
local http = require "tide.http"

options = {
  scenarios = {
    make = { executor = "shared-iterations", vus = 4, iterations = 20, max_duration = "60s" },
  },
}

local function auth(token)
  return { Authorization = "Bearer " .. token, ["X-Tenant-ID"] = "mv" }
end

function setup()
  local r = http.post("/api/auth/login", { json = { username = "demo", password = "demo" } })
  return { token = r:json().token }
end

function run(data)
  http.post("/api/projects", {
    json = { name = "p-" .. tide.vu.id_in_test .. "-" .. tide.vu.iteration },
    headers = auth(data.token),
  })
end

function verify(data, summary)
  local r = http.get("/api/projects?per_page=1", { headers = auth(data.token) })
  local extra = tonumber(tide.env("EXTRA_EXPECTED", "0", { secret = false }))
  local made = summary.metrics.iterations.count
  tide.check(r, {
    ["the server holds every project of the whole test"] =
      r.status == 200 and r:json().total == made + extra,
  })
end
"""


def list_gets(url):
    """How many GET /api/projects the target answered: verify()'s requests."""
    stats = t.http_json(url + "/_stats")["requests"]
    return sum(stats.get("GET /api/projects", {}).values())


def last_line(text):
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1] if lines else ""


def segments(tmp, url, script, setup_file):
    start_at = "%.3f" % (time.time() + 3)
    procs, dirs = [], []
    for i in (1, 2):
        out = os.path.join(tmp, "seg%d" % i)
        dirs.append(out)
        procs.append(subprocess.Popen(
            [t.TIDE, "run", script, "--host", url, "--segment", "%d/2" % i, "--start-at",
             start_at, "--setup-data", setup_file, "--threads", "1", "--quiet", "--out", out],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        t.check_eq(p.returncode, 0, "segment exit code (%s)" % err.strip()[-300:])
    return dirs


def main():
    tmp = t.tmpdir()
    target, url = t.start_target()
    other_target, other_url = t.start_target()
    script = t.write(tmp, "mv.lua", SCRIPT)
    setup_file = os.path.join(tmp, "setup.json")

    r = t.run(["run", script, "--host", url, "--phase", "setup", "--setup-data", setup_file])
    t.check_eq(r.returncode, 0, "--phase setup (%s)" % r.stderr.strip())
    dirs = segments(tmp, url, script, setup_file)
    stats = t.http_json(url + "/_stats")["requests"]
    t.check_eq(sum(stats.get("POST /api/projects", {}).values()), 20, "20 projects made")
    t.check_eq(list_gets(url), 0, "the segments ran no verify()")

    # without --verify: nothing sent, verify null
    plain = os.path.join(tmp, "plain")
    r = t.run(["merge", *dirs, "--out", plain, "--quiet"])
    t.check_eq(r.returncode, 0, "merge without --verify (%s)" % r.stderr.strip())
    t.check_eq(t.load_json(os.path.join(plain, "summary.json"))["verify"], None,
               "merge without --verify: verify is null")
    t.check_eq(list_gets(url), 0, "merge without --verify sends nothing")

    # --verify: once, with the merged results (20 iterations = 20 projects)
    merged = os.path.join(tmp, "merged")
    r = t.run(["merge", *dirs, "--out", merged, "--verify", "--setup-data", setup_file])
    t.check_eq(r.returncode, 0, "merge --verify passes (%s)" % r.stderr.strip()[-400:])
    t.check_eq(list_gets(url), 1, "merge --verify: verify() ran exactly once")
    s = t.load_json(os.path.join(merged, "summary.json"))
    v = s["verify"]
    t.check(v is not None and v["ran"] and v["ok"] and v["error"] is None, "verify section", v)
    t.check_eq([(c["name"], c["group"], c["passes"], c["fails"]) for c in v["checks"]],
               [("the server holds every project of the whole test", "::verify", 1, 0)],
               "verify's check, in its own group")
    t.check_eq(s["run"]["status"], "passed", "merged status")
    t.check_eq(t.metric(s, "iterations", "count"), 20, "merged iterations")
    t.check_eq(t.metric(s, "http_reqs", "count"), 20, "verify()'s request is no load metric")
    junit = open(os.path.join(merged, "junit.xml")).read()
    t.check('name="verify"' in junit and "the server holds every project" in junit,
            "junit.xml has the verify suite and its check")
    html = open(os.path.join(merged, "report.html")).read()
    t.check("the server holds every project" in html, "report.html shows verify's check")
    events = open(os.path.join(merged, "events.jsonl")).read()
    t.check('"verify"' in events, "events.jsonl records verify")
    r = t.run(["verify", merged])
    t.check_eq(r.returncode, 0, "tide verify on the merged folder (%s)" % r.stderr.strip())

    # a verify() that fails: 99 and the run's one-line reason
    failed = os.path.join(tmp, "failed")
    r = t.run(["merge", *dirs, "--out", failed, "--verify", "--setup-data", setup_file],
              env={"EXTRA_EXPECTED": "1"})
    t.check_eq(r.returncode, 99, "a failed verify() fails the merge")
    t.check_eq(last_line(r.stderr), "tide: failed: verify() failed (see the verify section)",
               "the reason, on the last line")
    s = t.load_json(os.path.join(failed, "summary.json"))
    t.check(s["run"]["status"] == "failed" and s["verify"]["ok"] is False and
            s["run"]["exit_code"] == 99, "failed verify in summary.json", s["run"])
    t.check('<failure' in open(os.path.join(failed, "junit.xml")).read(),
            "junit.xml shows the failed verify check")
    t.check_eq(list_gets(url), 2, "the failed verify() ran once too")

    # a script that is not the segments': 2, one line, nothing sent
    changed = t.write(tmp, "changed.lua", SCRIPT + "-- edited after the test\n")
    r = t.run(["merge", *dirs, "--out", os.path.join(tmp, "x1"), "--verify", "--script",
               changed, "--setup-data", setup_file])
    t.check_eq(r.returncode, 2, "--script with another hash is refused")
    t.check(len(r.stderr.strip().splitlines()) == 1 and
            "is not the script the segments ran" in r.stderr, "one line", r.stderr)
    t.check(not os.path.exists(os.path.join(tmp, "x1")), "nothing written for a refused merge")
    t.check_eq(list_gets(url), 2, "a refused merge sends nothing")

    # the same script elsewhere is theirs; --host sends verify() to another server
    copy = t.write(tmp, "copy-of-mv.lua", SCRIPT)
    r = t.run(["merge", *dirs, "--out", os.path.join(tmp, "other"), "--verify", "--script",
               copy, "--setup-data", setup_file, "--host", other_url, "--quiet"])
    t.check_eq(r.returncode, 99, "--host: verify() on a server without the projects fails")
    t.check_eq(list_gets(other_url), 1, "--host: verify() asked the other server, once")
    t.check_eq(list_gets(url), 2, "--host: not the segments' server")

    # the recorded script gone: ask for --script; flags of --verify alone
    os.rename(script, script + ".moved")
    r = t.run(["merge", *dirs, "--out", os.path.join(tmp, "x2"), "--verify"])
    t.check(r.returncode == 2 and "--script FILE" in r.stderr and
            len(r.stderr.strip().splitlines()) == 1, "a missing script asks for --script",
            r.stderr)
    os.rename(script + ".moved", script)
    for flag, value in (("--setup-data", setup_file), ("--host", url)):
        r = t.run(["merge", *dirs, "--out", os.path.join(tmp, "x3"), flag, value])
        t.check(r.returncode == 2 and "are for --verify" in r.stderr, flag + " without --verify",
                r.stderr)
    # --script without --verify is a file of hooks (merge_done, test_hooks_commands): its
    # verify() does not run
    before = list_gets(url)
    r = t.run(["merge", *dirs, "--out", os.path.join(tmp, "x5"), "--quiet", "--script", script])
    t.check(r.returncode == 0 and list_gets(url) == before and
            t.load_json(os.path.join(tmp, "x5", "summary.json"))["verify"] is None,
            "--script without --verify: hooks only, no verify()", r.stderr)
    r = t.run(["merge", *dirs, "--out", os.path.join(tmp, "x4"), "--verify", "--setup-data",
               os.path.join(tmp, "no-such.json")])
    t.check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1,
            "an unreadable --setup-data is refused", r.stderr)
    t.check_eq(list_gets(url), 2, "refusals send nothing")

    r = t.run(["merge", "--help"])
    t.check(r.returncode == 0 and "--verify" in r.stdout and "--setup-data" in r.stdout,
            "merge --help documents --verify")
    t.stop(target)
    t.stop(other_target)
    t.done()


if __name__ == "__main__":
    main()
