"""Configuration (issue 16, item 3): a config file (./tide.toml, --config FILE, TIDE_CONFIG; a
locust.conf), a variable for every `tide run` flag (TIDE_<FLAG>, LOCUST_<KEY> for Locust's),
precedence CLI > env > config > script shown in the plan and obeyed by the run, and Locust's
--only-summary, --loglevel, --stop-timeout, -T/--tags with real effects."""
import json
import os
import re
from tidetest import *

target, url = start_target()
work = tmpdir()


def stats():
    return http_json(url + "/_stats")


def seen():
    return stats()["total_requests"]


def plan(args, env=None, cwd=None):
    r = run(["inspect", *args, "--json"], env=env, cwd=cwd, timeout=60)
    if not check_eq(r.returncode, 0, "inspect %s exits 0" % (args,)):
        print(r.stderr)
        return {"scenarios": [{}], "settings": [], "warnings": [], "thresholds": []}
    return json.loads(r.stdout)


def setting(p, flag):
    for s in p["settings"]:
        if s["flag"] == flag:
            return s
    return None


def iterations_of(out):
    return metric(load_json(os.path.join(out, "summary.json")), "iterations", "count")


script = write(work, "s.lua", """
local http = require "tide.http"
options = { iterations = 9 }
function run() http.get("/health") end
""")

# --- ./tide.toml is read; precedence CLI > env > config > script, in the plan and the run ---
proj = os.path.join(work, "proj")
os.makedirs(proj)
write(proj, "tide.toml", """# tide.toml: settings of tide run (docs/cli.md#configuration)
host = "%s"
iterations = 7
quiet = true

[run]
threshold = ["http_reqs: count>0"]
tag = ["team=qa"]
""" % url)
p = plan([script], cwd=proj)
check_eq(p["config_file"], "tide.toml", "./tide.toml found")
check_eq(p["scenarios"][0].get("iterations"), {"value": 7, "source": "config"},
         "config over the script")
check_eq(p["host"], {"value": url, "source": "config"}, "host from the config")
check_eq([t["source"] for t in p["thresholds"]], ["config"], "a threshold from the config")
check(any("--iterations (config) overrides the script's options.iterations" in w["message"]
          for w in p["warnings"]), "the config overriding the script is a warning", p["warnings"])
p = plan([script, "--threshold", "checks: rate>0.5", "--tag", "a=b"], cwd=proj)
check_eq([(t["metric"], t["source"]) for t in p["thresholds"]],
         [("http_reqs", "config"), ("checks", "cli")], "thresholds add up, each with its layer")
check_eq(setting(p, "--tag"), {"flag": "--tag", "value": "a=b", "source": "cli"},
         "settings: the last --tag as given")
p = plan([script], cwd=proj, env={"TIDE_ITERATIONS": "5"})
check_eq(p["scenarios"][0].get("iterations"), {"value": 5, "source": "env"}, "env over config")
p = plan([script, "--iterations", "3"], cwd=proj, env={"TIDE_ITERATIONS": "5"})
check_eq(p["scenarios"][0].get("iterations"), {"value": 3, "source": "cli"}, "cli over env")
p = plan([script])
check_eq(p["scenarios"][0].get("iterations"), {"value": 9, "source": "script"},
         "no config here: the script's")

out = os.path.join(work, "r-config")
r = run(["run", script, "--out", out], cwd=proj, timeout=60)
check_eq(r.returncode, 0, "a run with tide.toml passes")
check_eq(iterations_of(out), 7, "the run did the config's 7 iterations")
check("plan of" not in r.stderr, "quiet = true in the config is obeyed", r.stderr)
s = load_json(os.path.join(out, "summary.json"))
check(any(t.get("source") == "cli" or "http_reqs" in json.dumps(t)
          for t in s.get("thresholds", [])), "the config's threshold was judged",
      s.get("thresholds"))
out = os.path.join(work, "r-env")
r = run(["run", script, "--out", out], cwd=proj, env={"TIDE_ITERATIONS": "5"}, timeout=60)
check_eq(iterations_of(out), 5, "the run did the environment's 5 iterations")
out = os.path.join(work, "r-cli")
r = run(["run", script, "--out", out, "-i", "3"], cwd=proj, env={"TIDE_ITERATIONS": "5"},
        timeout=60)
check_eq(iterations_of(out), 3, "the run did the command line's 3 iterations")

