"""The ready scenarios (scenarios/*.lua) against the built-in reference API.

1. Every scenario runs for a short, bounded time (its shape overridden on the command line) and
   passes: exit 0, no script error, every check and every verify check without a failure.
   stress.lua is judged differently: it reports rather than fails, so besides exit 0 and its
   verify, the test reads its capacity report (stress.txt); with a fault that makes searches
   fail it still exits 0, and with TIDE_STRESS_STRICT=1 it exits 99.
2. verify() catches what the load alone may not: with `tide target --drop-writes` crud.lua's
   verify fails and tide exits 99; with `--tenant-leak` multitenant.lua's does.
3. Client and server agree: after an iterations-bounded crud.lua run, the requests per
   method+name in summary.json equal the per-route counts of the target's /_stats, once the
   requests setup() and verify() make (not counted in the load) are added; the custom
   counters crud_creates and crud_deletes match what the server stored.
"""
import glob
import os
from tidetest import *

scenario_dir = os.path.join(SRC, "scenarios")
work = tmpdir()

# Short shapes for the test; a scenario added later without an entry here runs with DEFAULT.
DEFAULT = (["--vus", "2", "--duration", "3s"], {})
SHAPES = {
    "smoke.lua": ([], {}),  # its own options: 1 VU, 3 iterations
    "login.lua": (["--vus", "4", "--duration", "3s"], {}),
    "crud.lua": (["--vus", "4", "--duration", "3s"], {}),
    "search.lua": (["--vus", "4", "--duration", "3s"], {}),
    "multitenant.lua": (["--vus", "6", "--duration", "3s"], {}),
    "edge_cases.lua": (["--vus", "2", "--duration", "3s"], {}),
    # its ramp shrunk: up beyond capacity, then down to recover
    "stress.lua": (["--stage", "1s:10", "--stage", "1s:20", "--stage", "1s:40", "--stage",
                    "1s:4", "--stage", "1s:4"], {}),
    # tokens that live one second, so the re-login path runs
    "endurance.lua": (["--duration", "3s"], {"TIDE_TOKEN_TTL": "1"}),
    "demo.lua": (["--vus", "3", "--duration", "3s"], {}),
    # the promise scenarios; their faults are tested in test_scenarios_promises.py
    "security.lua": (["--vus", "2", "--duration", "3s"], {}),
    "sovereignty.lua": (["--vus", "2", "--duration", "3s"], {}),
    "audit.lua": (["--vus", "2", "--duration", "3s"], {}),
}
# Scenarios for another kind of server, run by their own tests: dweb.lua needs an IPFS RPC API
# (test_scenarios_promises.py, test_scenarios_dweb.py).
OWN_TEST = {"dweb.lua"}
HAS_VERIFY = {"login.lua", "crud.lua", "search.lua", "multitenant.lua", "stress.lua",
              "endurance.lua", "demo.lua", "security.lua", "sovereignty.lua", "audit.lua"}


def run_scenario(name, args, env=None, host=None, timeout=60):
    """Runs scenarios/NAME; returns (CompletedProcess, summary or None, run folder)."""
    out = tmpdir()
    where = ["--host", host] if host else ["--target"]
    r = run(["run", os.path.join(scenario_dir, name), *where, "--quiet", "--out", out, *args],
            timeout=timeout, env=env)
    path = os.path.join(out, "summary.json")
    if not os.path.exists(path):
        check(False, name + ": no summary.json",
              "exit %d: %s" % (r.returncode, r.stderr[-2000:]))
        return r, None, out
    return r, load_json(path), out


def failed_checks(checks):
    return ["%s%s: %d/%d" % (c["group"] + " › " if c["group"] else "", c["name"], c["fails"],
                             c["passes"] + c["fails"])
            for c in checks if c["fails"] > 0]


def check_passes(name, r, s, judge_checks=True):
    check_eq(r.returncode, 0, name + ": exit code")
    if r.returncode != 0:
        print(r.stderr[-3000:])
    check_eq(s["script_errors"], [], name + ": no script errors")
    check(len(s["checks"]) > 0, name + ": has checks")
    if judge_checks:
        check_eq(failed_checks(s["checks"]), [], name + ": every check passed")
    check_eq([t["metric"] + ": " + t["expression"] for t in s["thresholds"] if not t["ok"]], [],
             name + ": every threshold held")
    if name in HAS_VERIFY:
        v = s["verify"] or {}
        check(v.get("ran") is True, name + ": verify ran", v)
        check(v.get("ok") is True, name + ": verify passed", failed_checks(v.get("checks", [])))
        check(len(v.get("checks", [])) > 0, name + ": verify has checks")


# --- 1. every scenario passes against the built-in API ---
names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(scenario_dir, "*.lua")))
check(set(SHAPES) <= set(names), "every scenario this test knows is in scenarios/",
      set(SHAPES) - set(names))
