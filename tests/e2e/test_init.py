"""`tide init` (issue 16, item 4):
- the plain scaffold is written, loads and passes against the built-in target (one iteration,
  and a short load); an existing file is never replaced without --force (exit 2, one line);
- `tide init --from-locust` on the three sample locustfiles of examples/locust/ writes Lua with
  TODO(locust) lines exactly where the translator cannot follow (and none for what it can);
  each produced scenario runs for a bounded time against `tide target` (its own scenarios, and
  with Locust's flags), exits 0, and its requests reach the target (/_stats);
- bad input: a missing locustfile, a file that is not text, a .py given to tide run: one line,
  exit 2."""
import os
import re
from tidetest import *

EXAMPLES = os.path.join(SRC, "examples", "locust")
work = tmpdir()
target, url = start_target()


def one_line(r, what):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(len(lines) == 1 and lines[0].startswith("tide: "), what + ": one line on stderr",
          r.stderr)


def todos(text):
    return [l.strip()[len("-- TODO(locust): "):] for l in text.splitlines()
            if l.strip().startswith("-- TODO(locust): ")]


def requests_seen():
    stats = http_json(url + "/_stats")
    return {route: sum(codes.values()) for route, codes in stats["requests"].items()}


def fresh():
    http_json(url + "/_stats/reset", method="POST")


# ---- the plain scaffold ----
d = os.path.join(work, "scaffold")
os.makedirs(d)
r = run(["init"], cwd=d)
check_eq(r.returncode, 0, "tide init exits 0")
path = os.path.join(d, "scenario.lua")
check(os.path.exists(path), "tide init wrote scenario.lua")
text = open(path).read()
for piece in ("thresholds", "function setup()", "function run(", "tide.check(", "tide.group("):
    check(piece in text, "the scaffold has " + piece)
fresh()
r = run(["run", "scenario.lua", "--host", url, "--out", "r1", "--quiet"], cwd=d, timeout=60)
check_eq(r.returncode, 0, "the scaffold passes as is (one iteration)")
seen = requests_seen()
check(seen.get("POST /api/auth/login", 0) == 1 and seen.get("GET /api/projects", 0) >= 1,
      "the scaffold's requests reached the target", seen)
r = run(["run", "scenario.lua", "--target", "--vus", "2", "--duration", "2s", "--out", "r2",
         "--quiet"], cwd=d, timeout=60)
check_eq(r.returncode, 0, "the scaffold passes a short load against --target")
summary = load_json(os.path.join(d, "r2", "summary.json"))
check(metric(summary, "checks", "passes") > 2, "its checks ran", metric(summary, "checks", "passes"))

# overwrite refusal, --force
before = open(path).read()
r = run(["init"], cwd=d)
check_eq(r.returncode, 2, "an existing file: exit 2")
one_line(r, "an existing file")
check("exists" in r.stderr and "--force" in r.stderr, "says it exists and how to replace it",
      r.stderr)
check_eq(open(path).read(), before, "the existing file is unchanged")
r = run(["init", "scenario.lua", "--force", "--host", url], cwd=d)
check_eq(r.returncode, 0, "--force replaces it")
check('host = "%s"' % url in open(path).read(), "--host is written into options.host")
r = run(["init", "notlua.txt"], cwd=d)
check_eq(r.returncode, 2, "a name that is not .lua: exit 2")
r = run(["init", "--frm-locust", "x.py"], cwd=d)
check(r.returncode == 2 and "did you mean --from-locust?" in r.stderr, "a mistyped flag", r.stderr)