# --config FILE and TIDE_CONFIG name another file
other = write(work, "other.toml", 'iterations = 4\nhost = "%s"\n' % url)
p = plan([script, "--config", other])
check_eq((p["config_file"], p["scenarios"][0].get("iterations", {}).get("value")), (other, 4),
         "--config FILE")
p = plan([script], env={"TIDE_CONFIG": other})
check_eq(p["config_file"], other, "TIDE_CONFIG names the file")

# --- bad configuration: exit 2, one line naming the file and line, nothing sent ---
before = seen()
for text, want in (('vsu = 3\n', 'bad.toml:1: unknown key "vsu" (did you mean vus?)'),
                   ('vus = "many"\n', 'bad.toml:1: --vus "many": expected a whole number'),
                   ('\nvus = 3 4\n', 'bad.toml: line 2: unexpected text after the value'),
                   ('[web]\nport = 1\n', 'bad.toml:2: unknown section [web]'),
                   ('quiet = "sometimes"\n', 'bad.toml:1: --quiet "sometimes": expected true')):
    bad = write(work, "bad.toml", text)
    r = run(["run", script, "--host", url, "--config", "bad.toml"], cwd=work, timeout=30)
    check_eq(r.returncode, 2, "bad config %r: exit 2" % text)
    check(len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("tide: " + want),
          "bad config %r: one line" % text, r.stderr)
r = run(["run", script, "--config", os.path.join(work, "missing.toml")], timeout=30)
check(r.returncode == 2 and "missing.toml" in r.stderr and len(r.stderr.splitlines()) == 1,
      "a missing --config file: exit 2, one line", r.stderr)
r = run(["inspect", script], env={"TIDE_VUS": "lots"}, timeout=30)
check(r.returncode == 2 and r.stderr.startswith('tide: TIDE_VUS: --vus "lots"'),
      "a bad variable names itself", r.stderr)
check_eq(seen(), before, "nothing sent by a bad configuration")

# --- every flag of tide run has its variable, which the plan shows as source env ---
cli_c = open(os.path.join(SRC, "engine", "run", "cli.c")).read()
flags = sorted(set(re.findall(r'"(--[a-z][a-z0-9-]*)"', cli_c)) - {"--help", "--config"})
locust_only = {"--locustfile", "--users", "--spawn-rate", "--run-time", "--headless",
               "--autostart", "--csv", "--html", "--exit-code-on-error", "--only-summary",
               "--loglevel", "--stop-timeout", "--tags"}
base = write(work, "base.lua", """
local http = require "tide.http"
options = { duration = "2s", scenarios = { a = { executor = "constant-vus", vus = 1,
            duration = "1s", tags = { smoke = "yes" } } } }
function run() http.get("/health") end
""")
plugin = write(work, "p.lua", "-- a plugin that does nothing\n")
pem = write(work, "x.pem", "not read by inspect\n")
samples = {
    "--allow-hosts": "127.0.0.1", "--allow-read": "true", "--autostart": "true",
    "--bundle": "1", "--bundle-data": "yes", "--cacert": pem, "--cert": pem, "--key": pem,
    "--csv": os.path.join(work, "csv", "st"), "--dashboard": "true", "--duration": "2s",
    "--env": "K=V", "--exit-code-on-error": "3", "--fail-on-saturation": "on",
    "--headless": "true", "--hook-timeout": "5s", "--host": url,
    "--html": os.path.join(work, "h.html"), "--http2": "1", "--insecure": "1", "--iterations": "2",
    "--locustfile": base, "--loglevel": "INFO", "--no-default-thresholds": "1",
    "--no-samples": "1", "--only-summary": "true", "--out": os.path.join(work, "o"),
    "--phase": "run", "--plugin": plugin, "--quiet": "1", "--rate": "5", "--run-time": "2s",
    "--segment": "1/2", "--segments": "2", "--setup-data": os.path.join(work, "sd.json"),
    "--sign": pem, "--spawn-rate": "1", "--stage": "1s:2", "--start-at": "now+5s",
    "--stop-timeout": "1s", "--stream": "json=" + os.path.join(work, "m.jsonl"),
    "--tag": "k=v", "--tags": "smoke", "--target": "true", "--threads": "2",
    "--threshold": "http_reqs: count>0", "--transport": "curl", "--users": "2",
    "--vu-memory": "64MB", "--vus": "2",
    "--warmup": "1s",
}
extra = {"--spawn-rate": {"LOCUST_USERS": "2"}, "--segments": {"JOB_COMPLETION_INDEX": "0"}}
check_eq(sorted(set(flags) - set(samples)), [], "every flag of cli.c has a sample value here")
check(len(flags) > 45, "flags found in cli.c", flags)
for flag in flags:
    name = ("LOCUST_" if flag in locust_only else "TIDE_") + flag[2:].upper().replace("-", "_")
    env = {name: samples.get(flag, "")}
    env.update(extra.get(flag, {}))
    args = [] if flag == "--locustfile" else [base]
    r = run(["inspect", *args, "--json"], env=env, timeout=30)
    if not check_eq(r.returncode, 0, "%s=%s: inspect exits 0" % (name, env[name])):
        print(r.stderr)
        continue
    p = json.loads(r.stdout)
    want = "script" if flag == "--locustfile" else flag
    s = setting(p, want)
    check(s is not None and s["source"] == "env", "%s sets %s (source env)" % (name, flag),
          p["settings"])
