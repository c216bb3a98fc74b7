"""The path of a request from http.get to the summary (lua_http.c -> transport (http.c) ->
sample.c -> registry): every built-in http_* sample recorded once per request under one tag
set, failures grouped by kind, transport error codes, the coordinated-omission correction in
the open model only, and requests through the connection budget (one-use connections)."""
import os
import resource
import subprocess
from tidetest import *

HTTP_METRICS = ["http_reqs", "http_req_failed", "http_req_duration", "http_req_blocked",
                "http_req_connecting", "http_req_tls_handshaking", "http_req_sending",
                "http_req_waiting", "http_req_receiving", "data_sent", "data_received"]

work = tmpdir()
target, url = start_target()
refused = "http://127.0.0.1:%d/nothing/here" % free_port()


def series(s, name):
    """{frozen tags: series} of one metric."""
    return {tuple(sorted(x["tags"].items())): x for x in s["series"] if x["metric"] == name}


def samples(x):
    """Samples in a series: a rate's passes + fails, else its count."""
    return x["passes"] + x["fails"] if x["type"] == "rate" else x["count"]


# --- closed model: counts, tags, failures, error codes ---
closed = write(work, "closed.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 1, vus = 1 }
function run()
  for _ = 1, 5 do http.get("/bytes/100") end
  http.get("/status/503")
  http.get("/status/503")
  http.get("/status/404", { expect = 404 })
  local t = http.get("/delay?ms=2000", { timeout = "100ms" })
  local r = http.get("%s")
  http.get("/health", { tags = { kind = "tagged" } })
  http.batch { "/health", { "POST", "/echo", { body = "abc" } } }
  tide.check(t, { ["timeout is 1050"] = t.error_code == 1050 and t.status == 0 })
  tide.check(r, {
    ["refused is 1212"] = r.error_code == 1212 and r.status == 0,
    ["refused has a message"] = type(r.error) == "string" and #r.error > 0,
    ["refused url"] = r.url == "%s",
  })
end
""" % (refused, refused))
out = os.path.join(work, "closed")
r = run(["run", closed, "--host", url, "--quiet", "--out", out], timeout=60)
s = load_json(os.path.join(out, "summary.json"))
check_eq([c["name"] for c in s["checks"] if c["fails"] > 0], [], "response fields checked")
reqs = series(s, "http_reqs")
by_name = {}
for tags, x in reqs.items():
    t = dict(tags)
    key = (t["method"], t["name"], t["status"])
    by_name[key] = by_name.get(key, 0) + x["count"]
check_eq(by_name, {("GET", "/bytes/{id}", "200"): 5, ("GET", "/status/{id}", "503"): 2,
                   ("GET", "/status/{id}", "404"): 1, ("GET", "/delay", "0"): 1,
                   ("GET", "/nothing/here", "0"): 1, ("GET", "/health", "200"): 2,
                   ("POST", "/echo", "200"): 1}, "http_reqs by method, name and status")
check(all(dict(t)["scenario"] == "default" and "group" in dict(t) for t in reqs),
      "requests carry the scenario and group tags", list(reqs))
check(any(dict(t).get("kind") == "tagged" for t in reqs), "user tags reach the samples")
for name in HTTP_METRICS:
    got = series(s, name)
    check_eq(sorted(got), sorted(reqs), name + ": the same tag sets as http_reqs")
    if name not in ("data_sent", "data_received"):
        check_eq({t: samples(x) for t, x in got.items()}, {t: x["count"] for t, x in reqs.items()},
                 name + ": one sample per request")
check_eq(series(s, "http_req_duration_uncorrected"), {}, "closed model: nothing to correct")
check_eq(metric(s, "http_req_failed", "passes"), 4, "503 x2, timeout, refused failed")
check_eq(metric(s, "http_req_failed", "fails"), 9, "the rest (404 expected) did not")
errors = {(e["method"], e["name"], e["error"]): e["occurrences"] for e in s["errors"]}
check_eq(errors, {("GET", "/status/{id}", "HTTP 503"): 2,
                  ("GET", "/delay", "Timeout was reached (curl 28)"): 1,
                  ("GET", "/nothing/here", "Couldn't connect to server (curl 7)"): 1},
         "failures grouped by method, name and kind of error")
recv = {dict(t)["name"]: x["count"] for t, x in series(s, "data_received").items()}
check(recv["/bytes/{id}"] >= 500, "data_received counts bodies and headers", recv)
sent = {dict(t)["name"]: x["count"] for t, x in series(s, "data_sent").items()}
check(sent["/echo"] > 3 + len("POST /echo HTTP/1.1"), "data_sent counts the request", sent)

# --- open model: http_req_duration corrected from when each request was due ---
open_model = write(work, "open.lua", """
local http = require "tide.http"
options = { scenarios = { o = { executor = "constant-arrival-rate", rate = 20, time_unit = "1s",
  duration = "1s", pre_allocated_vus = 2 } } }
function run() http.get("/health") http.get("/delay?ms=20") end
""")
out = os.path.join(work, "open")
run(["run", open_model, "--host", url, "--threads", "1", "--quiet", "--out", out], timeout=60)
s = load_json(os.path.join(out, "summary.json"))
dur, unc = metric(s, "http_req_duration", "count"), metric(s, "http_req_duration_uncorrected",
                                                           "count")
check(dur is not None and dur > 0 and unc == dur, "open model: both durations per request",
      (dur, unc))
check(metric(s, "http_req_duration", "max") >= metric(s, "http_req_duration_uncorrected", "max"),
      "the correction never shortens a duration")
check_eq(sorted(series(s, "http_req_duration_uncorrected")), sorted(series(s, "http_reqs")),
         "uncorrected durations carry the request's tags")


# --- over the open-file budget: one-use connections and queued requests all complete ---
def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))


many = write(work, "many.lua", """
local http = require "tide.http"
function run() http.get("/delay?ms=20") end
""")
out = os.path.join(work, "many")
p = subprocess.run([TIDE, "run", many, "--host", url, "--vus", "400", "--iterations", "800",
                    "--threads", "1", "--quiet", "--out", out], capture_output=True, text=True,
                   timeout=120, preexec_fn=low_nofile)
check_eq(p.returncode, 0, "400 VUs under a 200-file limit: exit 0")
s = load_json(os.path.join(out, "summary.json"))
check_eq(metric(s, "http_reqs", "count"), 800, "every request was made")
check_eq(metric(s, "http_req_failed", "passes"), 0, "none failed for lack of descriptors")

stop(target)
done()
