"""End-to-end tests of verdicts and the run folder: thresholds pass (0) or fail (99) and say
which; abort_on_fail stops early with a complete report; every file exists and parses; Locust's
CSV columns; JUnit is XML; manifest hashes and the audit chain verify; `tide report` re-renders
byte-identical CSVs; `tide compare` flags a slowed target; secrets never reach a file."""
import glob
import hashlib
import os
import xml.etree.ElementTree as ET
from tidetest import *

target, url = start_target()
work = tmpdir()

flow = write(work, "flow.lua", """
local http = require "tide.http"
local tide = require "tide"
options = {
  thresholds = {
    http_req_duration = { "p(95)<2000" },
    ["http_req_duration{name:/health}"] = { "max<2000" },
    checks = { "rate==1" },
  },
}
function run()
  local r = http.get("/health")
  tide.check(r, { ["health is 200"] = function(x) return x.status == 200 end })
  http.get("/echo?x=1")
end
""")

# --- a threshold that holds: exit 0 ---
good = os.path.join(work, "good")
r = run(["run", flow, "--host", url, "--vus", "4", "--iterations", "200", "--out", good])
check_eq(r.returncode, 0, "passing thresholds exit 0")
s = load_json(os.path.join(good, "summary.json"))
check_eq([t["ok"] for t in s["thresholds"] if t["source"] != "default"], [True, True, True],
         "all thresholds ok")
check_eq(sorted(t["metric"] for t in s["thresholds"] if t["source"] == "default"),
         ["http_req_failed", "iterations", "tide_script_errors"], "the default checks are listed")
check("✓ http_req_duration: p(95)<2000" in r.stdout, "summary lists thresholds", r.stdout[-800:])

# --- one that fails: exit 99 and it says which; CLI thresholds merge with the script's ---
bad = os.path.join(work, "bad")
r = run(["run", flow, "--host", url, "--vus", "2", "--iterations", "50", "--out", bad,
         "--threshold", "http_reqs: count<10", "--threshold", "http_req_duration{name:/echo}: p(99)<5000"])
check_eq(r.returncode, 99, "failing threshold exit 99")
check("✗ http_reqs: count<10" in r.stdout, "names the failed threshold", r.stdout[-800:])
check("observed 100" in r.stdout, "shows the observed value", r.stdout[-800:])
s = load_json(os.path.join(bad, "summary.json"))
byexpr = {(t["metric"], t["expression"]): t for t in s["thresholds"]}
check_eq(byexpr[("http_reqs", "count<10")]["ok"], False, "cli threshold failed")
check_eq(byexpr[("http_reqs", "count<10")]["source"], "cli", "source cli")
check_eq(byexpr[("http_req_duration{name:/echo}", "p(99)<5000")]["ok"], True, "tag-filtered ok")
check_eq(s["run"]["status"], "failed", "status failed")
junit = ET.parse(os.path.join(bad, "junit.xml")).getroot()
fails = [tc for tc in junit.iter("testcase") if tc.find("failure") is not None]
check(any("count<10" in (tc.get("name") or "") + (tc.find("failure").get("message") or "")
          for tc in fails), "junit has the failed threshold", [tc.get("name") for tc in fails])
check(any("observed" in (tc.find("failure").get("message") or "") + (tc.find("failure").text or "")
          for tc in fails), "junit failure carries the observed value")

# --- abort_on_fail: stops early, report complete, exit 99 ---
abort = write(work, "abort.lua", """
local http = require "tide.http"
options = {
  vus = 3, duration = "60s",
  thresholds = { http_req_failed = { { threshold = "rate<0.1", abort_on_fail = true } } },
}
function run() http.get("/status/500") end
""")
out = os.path.join(work, "abort")
r = run(["run", abort, "--host", url, "--out", out], timeout=60)
check_eq(r.returncode, 99, "abort_on_fail exit 99")
s = load_json(os.path.join(out, "summary.json"))
check(s["run"]["duration_s"] < 30, "stopped well before 60s", s["run"]["duration_s"])
check_eq(s["run"]["status"], "aborted", "status aborted")
check("rate<0.1" in (s["run"]["abort_reason"] or ""), "abort reason names the threshold")
for f in ["summary.json", "stats.csv", "stats_history.csv", "failures.csv", "junit.xml",
          "report.html", "events.jsonl", "manifest.json"]:
    check(os.path.exists(os.path.join(out, f)), "aborted run has " + f)

