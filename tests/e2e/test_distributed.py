"""A test split over processes (docs/distributed.md): setup once (--phase setup), N = 3
segments (--segment i/3 --start-at one instant --setup-data FILE) against one `tide target`,
teardown once (--phase teardown), then `tide merge`. Checked against the target's own counts
(/_stats) and against the segments' histograms merged independently here:

- iterations and per-endpoint request counts of the merged run equal the target's exactly;
- setup() and teardown() ran exactly once (their own routes counted by the target);
- the merged http_req_duration histogram is the bucket-wise sum of the segments', and its
  percentiles are those of that histogram (the rank's bucket, within its width);
- a threshold that holds in every segment but fails on the whole fails the merged run (99);
- tide.vu.id_in_test is unique across segments; tide.data partition gives disjoint slices;
- merge refuses missing, overlapping and mismatched segments (exit 2, one line each), a
  tampered segment folder (99), and a run that is no segment (2); --start-at already past
  by more than 1 s exits 2.
"""
import json
import math
import os
import shutil
import subprocess
import time

import tidetest as t

N = 3
SCRIPT = r"""
local tide = require "tide"
local http = require "tide.http"
local data = require "tide.data"
local users = data.csv("users.csv", { partition = "segment" })

options = {
  scenarios = {
    shared = { executor = "shared-iterations", vus = 7, iterations = 200, max_duration = "60s" },
    pervu = { executor = "per-vu-iterations", vus = 5, iterations = 9, exec = "other",
              max_duration = "60s" },
  },
}

function setup()
  http.get("/status/201")
  return { token = "from-setup" }
end

function teardown(d)
  if d and d.token == "from-setup" then http.get("/status/202") end
end

function vu_setup()
  -- every VU, whether or not the shared iterations leave it one
  if tide.vu.scenario == "shared" then tide.log.warn("VUID " .. tide.vu.id_in_test .. " SLICE -") end
end

function run(d)
  http.get("/echo")
  if d == nil or d.token ~= "from-setup" then http.get("/status/418") end
end

function other()
  if tide.vu.iteration == 0 then
    -- one line per VU: its id in the whole test and the rows of its segment's slice
    local names = {}
    for i = 1, #users do names[#names + 1] = users[i].name end
    tide.log.warn("VUID " .. tide.vu.id_in_test .. " SLICE " .. table.concat(names, ","))
  end
  http.post("/echo", { json = { vu = tide.vu.id_in_test } })
end
"""


def bucket_sum(hists):
    merged = {}
    for h in hists:
        for value, count in h["buckets"]:
            merged[value] = merged.get(value, 0) + count
    return merged


def rank_bucket(buckets, p):
    """The lowest value of the bucket holding rank ceil(p/100 * count), as hdr.c ranks."""
    total = sum(buckets.values())
    rank = max(1, min(total, math.ceil(p / 100.0 * total - 1e-9)))
    seen = 0
    for value in sorted(buckets):
        seen += buckets[value]
        if seen >= rank:
            return value
    return max(buckets)