for name in (n for n in names if n not in OWN_TEST):
    args, env = SHAPES.get(name, DEFAULT)
    r, s, out = run_scenario(name, args, env)
    if s is None:
        continue
    check_passes(name, r, s, judge_checks=name != "stress.lua")
    if name == "crud.lua":
        creates, deletes = metric(s, "crud_creates", "count"), metric(s, "crud_deletes", "count")
        check(creates and creates > 0, "crud.lua: counts its creates", creates)
        check_eq(creates, deletes, "crud.lua: every create was matched by a delete")
    if name == "multitenant.lua":
        keys = {t["metric"] for t in s["thresholds"]}
        for t in ("t1", "t2", "t3"):
            check("http_req_duration{tenant:%s}" % t in keys, "multitenant.lua: threshold of " + t)
        tenants = {x["tags"].get("tenant") for x in s["series"] if x["metric"] == "http_reqs"}
        check({"t1", "t2", "t3"} <= tenants, "multitenant.lua: requests tagged per tenant", tenants)
    if name == "edge_cases.lua":
        check_eq(metric(s, "http_req_failed", "passes"), 0,
                 "edge_cases.lua: every refusal was the expected one (no failed request)")
        statuses = {x["tags"].get("status") for x in s["series"] if x["metric"] == "http_reqs"}
        check({"400", "401", "404", "405", "409", "413", "422"} <= statuses,
              "edge_cases.lua: every kind of refusal was exercised", statuses)
    if name == "endurance.lua":
        check((metric(s, "endurance_relogins", "count") or 0) > 0,
              "endurance.lua: expired tokens led to re-logins")
        check(os.path.exists(os.path.join(out, "endurance.txt")), "endurance.lua: endurance.txt")
    if name == "stress.lua":
        vus = [row["vus"] for row in s["history"]]
        check(max(vus) > 20 and vus[-1] <= 10, "stress.lua: ramps up to 40 VUs and back", vus)
        report = open(os.path.join(out, "stress.txt")).read()
        check("breaking point:" in report and "recovery:" in report,
              "stress.lua: stress.txt reports the breaking point and recovery", report)

# --- stress: reports errors without failing, fails on them only when strict ---
target, url = start_target("--error-rate", "0.3:503:GET /api/search")
shape = ["--stage", "1s:5", "--stage", "2s:15", "--stage", "1s:2"]
r, s, out = run_scenario("stress.lua", shape, host=url)
if s is not None:
    check_eq(r.returncode, 0, "stress.lua with failing searches: reports, exit 0")
    check(s["verify"]["ok"], "stress.lua with failing searches: the service recovered (verify)")
    report = open(os.path.join(out, "stress.txt")).read()
    check("breaking point:  not reached" not in report,
          "stress.lua: the errors show up as a breaking point", report)
r, s, out = run_scenario("stress.lua", shape, env={"TIDE_STRESS_STRICT": "1"}, host=url)
if s is not None:
    check_eq(r.returncode, 99, "stress.lua strict with failing searches: exit 99")
    failed = [t["metric"] for t in s["thresholds"] if not t["ok"]]
    check("http_req_failed" in failed, "stress.lua strict: the error threshold failed", failed)
stop(target)

# --- 2. verify() catches lost writes and leaking tenants ---
target, url = start_target("--drop-writes")
r, s, _ = run_scenario("crud.lua", ["--vus", "2", "--duration", "2s"], host=url)
if s is not None:
    check_eq(r.returncode, 99, "crud.lua with --drop-writes: exit 99")
    check_eq(s["verify"]["ok"], False, "crud.lua with --drop-writes: verify fails")
    failed = [c["name"] for c in s["verify"]["checks"] if c["fails"] > 0]
    check("the created project can be read back" in failed,
          "crud.lua with --drop-writes: verify cannot read back what it created", failed)
stop(target)

target, url = start_target("--tenant-leak")
r, s, _ = run_scenario("multitenant.lua", ["--vus", "3", "--duration", "2s"], host=url)
if s is not None:
    check_eq(r.returncode, 99, "multitenant.lua with --tenant-leak: exit 99")
    check_eq(s["verify"]["ok"], False, "multitenant.lua with --tenant-leak: verify fails")
    failed = {c["name"] for c in s["verify"]["checks"] if c["fails"] > 0}
    check("list shows no project of another tenant" in failed
          and "search shows no project of another tenant" in failed,
          "multitenant.lua with --tenant-leak: verify sees the leak in list and search", failed)
stop(target)

# --- 3. what tide counted is what the server received ---
# crud.lua makes these requests outside the load (not in summary.json's endpoints):
#   setup():  POST /api/auth/login (its GET /_stats is a control route, not counted)
#   verify(): POST /api/auth/login, GET /api/projects (one page: the tenant is empty again),
#             POST /api/projects, GET /api/projects/{id} twice, DELETE /api/projects/{id}
OUTSIDE_LOAD = {
    "POST /api/auth/login": 2,
    "GET /api/projects": 1,
    "POST /api/projects": 1,
    "GET /api/projects/{id}": 2,
    "DELETE /api/projects/{id}": 1,
}
target, url = start_target()
http_json(url + "/_stats/reset", method="POST", body={})
r, s, _ = run_scenario("crud.lua", ["--iterations", "20", "--vus", "4"], host=url)
if s is not None:
    check_passes("crud.lua --iterations 20", r, s)
    stats = http_json(url + "/_stats")
    served = {k: sum(v.values()) for k, v in stats["requests"].items()}
    counted = {"%s %s" % (e["method"], e["name"]): e["requests"] for e in s["endpoints"]}
    expected = dict(counted)
    for route, n in OUTSIDE_LOAD.items():
        expected[route] = expected.get(route, 0) + n
    check_eq(served, expected, "server's requests per route = client's + setup's + verify's")
    check_eq(counted.get("POST /api/projects"), 20, "one create per iteration")
    check_eq(counted.get("POST /api/auth/login"), 4, "one login per VU")
    # every create the client counted was stored, every delete removed one
    creates, deletes = metric(s, "crud_creates", "count"), metric(s, "crud_deletes", "count")
    check_eq(stats["requests"]["POST /api/projects"].get("201"), creates + 1,
             "the server stored every counted create (and verify's)")
    check_eq(stats["requests"]["DELETE /api/projects/{id}"].get("204"), deletes + 1,
             "the server deleted every counted delete (and verify's)")
    check_eq(stats["items_per_tenant"].get("crud", 0), creates - deletes,
             "items on the server = crud_creates - crud_deletes")
stop(target)
done()