# --- tide.abort(): exit 108 ---
ab = write(work, "tideabort.lua", """
local tide = require "tide"
options = { vus = 2, duration = "30s" }
function run() if tide.vu.iteration == 3 then tide.abort("stop now") end tide.sleep(0.01) end
""")
out = os.path.join(work, "tideabort")
r = run(["run", ab, "--host", url, "--out", out], timeout=60)
check_eq(r.returncode, 108, "tide.abort exit 108")
s = load_json(os.path.join(out, "summary.json"))
check_eq(s["run"]["abort_reason"], "stop now", "abort reason")

# --- tide.abort() in setup(): exit 108, nothing sent ---
sab = write(work, "setupabort.lua", """
local tide = require "tide"
function setup() tide.abort("the system under test is down") end
function run() end
""")
r = run(["run", sab, "--host", url])
check_eq(r.returncode, 108, "tide.abort in setup exits 108")
check("the system under test is down" in r.stderr, "says why", r.stderr)

# --- a numeric secret is redacted without corrupting summary.json ---
num = write(work, "numsecret.lua", """
local http = require "tide.http"
local tide = require "tide"
function run() http.get("/status/200?pin=" .. tide.env("TIDE_PIN")) end
""")
out = os.path.join(work, "numsecret")
r = run(["run", num, "--host", url, "--iterations", "12345", "--vus", "20", "--quiet", "--out", out],
        env={"TIDE_PIN": "12345"}, timeout=120)
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "iterations", "count"), 12345, "numbers equal to a secret stay numbers")

# --- every file parses; Locust's CSV layout; counts agree with summary and the server ---
http_json(url + "/_stats/reset", method="POST", body={})
out = os.path.join(work, "files")
r = run(["run", flow, "--host", url, "--vus", "3", "--iterations", "120", "--quiet",
         "--out", out])
s = load_json(os.path.join(out, "summary.json"))
check_eq(s["schema"], "tide.summary/1", "schema version")
stats = load_csv(os.path.join(out, "stats.csv"))
locust_header = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                 "Average Response Time", "Min Response Time", "Max Response Time",
                 "Average Content Size", "Requests/s", "Failures/s", "50%", "66%", "75%",
                 "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
for i, col in enumerate(locust_header):
    check_eq(stats[0][i] if i < len(stats[0]) else None, col, "stats.csv column %d" % i)
check_eq(stats[-1][1], "Aggregated", "last row Aggregated")
rows = {(row[0], row[1]): int(row[2]) for row in stats[1:-1]}
served = {k: sum(v.values()) for k, v in http_json(url + "/_stats")["requests"].items()}
check_eq(rows.get(("GET", "/health")), 120, "stats.csv count")
check_eq(rows.get(("GET", "/health")), served.get("GET /health"), "stats.csv == /_stats")
check_eq(int(stats[-1][2]), metric(s, "http_reqs", "count"), "stats.csv total == summary")
hist = load_csv(os.path.join(out, "stats_history.csv"))
check_eq(hist[0][:4], ["Timestamp", "User Count", "Type", "Name"], "history header")
fails = load_csv(os.path.join(out, "failures.csv"))
check_eq(fails[0], ["Method", "Name", "Error", "Occurrences"], "failures header")
ET.parse(os.path.join(out, "junit.xml"))
events = [json.loads(l) for l in open(os.path.join(out, "events.jsonl"))]
check_eq(events[0]["type"], "start", "first event is start")
check_eq(events[-1]["type"], "end", "last event is end")
manifest = load_json(os.path.join(out, "manifest.json"))
for name, digest in manifest["files"].items():
    with open(os.path.join(out, name), "rb") as f:
        check_eq(hashlib.sha256(f.read()).hexdigest(), digest, "manifest hash of " + name)
check("summary.json" in manifest["files"] and "report.html" in manifest["files"],
      "manifest covers the files")
check_eq(manifest["exit_code"], 0, "manifest exit code")
r = run(["verify", out])
check_eq(r.returncode, 0, "tide verify on an intact folder")