# the help names the rule
h = run(["run", "--help"]).stdout
check("TIDE_VUS" in h and "LOCUST_USERS" in h, "tide run --help names the variables")

# --- LOCUST_* variables and a locust.conf (Locust's keys) ---
locust = write(work, "locust.conf", """# a Locust configuration file
locustfile = %s
headless = true
users = 2
spawn-rate = 2
run-time = 2s
host = %s
csv = %s
html = %s
exit-code-on-error = 3
only-summary = true
loglevel = WARNING
stop-timeout = 1
master = true
expect-workers = 5
""" % (base, url, os.path.join(work, "lc", "stats"), os.path.join(work, "lc", "r.html")))
p = plan(["--config", locust])
conf = {s["flag"]: s["source"] for s in p["settings"]}
for flag in ("script", "--headless", "--users", "--spawn-rate", "--run-time", "--host", "--csv",
             "--html", "--exit-code-on-error", "--only-summary", "--loglevel",
             "--stop-timeout"):
    check_eq(conf.get(flag), "config", "locust.conf sets " + flag)
notes = [w["message"] for w in p["warnings"] if w["kind"] == "config"]
check(len(notes) == 2 and 'Locust\'s key "master" is not supported' in notes[0],
      "unsupported Locust keys are named in the plan's warnings", notes)
check_eq(p["default_checks"]["rule"], "locust", "Locust's keys bring Locust's exit rule")
before = seen()
r = run(["--config", locust], timeout=60, cwd=work)
check_eq(r.returncode, 0, "tide --config locust.conf runs")
check(seen() > before, "the locust.conf run sent requests to its host")
check(os.path.exists(os.path.join(work, "lc", "stats_stats.csv")), "locust.conf's csv written")
check("plan of" not in r.stderr and "running " not in r.stderr,
      "loglevel WARNING and only-summary from locust.conf", r.stderr)
check("http_reqs" in r.stdout, "the summary is still printed", r.stdout[:300])
p = plan([], env={"LOCUST_LOCUSTFILE": base, "LOCUST_USERS": "3", "LOCUST_RUN_TIME": "2s",
                  "LOCUST_HOST": url, "LOCUST_TAGS": ""})
check_eq(p["scenarios"][0].get("stages", {}).get("source"), "env", "LOCUST_USERS: stages")
check_eq(p["host"], {"value": url, "source": "env"}, "LOCUST_HOST")
p = plan([], env={"LOCUST_LOCUSTFILE": base, "LOCUST_HOST": "http://127.0.0.1:1",
                  "TIDE_HOST": url})
check_eq(p["host"]["value"], url, "TIDE_HOST wins over LOCUST_HOST")
tags = write(work, "tags.conf", "locustfile = %s\ntags = [smoke, nightly]\n" % base)
p = plan(["--config", tags])
check_eq([s["name"] for s in p["scenarios"]], ["a"], "tags = [...] in a locust.conf selects")

# --- --only-summary: no progress line, the summary still ---
slow = write(work, "slow.lua", """
local http = require "tide.http"
local tide = require "tide"
function run() http.get("/health") tide.sleep(0.1) end
""")
r = run(["run", slow, "--host", url, "--vus", "1", "--duration", "2s", "--out",
         os.path.join(work, "os1")], timeout=60)
check("running " in r.stderr, "without --only-summary a progress line shows", r.stderr)
r = run(["run", slow, "--host", url, "--vus", "1", "--duration", "2s", "--only-summary",
         "--out", os.path.join(work, "os2")], timeout=60)