def segment_runs(tmp, url, script, setup_file, extra=()):
    """Starts the N segments at one instant 2 s ahead; returns their folders."""
    start_at = "%.3f" % (time.time() + 4)
    procs, dirs = [], []
    for i in range(1, N + 1):
        out = os.path.join(tmp, "seg%d" % i)
        dirs.append(out)
        procs.append(subprocess.Popen(
            [t.TIDE, "run", script, "--host", url, "--segment", "%d/%d" % (i, N), "--start-at",
             start_at, "--setup-data", setup_file, "--threads", "2", "--quiet", "--out", out,
             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    logs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        t.check_eq(p.returncode, 0, "segment exit code (%s)" % err.strip()[-300:])
        logs.append(err)
    return dirs, logs


def main():
    tmp = t.tmpdir()
    target, url = t.start_target()
    script = t.write(tmp, "split.lua", SCRIPT)
    t.write(tmp, "users.csv", "name\n" + "".join("u%d\n" % i for i in range(1, 11)))
    setup_file = os.path.join(tmp, "setup-data.json")

    r = t.run(["run", script, "--host", url, "--phase", "setup", "--setup-data", setup_file])
    t.check_eq(r.returncode, 0, "--phase setup exit code (%s)" % r.stderr.strip())
    t.check_eq(t.load_json(setup_file), {"token": "from-setup"}, "setup data file")

    dirs, logs = segment_runs(tmp, url, script, setup_file)

    r = t.run(["run", script, "--host", url, "--phase", "teardown", "--setup-data", setup_file])
    t.check_eq(r.returncode, 0, "--phase teardown exit code (%s)" % r.stderr.strip())

    merged = os.path.join(tmp, "merged")
    r = t.run(["merge", *dirs, "--out", merged])
    t.check_eq(r.returncode, 0, "merge exit code (%s)" % r.stderr.strip()[-400:])
    s = t.load_json(os.path.join(merged, "summary.json"))
    stats = t.http_json(url + "/_stats")["requests"]

    # setup and teardown once, every iteration of the whole test once
    t.check_eq(stats.get("GET /status/{code}"), {"201": 1, "202": 1},
               "setup() and teardown() ran once each (no VU lacked the setup data)")
    t.check_eq(t.metric(s, "iterations", "count"), 200 + 5 * 9, "merged iterations")
    t.check_eq(stats.get("GET /echo", {}).get("200"), 200, "target: GET /echo")
    t.check_eq(stats.get("POST /echo", {}).get("200"), 45, "target: POST /echo")
    eps = {(e["method"], e["name"]): e["requests"] for e in s["endpoints"]}
    by_path = {}
    for (method, name), n in eps.items():
        by_path[(method, name.replace(url, ""))] = n
    t.check_eq(by_path.get(("GET", "/echo")), 200, "merged endpoint GET /echo")
    t.check_eq(by_path.get(("POST", "/echo")), 45, "merged endpoint POST /echo")
    t.check_eq(t.metric(s, "http_reqs", "count"), 245, "merged http_reqs")
    t.check_eq(s["aggregated"]["requests"], 245, "merged aggregated requests")
    iters = [t.load_json(os.path.join(d, "summary.json"))["metrics"]["iterations"]["count"]
             for d in dirs]
    # shared: 200 over 3 = 67, 67, 66; per-vu: 5 VUs over 3 = 2, 2, 1, times 9 iterations
    t.check_eq(iters, [67 + 18, 67 + 18, 66 + 9], "each segment ran its exact share")

    # histograms: the merged one is the sum of the segments'; percentiles read from it
    segs = [t.load_json(os.path.join(d, "summary.json")) for d in dirs]
    want = bucket_sum(x["metrics"]["http_req_duration"]["histogram"] for x in segs)
    got_h = s["metrics"]["http_req_duration"]["histogram"]
    got = {v: c for v, c in got_h["buckets"]}
    t.check_eq(got, want, "merged histogram = sum of the segments' histograms")
    t.check_eq(got_h["min"], min(x["metrics"]["http_req_duration"]["histogram"]["min"]
                                 for x in segs), "merged min")
    t.check_eq(got_h["max"], max(x["metrics"]["http_req_duration"]["histogram"]["max"]
                                 for x in segs), "merged max")
    for key, p in (("med", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        low = rank_bucket(want, p)
        if p == 50:
            low = rank_bucket(want, 50)
        value_us = s["metrics"]["http_req_duration"][key] * 1000
        t.check(low - 1 <= value_us <= max(low * 1.002 + 2, got_h["min"]) or
                value_us in (got_h["min"], got_h["max"]),
                "merged %s lies in the bucket of its rank" % key,
                "(%s µs, bucket from %s)" % (value_us, low))

    # the merged run's history spans the test; seconds and segments are listed
    t.check(len(s["history"]) >= 1, "merged history has rows")
    t.check_eq(sum(row["reqs"] for row in s["history"]), 245, "history rows add up")
    t.check_eq(len(s["run"]["segments"]), N, "summary lists the segments")
    manifest = t.load_json(os.path.join(merged, "manifest.json"))
    t.check_eq(sorted(x["segment"] for x in manifest["merged_from"]),
               ["%d/%d" % (i, N) for i in range(1, N + 1)], "manifest lists the segments")
    t.check(all(len(x["manifest_sha256"]) == 64 for x in manifest["merged_from"]),
            "manifest carries the segments' manifest hashes")
    for f in ("report.html", "stats.csv", "stats_history.csv", "failures.csv", "junit.xml",
              "events.jsonl"):
        t.check(os.path.exists(os.path.join(merged, f)), "merged folder has " + f)
    r = t.run(["verify", merged])
    t.check_eq(r.returncode, 0, "tide verify on the merged folder")
    for seg in segs:
        t.check(seg["run"]["start_at"] is not None and
                abs(seg["run"]["start_skew_ms"]) < 1000, "segment records its start skew",
                seg["run"].get("start_skew_ms"))

    # VU ids unique in the test; data slices disjoint and covering the file
    ids, rows = [], []
    for i, log in enumerate(logs):
        for line in log.splitlines():
            if "VUID " in line:
                part = line.split("VUID ", 1)[1]
                vid, names = part.split(" SLICE ")
                ids.append(int(vid))
                rows.append((i, names.strip()))
    # 7 + 5 VUs in the whole test: 3+2, 3+2 and 1+2 in the segments, each id once
    t.check_eq(len(ids), 12, "VUs over the segments")
    t.check_eq(len(set(ids)), 12, "tide.vu.id_in_test is unique across segments")
    slices = {}
    for i, names in rows:
        if names != "-":
            slices[i] = names
    union = [n for i in sorted(slices) for n in slices[i].split(",") if n]
    t.check_eq(sorted(union, key=lambda x: int(x[1:])), ["u%d" % k for k in range(1, 11)],
               "tide.data partition: disjoint slices covering the file")

    # a threshold that holds in each segment but not on the whole fails the merged run
    r = t.run(["merge", *dirs, "--out", os.path.join(tmp, "merged-th"), "--quiet",
               "--threshold", "iterations: count<200"])
    t.check_eq(r.returncode, 99, "a threshold failing on the whole fails the merge")
    for seg in segs:
        t.check(seg["metrics"]["iterations"]["count"] < 200, "it holds in each segment")
    events = [json.loads(x) for x in open(os.path.join(tmp, "merged-th", "events.jsonl"))]
    t.check(any(e.get("type") == "threshold_crossed" and e.get("metric") == "iterations"
                for e in events), "merged events.jsonl records the failed threshold",
            [e.get("type") for e in events])
    th = t.load_json(os.path.join(tmp, "merged-th", "summary.json"))["thresholds"]
    t.check(any(x["metric"] == "iterations" and not x["ok"] and x["observed"] == 245
                for x in th), "merged threshold observed on the whole", th)
    r = t.run(["merge", *dirs, "--out", os.path.join(tmp, "merged-win"), "--quiet",
               "--threshold", "http_reqs: count>=0 over 1s"])
    t.check_eq(r.returncode, 0, "a windowed threshold that holds passes the merge")
    r = t.run(["merge", *dirs, "--out", os.path.join(tmp, "merged-win2"), "--quiet",
               "--threshold", "http_reqs: count<1 over 1s"])
    t.check_eq(r.returncode, 99, "a windowed threshold that fails on a merged second fails")

    # refusals: one line each
    def refused(args, code, words, what):
        r = t.run(["merge", *args, "--out", os.path.join(tmp, "refused")])
        t.check_eq(r.returncode, code, what + " exit code")
        lines = r.stderr.strip().splitlines()
        t.check(len(lines) == 1 and all(w in lines[0] for w in words), what + " message",
                r.stderr)

    refused(dirs[:2], 2, ["missing", "3/3"], "missing segment")
    refused([dirs[0], dirs[1], os.path.join(tmp, "never-ran")], 2, ["not a run folder"],
            "a segment folder that does not exist")
    refused([dirs[0], dirs[0], dirs[1], dirs[2]], 2, ["overlapping", "1/3"], "overlapping")
    other = t.write(tmp, "other.lua", SCRIPT.replace("iterations = 200", "iterations = 20"))
    r = t.run(["run", other, "--host", url, "--segment", "3/3", "--setup-data", setup_file,
               "--quiet", "--out", os.path.join(tmp, "other3")])
    refused([dirs[0], dirs[1], os.path.join(tmp, "other3")], 2, ["different scenarios"],
            "another scenario")
    r = t.run(["run", script, "--host", url, "--segment", "3/3", "--setup-data", setup_file,
               "--quiet", "--out", os.path.join(tmp, "tagged3"), "--tag", "x=y"])
    refused([dirs[0], dirs[1], os.path.join(tmp, "tagged3")], 2, ["different options"],
            "other options")
    r = t.run(["run", script, "--host", url, "--setup-data", setup_file, "--quiet", "--out",
               os.path.join(tmp, "whole")])
    refused([os.path.join(tmp, "whole")], 2, ["not a segment"], "a run that is no segment")
    tampered = os.path.join(tmp, "tampered")
    shutil.copytree(dirs[2], tampered)
    with open(os.path.join(tampered, "seconds.jsonl"), "a") as f:
        f.write("\n")
    refused([dirs[0], dirs[1], tampered], 99, ["not intact"], "a tampered segment")

    # a start already past by more than a second: refused before anything is sent
    before = t.http_json(url + "/_stats")["total_requests"]
    r = t.run(["run", script, "--host", url, "--segment", "1/3", "--setup-data", setup_file,
               "--start-at", "%.3f" % (time.time() - 5), "--out", os.path.join(tmp, "late")])
    t.check_eq(r.returncode, 2, "--start-at 5 s past exit code")
    t.check("past" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
            "--start-at past message", r.stderr)
    t.check_eq(t.http_json(url + "/_stats")["total_requests"], before, "nothing was sent")
    r = t.run(["run", script, "--segment", "4/3"])
    t.check_eq(r.returncode, 2, "--segment 4/3 exit code")
    r = t.run(["run", script, "--segments", "3"], env={"JOB_COMPLETION_INDEX": "3"})
    t.check(r.returncode == 2 and "0-based" in r.stderr, "JOB_COMPLETION_INDEX 3 of 3 refused",
            r.stderr)
    t.stop(target)
    t.done()


if __name__ == "__main__":
    main()
