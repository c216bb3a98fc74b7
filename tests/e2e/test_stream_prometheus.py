"""End-to-end test of `tide run --stream prometheus=URL` (docs/streams.md) against a real
Prometheus from Debian (package `prometheus`, started here on a free loopback port with its
remote-write receiver): the running totals Prometheus holds at the end equal summary.json's
(requests, iterations, failed requests, duration samples), percentile series carry the run
id, tags are labels and secrets in them are redacted, Ctrl-C still flushes every second; an
endpoint that is down costs a warning, not the run; bad URLs exit 2 with one line. Also checks
examples/grafana/tide-dashboard.json queries these series. Skips (77) only without the
prometheus binary."""
import json
import os
import shutil
import signal
import subprocess
import re
import time
import urllib.parse
import urllib.request
from tidetest import *
import tidetest

PROMETHEUS = shutil.which("prometheus")
if PROMETHEUS is None:
    skip("no prometheus binary (Debian package prometheus, in the Makefile's TEST_DEPS)")

work = tmpdir("tide-prom-")
config = write(work, "prometheus.yml", "global:\n  scrape_interval: 1h\nscrape_configs: []\n")
port = free_port()
base = "http://127.0.0.1:%d" % port
prom_log = open(os.path.join(work, "prometheus.log"), "w")
prom = subprocess.Popen([PROMETHEUS, "--web.enable-remote-write-receiver",
                         "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
                         "--web.listen-address=127.0.0.1:%d" % port,
                         "--config.file=" + config],
                        stdout=prom_log, stderr=subprocess.STDOUT)
tidetest._procs.append(prom)  # killed at exit whatever happens


def ready():
    try:
        with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


deadline = time.time() + 60
while time.time() < deadline and prom.poll() is None and not ready():
    time.sleep(0.2)
check(ready(), "prometheus is ready on loopback",
      open(os.path.join(work, "prometheus.log")).read()[-500:])
WRITE = base + "/api/v1/write"


def query(expr):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())["data"]["result"]


def scalar(expr):
    res = query(expr)
    return float(res[0]["value"][1]) if res else None


def settle(expr, want, timeout=20):
    """The value of 'expr' once it equals 'want' (the last second's samples are stamped at
    that second's end, up to a second ahead of now), or the last value after 'timeout'."""
    deadline = time.time() + timeout
    got = scalar(expr)
    while got != want and time.time() < deadline:
        time.sleep(0.5)
        got = scalar(expr)
    return got


def compare(out, what):
    s = load_json(os.path.join(out, "summary.json"))
    rid = s["run"]["id"]
    sel = '{run_id="%s"}' % rid
    for series, m, f in [("tide_http_reqs_total", "http_reqs", "count"),
                         ("tide_iterations_total", "iterations", "count"),
                         ("tide_http_req_failed_total", "http_req_failed", "passes"),
                         ("tide_http_req_failed_samples_total", "http_reqs", "count"),
                         ("tide_http_req_duration_seconds_count", "http_req_duration", "count")]:
        want = float(metric(s, m, f) or 0)
        got = settle("sum(%s%s)" % (series, sel), want)
        check_eq(got, want, "%s: sum(%s) equals summary.json's %s.%s" % (what, series, m, f))
    check(metric(s, "http_reqs", "count") > 0, "%s: the run made requests" % what)
    return s, rid


# --- docs/streams.md's command (30s cut to 3s, --target as test_docs_examples adds it):
# totals equal summary.json's, percentiles with run_id ---
out = os.path.join(work, "run")
r = run(["run", "scenarios/hello.lua", "--vus", "5", "--duration", "3s",
         "--stream", "prometheus=" + WRITE, "--target", "--out", out], cwd=SRC)
check_eq(r.returncode, 0, "a run with --stream prometheus=URL")
check("--stream prometheus" not in r.stderr, "no warning when Prometheus takes every push",
      r.stderr[-300:])
s, rid = compare(out, "docs command")
p95 = query('tide_http_req_duration_seconds{run_id="%s",quantile="0.95"}' % rid)
check(len(p95) > 0, "a p95 series with the run_id label")
for q in ["0.5", "0.9", "0.99", "1"]:
    check(len(query('tide_http_req_duration_seconds{run_id="%s",quantile="%s"}' % (rid, q))) > 0,
          "quantile %s series" % q)
labels = p95[0]["metric"] if p95 else {}
for k in ["run_id", "scenario", "name", "method", "status"]:
    check(k in labels, "percentile series labelled with %s" % k, labels)
check(all(0 <= float(x["value"][1]) < 60 for x in p95), "durations in seconds", p95[:1])
check(len(query('tide_vus{run_id="%s"}' % rid)) > 0, "the vus gauge")
check(scalar('sum(tide_data_received_bytes_total{run_id="%s"})' % rid) ==
      float(metric(s, "data_received", "count")), "data_received in bytes")
names = {x["metric"].get("name") for x in query('tide_http_reqs_total{run_id="%s"}' % rid)}
check("/api/projects" in names, "the name tag is a label", names)

# --- tags, and a secret in a tag value: redacted before it leaves ---
secret = "s3cr3t-Pr0m-label"
flow = write(work, "flow.lua", """
local http = require "tide.http"
local tide = require "tide"
function run()
  http.get("/health", { tags = { token = tide.env("TIDE_TEST_PASSWORD"), ["team-name"] = "a" } })
  http.get("/status/404", { name = "missing" })
  tide.think(0.02)
end
""")
target, turl = start_target()
out2 = os.path.join(work, "tags")
r = run(["run", flow, "--host", turl, "--vus", "2", "--duration", "2s", "--out", out2,
         "--tag", "team=checkout", "--tag", "run_id=mine", "--stream", "prometheus=" + WRITE,
         "--no-default-thresholds"],
        env={"TIDE_TEST_PASSWORD": secret})