check("running " not in r.stderr, "--only-summary: no progress line", r.stderr)
check("http_reqs" in r.stdout and "plan of" in r.stderr, "--only-summary: summary and plan",
      r.stdout[:200])

# --- --loglevel: messages below it are not printed ---
logs = write(work, "logs.lua", """
local tide = require "tide"
function run() tide.log.info("INFO-MARK") tide.log.warn("WARN-MARK") end
""")
r = run(["run", logs, "--out", os.path.join(work, "l0")], timeout=60)
check("INFO-MARK" in r.stderr and "WARN-MARK" in r.stderr, "default: info and warnings",
      r.stderr)
r = run(["run", logs, "--loglevel", "WARNING", "--out", os.path.join(work, "l1")], timeout=60)
check("INFO-MARK" not in r.stderr and "WARN-MARK" in r.stderr and "plan of" not in r.stderr,
      "--loglevel WARNING: warnings only", r.stderr)
r = run(["run", logs, "-L", "error", "--out", os.path.join(work, "l2")], timeout=60)
check("INFO-MARK" not in r.stderr and "WARN-MARK" not in r.stderr, "-L error: neither",
      r.stderr)
r = run(["run", logs, "--loglevel", "LOUD"], timeout=30)
check(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "--loglevel" in r.stderr,
      "a bad level: exit 2, one line", r.stderr)

# --- --stop-timeout: the time an iteration gets to finish after the end (default 30 s) ---
sleepy = write(work, "sleepy.lua", """
local http = require "tide.http"
local tide = require "tide"
function run() tide.sleep(2) http.get("/api/search?q=stop-timeout") end
""")


def searches():
    return sum(stats()["requests"].get("GET /api/search", {}).values())


before = searches()
r = run(["run", sleepy, "--host", url, "--vus", "1", "--duration", "500ms",
         "--no-default-thresholds", "--out", os.path.join(work, "st0")], timeout=60)
check_eq(searches() - before, 1, "default graceful stop: the iteration finishes its request")
before = searches()
r = run(["run", sleepy, "--host", url, "--vus", "1", "--duration", "500ms", "--stop-timeout",
         "0", "--no-default-thresholds", "--out", os.path.join(work, "st1")], timeout=60)
check_eq(searches() - before, 0, "--stop-timeout 0: the iteration is cut, no request")
p = plan([sleepy, "--vus", "1", "--duration", "1s", "--stop-timeout", "5"])
check_eq(p["scenarios"][0]["graceful_stop"], {"value": "5s", "source": "cli"},
         "--stop-timeout 5 (seconds, as Locust's) in the plan")

# --- -T/--tags: only the scenarios tagged so ---
tagged = write(work, "tagged.lua", """
local http = require "tide.http"
options = { scenarios = {
  reads = { executor = "per-vu-iterations", vus = 1, iterations = 2, exec = "reads",
            tags = { kind = "read" } },
  writes = { executor = "per-vu-iterations", vus = 1, iterations = 2, exec = "writes",
             tags = { kind = "write", nightly = "yes" } },
} }
function reads() http.get("/api/search?q=tag-read") end
function writes() http.get("/health") end
""")
for args, want, what in ((["-T", "read"], ["reads"], "-T read: by a tag value"),
                         (["--tags", "nightly"], ["writes"], "--tags nightly: by a tag key"),
                         (["-T", "read,write"], ["reads", "writes"], "-T read,write"),
                         (["-T", "read", "-T", "write"], ["reads", "writes"], "-T twice")):
    p = plan([tagged, *args])
    check_eq([s["name"] for s in p["scenarios"]], want, what)
before_s, before_h = searches(), stats()["requests"].get("GET /health", {})
before_h = sum(before_h.values())
r = run(["run", tagged, "--host", url, "-T", "write", "--out", os.path.join(work, "t1")],
        timeout=60)
check_eq(r.returncode, 0, "-T write: the run passes")
check_eq((searches() - before_s,
          sum(stats()["requests"].get("GET /health", {}).values()) - before_h), (0, 2),
         "-T write ran the writes scenario only")
r = run(["run", tagged, "--host", url, "-T", "nosuch"], timeout=30)
check(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and
      "no scenario has one of these tags" in r.stderr, "-T with no match: exit 2, one line",
      r.stderr)

stop(target)
done()
