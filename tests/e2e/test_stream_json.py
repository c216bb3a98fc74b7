"""End-to-end test of `tide run --stream json=FILE` (docs/streams.md): every line is valid
against docs/stream-json.schema.json; the per-second points add up to summary.json's totals
(requests, iterations, bytes, samples, checks); one timestamp per history row; json=- writes
only the stream to stdout; Ctrl-C still leaves a complete file; secrets are redacted; a bad
--stream value or an uncreatable file stops the run before anything is sent (exit 2)."""
import collections
import json
import os
import signal
import subprocess
import time
from tidetest import *

SCHEMA = json.load(open(os.path.join(SRC, "docs", "stream-json.schema.json")))
try:
    import jsonschema
    VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
except ImportError:  # Debian python3-jsonschema (TEST_DEPS); the fallback checks the essentials
    VALIDATOR = None


def schema_errors(line):
    """None when 'line' is valid against the schema, else why not."""
    try:
        obj = json.loads(line)
    except ValueError as e:
        return "not JSON: %s" % e
    if VALIDATOR is not None:
        errs = [e.message for e in VALIDATOR.iter_errors(obj)]
        return "; ".join(errs) or None
    for branch in SCHEMA["oneOf"]:
        if obj.get("type") != branch["properties"]["type"]["const"]:
            continue
        data_schema = branch["properties"]["data"]
        missing = [k for k in branch["required"] if k not in obj]
        missing += [k for k in data_schema["required"] if k not in obj.get("data", {})]
        extra = [k for k in obj.get("data", {}) if k not in data_schema["properties"]]
        return "missing %s, unknown %s" % (missing, extra) if missing or extra else None
    return "unknown type %r" % obj.get("type")


def read_stream(text, what):
    lines = text.splitlines()
    bad = [(l[:120], schema_errors(l)) for l in lines if schema_errors(l)]
    check_eq(bad[:3], [], "%s: every line valid against the schema" % what)
    return [json.loads(l) for l in lines if not schema_errors(l)]


def totals(objs):
    """Sums of the per-second points, as summary.json counts them."""
    t = collections.Counter()
    announced = set()
    order_ok = True
    times = set()
    for o in objs:
        m = o["metric"]
        if o["type"] == "Metric":
            order_ok = order_ok and m not in announced
            announced.add(m)
            continue
        order_ok = order_ok and m in announced
        d = o["data"]
        times.add(d["time"])
        a = d["aggregation"]
        if "nonzero" in a:  # rate
            t[m + ".passes"] += a["nonzero"]
            t[m + ".fails"] += a["count"] - a["nonzero"]
        elif "sum" in a:  # trend
            t[m + ".count"] += a["count"]
        elif "min" not in a:  # counter
            t[m + ".count"] += d["value"]
    return t, times, order_ok


def compare(objs, summary, what):
    t, times, order_ok = totals(objs)
    check(order_ok, "%s: each metric announced once, before its first point" % what)
    for m, f in [("http_reqs", "count"), ("iterations", "count"), ("data_received", "count"),
                 ("data_sent", "count"), ("http_req_duration", "count"),
                 ("iteration_duration", "count"), ("checks", "passes"), ("checks", "fails"),
                 ("http_req_failed", "passes"), ("http_req_failed", "fails")]:
        want = metric(summary, m, f) or 0
        check(abs(t[m + "." + f] - want) < 1e-6, "%s: %s.%s sums to summary.json's" % (what, m, f),
              "(stream %r, summary %r)" % (t[m + "." + f], want))
    check_eq(len(times), len(summary["history"]), "%s: one timestamp per history second" % what)
    check(metric(summary, "http_reqs", "count") > 0, "%s: the run made requests" % what)


target, url = start_target()
work = tmpdir()
flow = write(work, "flow.lua", """
local http = require "tide.http"
local tide = require "tide"
function run()
  local r = http.get("/health")
  tide.check(r, { ["health is 200"] = function(x) return x.status == 200 end,
                  ["never"] = function(x) return false end })
  http.get("/status/404", { name = "missing" })
  tide.think(0.05, 0.1)
end
""")
env = {"TIDE_TEST_PASSWORD": "unused"}

