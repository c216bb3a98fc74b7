"""tests/fixtures/summary.json (the report tests' input, made by tests/unit/test_report_fixture.h
with the engine's summary writer) has the shape of what the real binary writes: a short run
against `tide target` that exercises every section (two scenarios, thresholds, checks, request
and script errors, verify, --env, --tag) is compared with the fixture key by key, both ways.

Shape, not values: the same keys at every level with the same JSON types. Objects whose keys are
data (metric names, tags, per-endpoint history, env) are compared on the keys both have (on
their values' kinds when they have none in common); array elements are grouped by their "type" or "executor" and compared group by group,
so a trend is compared with a trend and a ramping-vus scenario with a ramping-vus one. An array
that is empty on one side only is a difference (the engine writes series, the fixture must too).
When this test fails, either the engine's summary changed (update test_report_fixture.h and run
`build/tests/test_report_fixture --write`) or the fixture was edited by hand."""
import os
from tidetest import *

# Objects whose keys are data, not schema.
MAPS = {"metrics", "tags", "env", "endpoints", "percentiles", "histogram"}
# What tells apart elements that legitimately have different keys.
KINDS = ("type", "executor")


def kind(v):
    if isinstance(v, dict):
        for k in KINDS:
            if isinstance(v.get(k), str):
                return "%s=%s" % (k, v[k])
    return ""


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(v)]


def groups(values):
    """Values grouped by kind: {kind: [values]}."""
    g = {}
    for v in values:
        g.setdefault(kind(v), []).append(v)
    return g


def compare(a, b, path, diffs):
    """Differences between the shapes of a (fixture) and b (real run) into diffs."""
    ta, tb = jtype(a), jtype(b)
    if ta != tb:
        # null stands for "not measured" (observed, error, abort_reason): any type may be null
        if "null" not in (ta, tb):
            diffs.append("%s: %s in the fixture, %s in the engine's" % (path, ta, tb))
        return
    if ta == "object" and path.rsplit(".", 1)[-1] in MAPS and path != "$":
        compare_collections(list(a.values()), list(b.values()), path + "{}", diffs,
                            {k: a[k] for k in a.keys() & b.keys()},
                            {k: b[k] for k in a.keys() & b.keys()})
    elif ta == "object":
        for k in sorted(a.keys() - b.keys()):
            diffs.append("%s.%s: only in the fixture" % (path, k))
        for k in sorted(b.keys() - a.keys()):
            diffs.append("%s.%s: only in the engine's summary" % (path, k))
        for k in sorted(a.keys() & b.keys()):
            compare(a[k], b[k], "%s.%s" % (path, k), diffs)
    elif ta == "array":
        compare_collections(a, b, path + "[]", diffs)


def compare_collections(va, vb, path, diffs, common_a=None, common_b=None):
    if common_a is not None and (not va or not vb):
        return  # a map with no entries here (a second without requests has no endpoints)
    if bool(va) != bool(vb):
        diffs.append("%s: empty in the %s only" % (path, "fixture" if not va else
                                                   "engine's summary"))
        return
    if common_a:  # a map: the same key on both sides is the pair
        for k in sorted(common_a):
            compare(common_a[k], common_b[k], "%s[%s]" % (path, k), diffs)
        return
    ga, gb = groups(va), groups(vb)
    for k in sorted(ga.keys() & gb.keys()):
        for x in ga[k]:  # every element of the fixture against the engine's first of its kind
            compare(x, gb[k][0], "%s(%s)" % (path, k) if k else path, diffs)
        for y in gb[k][1:]:
            compare(ga[k][0], y, "%s(%s)" % (path, k) if k else path, diffs)


def self_test():
    """The comparison itself finds what it must (a test that cannot fail proves nothing)."""
    base = {"a": 1, "o": {"x": "s"}, "arr": [{"type": "t", "v": 1}], "metrics": {"m": {"c": 1}}}
    cases = [
        ({"a": 1, "o": {"x": "s"}, "arr": [{"type": "t", "v": 1}], "metrics": {"m": {"c": 1}}}, 0),
        ({"a": "1", "o": {"x": "s"}, "arr": [{"type": "t", "v": 1}], "metrics": {"m": {"c": 1}}}, 1),
        ({"a": 1, "o": {}, "arr": [{"type": "t", "v": 1}], "metrics": {"m": {"c": 1}}}, 1),
        ({"a": 1, "o": {"x": "s"}, "arr": [], "metrics": {"m": {"c": 1}}}, 1),
        ({"a": 1, "o": {"x": "s"}, "arr": [{"type": "t"}], "metrics": {"m": {"c": 1}}}, 1),
        ({"a": 1, "o": {"x": "s"}, "arr": [{"type": "t", "v": 1}], "metrics": {"m": {"d": 1}}}, 2),
        ({"a": 1, "o": {"x": "s"}, "arr": [{"type": "t", "v": 1}], "metrics": {"n": {"c": 1}}}, 0),
        ({"a": 1, "o": {"x": "s"}, "arr": [{"type": "t", "v": 1}], "metrics": {"m": {"c": 1}},
          "new": 1}, 1),
    ]
    for other, want in cases:
        diffs = []
        compare(base, other, "$", diffs)
        check_eq(len(diffs), want, "the shape comparison finds %d difference(s) in %r" % (want, other))


self_test()

target, url = start_target()
work = tmpdir()
scenario = write(work, "shape.lua", """
local http = require "tide.http"
local tide = require "tide"
options = {
  scenarios = {
    crud = { executor = "ramping-vus", stages = { { duration = "1s", target = 2 },
                                                  { duration = "1s", target = 2 } } },
    api = { executor = "constant-vus", vus = 1, duration = "2s" },
  },
  thresholds = {
    http_req_duration = { "p(95)<60000" },
    ["http_req_duration{name:/health}"] = { "max<60000" },
    http_req_failed = { "rate<0.99" },
  },
}
function run()
  tide.group("health", function()
    local r = http.get("/health")
    tide.check(r, { ["health is 200"] = function(x) return x.status == 200 end })
  end)
  http.get("/status/503")
  if tide.vu.iteration == 0 then error("boom") end
  tide.sleep(0.1)
end
function verify(data, summary)
  tide.check(summary, { ["requests were made"] = function(s) return s.metrics.http_reqs.count > 0 end })
end
""")
out = os.path.join(work, "run")
r = run(["run", scenario, "--host", url, "--env", "TIDE_PASSWORD=hunter2x", "--tag", "team=core",
         "--quiet", "--out", out], timeout=120)
stop(target)
check(r.returncode == 0, "the shape run's exit code", r.stderr[-1000:])
real = load_json(os.path.join(out, "summary.json"))
fixture = load_json(os.path.join(SRC, "tests", "fixtures", "summary.json"))
for section in ("series", "checks", "errors", "script_errors", "thresholds", "history"):
    check(len(real[section]) > 0, "the shape run fills " + section)
check(real["verify"] and real["verify"]["checks"], "the shape run has verify checks")
diffs = []
compare(fixture, real, "$", diffs)
check_eq(diffs, [], "tests/fixtures/summary.json has the shape of the engine's summary.json")
for d in diffs:
    print("  " + d)
done()
