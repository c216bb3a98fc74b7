"""Every hook event fires, in order, with its documented payload (docs/extending.md), in one
scripted run: a hook per event posts its payload to a loopback receiver. Payloads pass the
privacy filter: a secret read with tide.env never reaches the receiver."""
import os
from tidetest import *
from receiver import HTTPReceiver

target, url = start_target()
recv = HTTPReceiver()
work = tmpdir()
SECRET = "s3cr3t-hook-value-42"

script = write(work, "events.lua", """
local http = require "tide.http"
local tide = require "tide"
local secret = tide.env("HOOK_SECRET")
options = {
  threads = 1,
  stages = { { duration = "2s", target = 2 }, { duration = "2s", target = 2 } },
  thresholds = { http_req_failed = { "rate<0.3" } },
}
for _, ev in ipairs(tide.hooks.events) do
  tide.hooks.on(ev, function(p)
    local r = http.post(tide.env("RECV") .. "/ev/" .. ev, { json = p, timeout = 5 })
    return r.status == 200
  end)
end
function run()
  -- failures first (the threshold crosses), then successes (it recovers)
  local failing = tide.vu.iteration < 20
  local res = http.get(failing and "/status/500" or "/health")
  tide.check(res, { ["status is 200 " .. secret] = function(r) return r.status == 200 end })
  tide.sleep(failing and 0.07 or 0.005)
end
function verify()
  tide.check(true, { ["server state consistent"] = true })
end
""")
out = os.path.join(work, "run")
r = run(["run", script, "--host", url, "--out", out],
        env={"RECV": recv.url, "HOOK_SECRET": SECRET}, timeout=120)
check_eq(r.returncode, 0, "exit code (the threshold recovered, hooks all ok)")
names = [q["path"][len("/ev/"):] for q in recv.requests]
first = {}
for i, n in enumerate(names):
    first.setdefault(n, i)
for ev in ["test_start", "scenario_start", "stage_change", "threshold_crossed",
           "threshold_recovered", "check_failed", "error_burst", "scenario_end", "verify_done",
           "test_end", "report_written"]:
    check(ev in first, "event %s fired" % ev, names)
check_eq(names[0], "test_start", "test_start first")
check_eq(names[-1], "report_written", "report_written last")
order = ["test_start", "scenario_start", "threshold_crossed", "threshold_recovered",
         "verify_done", "test_end", "report_written"]
check([first.get(e, -1) for e in order] == sorted(first.get(e, -1) for e in order),
      "events in order", names)

p = {n: json.loads(q["body"]) for n, q in reversed(list(zip(names, recv.requests)))}
check(p["test_start"]["dir"] == out and "options" in p["test_start"] and
      "plugins" in p["test_start"], "test_start payload: dir, options, plugins",
      p.get("test_start"))
check_eq([e["stage"] for e in recv.json_bodies("/ev/stage_change")], [1, 2],
         "stage_change payloads")
check_eq(p["scenario_start"].get("scenario"), "default", "scenario_start names the scenario")
check(p["threshold_crossed"]["metric"] == "http_req_failed" and
      p["threshold_crossed"]["expression"] == "rate<0.3", "threshold_crossed payload",
      p["threshold_crossed"])
check_eq(p["threshold_recovered"]["metric"], "http_req_failed", "threshold_recovered payload")
cf = recv.json_bodies("/ev/check_failed")
check(sum(e["total"] for e in cf) >= 1 and cf[0]["checks"][0]["count"] >= 1,
      "check_failed summary with counts", cf[:1])
check(len(cf) <= 2, "check_failed rate-limited (one per 10 s, plus the end)", len(cf))
eb = recv.json_bodies("/ev/error_burst")
check(eb and eb[0]["errors"][0]["error"] == "HTTP 500", "error_burst summary", eb[:1])
check(p["verify_done"]["ran"] and p["verify_done"]["ok"], "verify_done payload",
      p["verify_done"])
check(p["test_end"]["run"]["status"] == "passed" and p["test_end"]["run"]["exit_code"] == 0,
      "test_end has the verdict", p["test_end"].get("run"))
files = {f["name"]: f for f in p["report_written"]["files"]}
check("summary.json" in files and "manifest.json" in files, "report_written lists the files",
      list(files))
import hashlib
with open(os.path.join(out, "summary.json"), "rb") as f:
    check_eq(files["summary.json"]["sha256"], hashlib.sha256(f.read()).hexdigest(),
             "report_written hash of summary.json")
check(SECRET.encode() not in recv.all_bytes(), "no secret reaches the receiver")
check(b"***" in b"".join(recv.bodies("/ev/check_failed")), "the check name was redacted")

ev = [json.loads(l) for l in open(os.path.join(out, "events.jsonl"))]
hooks = [e for e in ev if e["type"] == "hook"]
check(all(h["ok"] and h["ms"] >= 0 for h in hooks), "hook runs logged with duration, ok")
check("test_end" in [h["event"] for h in hooks] and
      "stage_change" in [h["event"] for h in hooks], "hook runs logged per event")
s = load_json(os.path.join(out, "summary.json"))
check_eq(s["hooks"]["failures"], [], "summary.json: no hook failed")

# --- nothing is logged when no handler ran ---
plain = write(work, "plain.lua", """
local http = require "tide.http"
function run() http.get("/health") end
""")
out2 = os.path.join(work, "plain")
r = run(["run", plain, "--host", url, "--iterations", "2", "--quiet", "--out", out2])
check_eq(r.returncode, 0, "plain run")
ev = [json.loads(l) for l in open(os.path.join(out2, "events.jsonl"))]
check_eq([e for e in ev if e["type"] == "hook"], [], "no hook event without handlers")

# --- generator_saturated: fires iff the generator was saturated ---
busy = write(work, "busy.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { vus = 1, duration = "3s", threads = 1 }
tide.hooks.on("generator_saturated", function(p)
  http.post(tide.env("RECV") .. "/ev/generator_saturated", { json = p, timeout = 5 })
end)
function run() local t = os.clock() while os.clock() - t < 0.5 do end end
""")
out3 = os.path.join(work, "busy")
before = len(recv.requests)
r = run(["run", busy, "--host", url, "--quiet", "--no-default-thresholds", "--out", out3],
        env={"RECV": recv.url})
s = load_json(os.path.join(out3, "summary.json"))
sat = [json.loads(q["body"]) for q in recv.requests[before:]
       if q["path"] == "/ev/generator_saturated"]
if s["generator"]["saturated_seconds"] > 0:
    check(len(sat) == 1 and sat[0]["cpu_max_percent"] >= 0, "generator_saturated fired once",
          sat)
else:
    check_eq(sat, [], "no generator_saturated without saturation")

recv.stop()
stop(target)
done()