check_eq(r.returncode, 0, "a run with tags")
s2, rid2 = compare(out2, "tags")
series = query('tide_http_reqs_total{run_id="%s"}' % rid2)
check(all(x["metric"].get("team") == "checkout" for x in series), "--tag is a label", series[:1])
check({x["metric"].get("status") for x in series} == {"200", "404"}, "status label")
check(all(x["metric"].get("tag_run_id") == "mine" for x in series),
      "a tag named run_id becomes tag_run_id (tide's run_id stays)", series[:1])
check({x["metric"].get("team_name") for x in series} == {"a", None},
      "a tag key becomes a valid label name (team-name: team_name)", series[:2])
tokens = {x["metric"].get("token") for x in series if "token" in x["metric"]}
check(tokens == {"***"}, "the secret tag value is redacted", tokens)
every = json.dumps(query('{run_id="%s"}' % rid2))
check(secret not in every, "the secret is in no series Prometheus holds")

# --- more than 1000 series a second: capped, warned once, totals still whole ---
many = write(work, "many.lua", """
local http = require "tide.http"
function run()
  for i = 1, 30 do http.get("/health", { name = "n" .. i }) end
end
""")
out5 = os.path.join(work, "many")
r = run(["run", many, "--host", turl, "--vus", "2", "--duration", "2s", "--out", out5,
         "--stream", "prometheus=" + WRITE, "--no-default-thresholds"])
check_eq(r.returncode, 0, "a run with too many series")
check_eq(r.stderr.count("more than 1000 series"), 1, "the cap is warned about once")
s5, rid5 = compare(out5, "capped")
held = scalar('count({run_id="%s"})' % rid5)
# uncapped, 30 names would make about 60 series each (8 trends x 7, counters, rates)
check(held is not None and held < 30 * 60, "fewer series than an uncapped push", held)

# --- Ctrl-C: what was measured is flushed ---
out3 = os.path.join(work, "sigint")
p = subprocess.Popen([TIDE, "run", flow, "--host", turl, "--vus", "2", "--duration", "60s",
                      "--out", out3, "--stream", "prometheus=" + WRITE, "--no-default-thresholds"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 30
while time.time() < deadline and not os.path.isdir(out3):  # the run folder: load has begun
    time.sleep(0.2)
time.sleep(3)  # a few pushes
so, se = signal_and_wait(p)
check_eq(p.returncode, 130, "SIGINT: exit 130")
compare(out3, "sigint")

# --- an endpoint that is down: a warning, and the run passes ---
down = "http://127.0.0.1:%d/api/v1/write" % free_port()
out4 = os.path.join(work, "down")
t0 = time.time()
r = run(["run", flow, "--host", turl, "--vus", "2", "--duration", "2s", "--out", out4,
         "--stream", "prometheus=" + down, "--no-default-thresholds"], timeout=120)
took = time.time() - t0
check_eq(r.returncode, 0, "a down endpoint does not fail the run")
check("cannot push to" in r.stderr and "the run goes on" in r.stderr,
      "a warning says the endpoint cannot be reached", r.stderr[-400:])
check("pushes did not arrive" in r.stderr, "the end says how many pushes were lost",
      r.stderr[-400:])
s4 = load_json(os.path.join(out4, "summary.json"))
check(metric(s4, "http_reqs", "count") > 0, "the run measured as usual")
# a hang guard, not a speed check: 2 s of load + at most the 5 s flush + start/stop
check(took < 60, "the run is not held up by the endpoint", "%.1f s" % took)

# --- bad URLs: one line, exit 2, nothing run ---
for spec in ["prometheus=", "prometheus=ftp://127.0.0.1/x", "prometheus=127.0.0.1:9090",
             "prometheus=http://"]:
    bad = os.path.join(work, "bad")
    r = run(["run", flow, "--host", turl, "--vus", "1", "--duration", "1s", "--out", bad,
             "--stream", spec])
    check_eq(r.returncode, 2, "--stream %s: exit 2" % spec)
    lines = r.stderr.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("tide: ") and "http://" in lines[0],
          "--stream %s: one line saying why" % spec, r.stderr[-300:])
    check(not os.path.exists(os.path.join(bad, "summary.json")), "no run happened")

# --- the Grafana dashboard queries these series ---
dash = load_json(os.path.join(SRC, "examples", "grafana", "tide-dashboard.json"))
exprs = [t.get("expr", "") for p in dash.get("panels", []) for t in p.get("targets", [])]
text = " ".join(exprs)
for name in ["tide_http_reqs_total", "tide_http_req_failed_total",
             "tide_http_req_failed_samples_total", "tide_http_req_duration_seconds", "tide_vus"]:
    check(name in text, "the dashboard queries %s" % name)
check('quantile="0.95"' in text and 'quantile="0.99"' in text, "the dashboard shows p95 and p99")
check(any("$run_id" in e for e in exprs), "the dashboard filters by run_id")
# every series the dashboard names is one tide pushes
pushed = set(json.loads(urllib.request.urlopen(base + "/api/v1/label/__name__/values",
                                               timeout=10).read())["data"])
used = set(re.findall(r"\btide_[a-z_]+\b", text))
check(used <= pushed, "the dashboard names only series tide pushes", used - pushed)

stop(target)
stop(prom)
done()