# --- a file: valid lines, totals equal summary.json's ---
out = os.path.join(work, "file")
path = os.path.join(work, "metrics.jsonl")
r = run(["run", flow, "--host", url, "--vus", "3", "--duration", "3s", "--out", out,
         "--stream", "json=" + path, "--no-default-thresholds"])
check_eq(r.returncode, 0, "a run with --stream json=FILE", )
s = load_json(os.path.join(out, "summary.json"))
objs = read_stream(open(path).read(), "file")
compare(objs, s, "file")
names = {o["data"]["tags"].get("name") for o in objs if o["metric"] == "http_reqs" and o["type"] == "Point"}
check_eq(names, {"/health", "missing"}, "points carry their tags")
statuses = {o["data"]["tags"].get("status") for o in objs if o["metric"] == "http_reqs" and o["type"] == "Point"}
check_eq(statuses, {"200", "404"}, "status tags")
check(all(not o["metric"].startswith("tide_") for o in objs), "internal metrics stay out")

# --- json=- : stdout is the stream alone ---
out2 = os.path.join(work, "stdout")
r = run(["run", flow, "--host", url, "--vus", "2", "--duration", "2s", "--out", out2,
         "--stream", "json=-", "--no-default-thresholds"])
check_eq(r.returncode, 0, "a run with --stream json=-")
compare(read_stream(r.stdout, "stdout"), load_json(os.path.join(out2, "summary.json")), "stdout")

# --- Ctrl-C: the file is complete and flushed ---
out3 = os.path.join(work, "sigint")
path3 = os.path.join(work, "sigint.jsonl")
p = subprocess.Popen([TIDE, "run", flow, "--host", url, "--vus", "2", "--duration", "60s",
                      "--out", out3, "--stream", "json=" + path3, "--no-default-thresholds"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 20
while time.time() < deadline and (not os.path.exists(path3) or os.path.getsize(path3) == 0):
    time.sleep(0.1)
time.sleep(1.5)
so, se = signal_and_wait(p)
check_eq(p.returncode, 130, "SIGINT: exit 130")
text = open(path3).read()
check(text.endswith("\n"), "the file ends with a whole line")
compare(read_stream(text, "sigint"), load_json(os.path.join(out3, "summary.json")), "sigint")

# --- secrets: redacted in the stream ---
secret = "s3cr3t-Str3am-xyz"
sec = write(work, "secret.lua", """
local http = require "tide.http"
local tide = require "tide"
function run()
  http.get("/health", { tags = { token = tide.env("TIDE_TEST_PASSWORD") } })
end
""")
path4 = os.path.join(work, "secret.jsonl")
r = run(["run", sec, "--host", url, "--iterations", "3", "--out", os.path.join(work, "sec"),
         "--stream", "json=" + path4, "--no-default-thresholds"], env={"TIDE_TEST_PASSWORD": secret})
text = open(path4).read()
check(secret not in text, "the secret is not in the stream")
check("***" in text, "its place is redacted", text[:300])

# --- bad values: one line, exit 2, nothing sent ---
for spec, words in [("influxdb=http://127.0.0.1:1/", "unknown kind 'influxdb'"),
                    ("json=", "a file name"), ("metrics.jsonl", "expected KIND=TARGET"),
                    ("json=" + os.path.join(work, "no", "such", "dir", "m.jsonl"), "cannot create")]:
    r = run(["run", flow, "--host", url, "--vus", "1", "--duration", "1s",
             "--out", os.path.join(work, "bad"), "--stream", spec])
    check_eq(r.returncode, 2, "--stream %s: exit 2" % spec)
    lines = r.stderr.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("tide: ") and words in lines[0],
          "--stream %s: one line saying why" % spec, r.stderr[-300:])
    check(not os.path.exists(os.path.join(work, "bad", "summary.json")), "no run happened")

stop(target)
done()