# --- tide report: byte-identical CSVs ---
before = {f: open(os.path.join(out, f), "rb").read()
          for f in ["stats.csv", "stats_history.csv", "failures.csv"]}
for f in before:
    os.remove(os.path.join(out, f))
r = run(["report", out])
check_eq(r.returncode, 0, "tide report exit code")
for f, data in before.items():
    check(open(os.path.join(out, f), "rb").read() == data, "tide report re-creates " + f)

# --- tampering is detected ---
with open(os.path.join(out, "stats.csv"), "a") as f:
    f.write("x\n")
r = run(["verify", out])
check_eq(r.returncode, 99, "tide verify detects a modified file")
check("stats.csv" in r.stderr, "names the modified file", r.stderr)

# --- compare: itself = no regression; a slowed target = exit 99 ---
steady = write(work, "steady.lua", """
local http = require "tide.http"
function run() http.get("/delay?ms=5") end
""")
base = os.path.join(work, "base")
run(["run", steady, "--host", url, "--vus", "4", "--iterations", "200", "--quiet", "--out", base])
r = run(["compare", base, base])
check_eq(r.returncode, 0, "compare with itself")
# 300 ms more: a busy machine would have to slow the base run's p95 from ~5 ms to 200 ms to hide it
slow_target, slow_url = start_target("--delay", "300ms")
slow = os.path.join(work, "slow")
run(["run", steady, "--host", slow_url, "--vus", "4", "--iterations", "40", "--quiet",
     "--out", slow])
r = run(["compare", base, slow, "--max-regression", "p95=50%"])
check_eq(r.returncode, 99, "compare flags the slowed target")
stop(slow_target)

# --- Locust's --csv PREFIX and --html FILE; handle_summary's extra files ---
hs = write(work, "hs.lua", """
local http = require "tide.http"
local json = require "tide.json"
function run() http.get("/health") end
function handle_summary(s)
  return {
    stdout = "custom summary: " .. s.metrics.http_reqs.count .. " requests\\n",
    ["extra/summary-copy.json"] = json.encode({ reqs = s.metrics.http_reqs.count }),
  }
end
""")
out = os.path.join(work, "hs")
prefix = os.path.join(work, "locust", "run")
os.makedirs(os.path.dirname(prefix), exist_ok=True)
html = os.path.join(work, "locust", "report.html")
r = run(["run", hs, "--host", url, "--iterations", "7", "--out", out, "--csv", prefix,
         "--html", html])
check_eq(r.returncode, 0, "--csv/--html run")
for suffix in ("_stats.csv", "_stats_history.csv", "_failures.csv"):
    check(os.path.exists(prefix + suffix), "--csv writes PREFIX" + suffix)
check_eq(load_csv(prefix + "_stats.csv")[0][:3], ["Type", "Name", "Request Count"], "--csv layout")
check("<html" in open(html).read(200).lower(), "--html writes the report")
check("custom summary: 7 requests" in r.stdout, "handle_summary stdout", r.stdout[-300:])
extra = os.path.join(out, "extra", "summary-copy.json")
check(os.path.exists(extra) and load_json(extra)["reqs"] == 7, "handle_summary writes files")

# --- secrets from tide.env never reach a file or the terminal ---
secret = "s3cr3t-P4ssw0rd-xyz"
sec = write(work, "secret.lua", """
local http = require "tide.http"
local tide = require "tide"
function run()
  local pw = tide.env("TIDE_TEST_PASSWORD")
  http.post("/api/auth/login", { json = { username = "demo", password = pw } })
  tide.log.info("logging in with " .. pw)
  http.get("/status/500?pw=" .. pw)
  error("failed with password " .. pw)
end
""")
out = os.path.join(work, "secret")
r = run(["run", sec, "--host", url, "--iterations", "3", "--out", out],
        env={"TIDE_TEST_PASSWORD": secret})
check(secret not in r.stdout + r.stderr, "secret not printed", (r.stdout + r.stderr)[-400:])
leaks = [p for p in glob.glob(os.path.join(out, "*")) if secret in open(p, errors="replace").read()]
check_eq(leaks, [], "secret in no file of the run folder")
check("***" in r.stderr, "redaction is visible", r.stderr[-300:])

stop(target)
done()