# ---- the three sample locustfiles ----
EXPECTED_TODOS = {
    "crud.py": ["if resp.elapsed.total_seconds() > 2:"],
    "shop.py": ["import logging", "@events.request.add_listener",
                "def on_request(request_type, name, response_time, **kwargs):",
                'logging.debug("%s %s took %s ms", request_type, name, response_time)',
                "try:", "r.raise_for_status()", "except Exception as e:",
                'logging.warning("echo failed: %s", e)'],
    "journeys.py": ["if self.client.cookies:"],
}
# what each run must have sent (the target's routes; /_stats folds ids)
EXPECTED_ROUTES = {
    "crud.py": ["POST /api/auth/login", "GET /api/projects", "GET /api/search", "POST /api/projects",
                "PATCH /api/projects/{id}", "DELETE /api/projects/{id}"],
    "shop.py": ["POST /api/auth/login", "GET /api/projects", "POST /echo", "GET /health"],
    "journeys.py": ["POST /api/auth/login", "GET /health", "GET /delay"],
}
for name in ("crud.py", "shop.py", "journeys.py"):
    src = os.path.join(EXAMPLES, name)
    out = os.path.join(work, name.replace(".py", ".lua"))
    r = run(["init", out, "--from-locust", src])
    check_eq(r.returncode, 0, name + ": tide init --from-locust exits 0")
    check(re.search(r"wrote .* (\d+) lines? marked TODO", r.stdout) is not None,
          name + ": says how many TODO lines", r.stdout)
    lua = open(out).read()
    check_eq(todos(lua), EXPECTED_TODOS[name], name + ": TODO(locust) exactly where expected")
    n = int(re.search(r"(\d+) lines? marked TODO", r.stdout).group(1))
    check_eq(n, len(EXPECTED_TODOS[name]), name + ": the count printed is the TODO lines'")
    calls = [l for l in todos(lua) if re.search(r"self\.client\.(get|post|put|patch|delete)", l)]
    check_eq(calls, [], name + ": every self.client call was translated")
    # a bounded run of the scenarios it wrote: shorter, fewer users than the defaults
    # (journeys.py's Ticker picks login or tick at random, 4 times a second: 4 s make a run
    # without any tick a 1-in-65,000 chance instead of 1 in 256)
    seconds = "4s" if name == "journeys.py" else "2s"
    bounded = lua.replace('local RUN_TIME = "1m"', 'local RUN_TIME = "%s"' % seconds).replace(
        "local USERS = 10", "local USERS = 3")
    if name == "crud.py":  # one class: Locust's flags, as its header says
        args = ["-f", out, "--headless", "-u", "3", "-r", "3", "-t", "2s", "--host", url]
    else:
        check('local RUN_TIME = "1m"' in lua, name + ": several classes: options.scenarios")
        open(out, "w").write(bounded)
        args = ["run", out, "--host", url]
    fresh()
    r = run(args + ["--out", out + ".run", "--quiet"], timeout=90)
    check_eq(r.returncode, 0, name + ": the translated scenario runs and passes")
    if r.returncode != 0:
        print(r.stderr[-2000:])
    seen = requests_seen()
    for route in EXPECTED_ROUTES[name]:
        check(seen.get(route, 0) > 0, name + ": " + route + " reached the target", seen)
    summary = load_json(os.path.join(out + ".run", "summary.json"))
    check_eq(summary["script_errors"], [], name + ": no script error")
    if name != "crud.py":  # and with Locust's flags: run() picks a class by weight
        fresh()
        r = run(["-f", out, "--headless", "-u", "3", "-t", "2s", "--host", url, "--out",
                 out + ".flags", "--quiet"], timeout=90)
        check_eq(r.returncode, 0, name + ": with -u/-t (one scenario, classes by weight)")
        check(sum(requests_seen().values()) > 0, name + ": requests reached the target")

# journeys: the waits became an arrival rate, TaskSets became functions
lua = open(os.path.join(work, "journeys.lua")).read()
check('executor = "constant-arrival-rate"' in lua and 'time_unit = "0.5s"' in lua,
      "constant_pacing(0.5) -> an arrival rate every 0.5 s")
check('time_unit = "0.25s"' in lua, "constant_throughput(4) -> every 0.25 s")
check("tide.sleep(0.05)" in lua and "tide.think(0.05, 0.1)" in lua, "constant and between")
check("{ 2, run_Browse }" in lua and "{ 1, run_Checkout }" in lua, "tasks = {TaskSet: weight}")
lua = open(os.path.join(work, "shop.lua")).read()
check("share(3)" in lua and "vus = 1," in lua, "weight = 3 and fixed_count = 1")
check('tide.check(r, { ["no items in the answer"]' in lua, "catch_response + failure -> a check")
check("expect = { 200, 201, 202, 204, 404 }" in lua, "r.success() on a 404 -> expect")

# ---- bad input ----
r = run(["init", os.path.join(work, "x.lua"), "--from-locust", os.path.join(work, "nope.py")])
check_eq(r.returncode, 2, "a missing locustfile: exit 2")
one_line(r, "a missing locustfile")
binary = os.path.join(work, "bin.py")
open(binary, "wb").write(b"class A(HttpUser):\n\0\0\0")
r = run(["init", os.path.join(work, "y.lua"), "--from-locust", binary])
check_eq(r.returncode, 2, "a locustfile with NUL bytes: exit 2")
one_line(r, "not text")
check(not os.path.exists(os.path.join(work, "y.lua")), "nothing written for a bad locustfile")
r = run(["-f", os.path.join(EXAMPLES, "crud.py"), "--headless", "-u", "1", "-t", "1s"])
check_eq(r.returncode, 2, "tide -f locustfile.py: exit 2")
one_line(r, "a .py scenario")
check("tide init --from-locust" in r.stderr and "docs/from-locust.md" in r.stderr,
      "the .py refusal points to tide init --from-locust", r.stderr)
done()
