"""Plugins as packages (docs/extending.md#plugins): found by name in the scenario's plugins/,
TIDE_PLUGIN_PATH or given as a path; options checked against the schema (exit 2, one line);
a plugin's threshold is honoured (it fails the run), its custom metric is in summary.json and
the report, its summary section and verify step run, and the manifest lists it with its
sha256. `tide plugins` lists what is found. Hooks read the run folder, and nothing else."""
import hashlib
import os
import subprocess
import time
from tidetest import *

target, url = start_target()
work = tmpdir()
os.makedirs(os.path.join(work, "plugins", "strict"))
plugin_src = """
return {
  name = "strict",
  version = "1.2.0",
  options = {
    p95_ms = { type = "number", default = 60000 },
    mode = { type = "string", enum = { "fast", "slow" }, default = "fast" },
  },
  setup = function(opts, api)
    local orders = api.metrics.counter("plugin_orders")
    api.threshold("http_req_duration", "p(95)<" .. opts.p95_ms)
    api.summary("Strict budget", function(s)
      return { ["p95 limit (ms)"] = opts.p95_ms, requests = s.metrics.http_reqs.count }
    end)
    api.verify(function() api.check(true, { ["strict verify ran"] = true }) end)
    api.hooks.on("test_end", function(s) print("STRICT SAW " .. s.run.status) end)
    return { order = function() orders:add(1) end }
  end,
}
"""
plugin_path = write(os.path.join(work, "plugins", "strict"), "plugin.lua", plugin_src)
scen = """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 4, plugins = { strict = %s } }
function run()
  http.get("/health")
  tide.plugins.get("strict").order()
end
"""

# --- the plugin's impossible threshold fails the run ---
s = write(work, "impossible.lua", scen % "{ p95_ms = 0.000001 }")
out = os.path.join(work, "impossible")
r = run(["run", s, "--host", url, "--out", out])
check_eq(r.returncode, 99, "a plugin's impossible p(95) fails the run")
sj = load_json(os.path.join(out, "summary.json"))
th = [t for t in sj["thresholds"] if t["metric"] == "http_req_duration"]
check(len(th) == 1 and not th[0]["ok"] and th[0]["source"] == "plugin" and
      th[0]["plugin"] == "strict", "the plugin threshold is in summary.json, marked as the plugin's",
      th)
check_eq(metric(sj, "plugin_orders", "count"), 4, "the plugin's metric in summary.json")
html = open(os.path.join(out, "report.html")).read()
check("plugin_orders" in html, "the plugin's metric in the report")
check(any(c["name"] == "strict verify ran" for c in sj["verify"]["checks"]),
      "the plugin's verify step ran", sj["verify"])
sec = sj.get("plugin_sections") or []
check(len(sec) == 1 and sec[0]["plugin"] == "strict" and sec[0]["rows"]["requests"] == 4,
      "the plugin's summary section", sec)
check("Strict budget (plugin strict)" in r.stdout, "section in the terminal summary")
check("Strict budget" in html, "section in the report")
check("STRICT SAW failed" in r.stderr, "the plugin's hook sees the verdict", r.stderr[-300:])


def tree_hash(folder):
    """docs/extending.md's tree hash: sha256sum's lines for the sorted files, hashed."""
    rels = []
    for d, _, names in os.walk(folder):
        for n in names:
            full = os.path.join(d, n)
            if os.path.isfile(full) and not os.path.islink(full):
                rels.append(os.path.relpath(full, folder))
    lines = ""
    for rel in sorted(rels, key=lambda x: x.encode()):
        with open(os.path.join(folder, rel), "rb") as f:
            lines += "%s  %s\n" % (hashlib.sha256(f.read()).hexdigest(), rel)
    return hashlib.sha256(lines.encode()).hexdigest()


sha = tree_hash(os.path.dirname(plugin_path))
check(sha != hashlib.sha256(plugin_src.encode()).hexdigest(), "a tree hash, not the file's")
man = load_json(os.path.join(out, "manifest.json"))
check_eq([(p["name"], p["version"], p["sha256"]) for p in man.get("plugins", [])],
         [("strict", "1.2.0", sha)], "manifest lists the folder plugin with its tree hash")
check_eq([p["name"] for p in sj["plugins"]], ["strict"], "summary.json lists the plugin")
check_eq(run(["verify", out]).returncode, 0, "folder verifies")

# --- the same plugin with a reachable threshold passes ---
s = write(work, "ok.lua", scen % "{}")
r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "ok")])
check_eq(r.returncode, 0, "default options pass")
ok_sha = load_json(os.path.join(work, "ok", "manifest.json"))["plugins"][0]["sha256"]
check_eq(ok_sha, sha, "the same folder, the same hash")

# --- a helper file of the folder changes: the plugin's hash changes ---
os.makedirs(os.path.join(work, "plugins", "strict", "lib"))
write(os.path.join(work, "plugins", "strict", "lib"), "helper.lua", "return 1\n")
r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "ok2")])
sha2 = load_json(os.path.join(work, "ok2", "manifest.json"))["plugins"][0]["sha256"]
check(sha2 != sha and sha2 == tree_hash(os.path.dirname(plugin_path)),
      "a helper file added: another tree hash", (sha, sha2))
write(os.path.join(work, "plugins", "strict", "lib"), "helper.lua", "return 2\n")
r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "ok3")])
sha3 = load_json(os.path.join(work, "ok3", "manifest.json"))["plugins"][0]["sha256"]
check(sha3 not in (sha, sha2) and sha3 == tree_hash(os.path.dirname(plugin_path)),
      "a helper file changed: another tree hash", (sha2, sha3))
import shutil
shutil.rmtree(os.path.join(work, "plugins", "strict", "lib"))

# --- options checked against the schema: one line, exit 2, nothing sent ---
http_json(url + "/_stats/reset", method="POST", body={})
for opts, want in [('{ p95_ms = "fast" }', 'option "p95_ms": expected a number, got string'),
                   ('{ mode = "turbo" }', 'option "mode": turbo is not one of fast, slow'),
                   ('{ p95 = 1 }', 'unknown option "p95" (known: mode, p95_ms)')]:
    s = write(work, "bad.lua", scen % opts)
    r = run(["run", s, "--host", url, "--out", os.path.join(work, "bad")])
    check_eq(r.returncode, 2, "bad options exit 2: " + opts)
    check("plugin strict: " + want in r.stderr, "the error names plugin and option",
          r.stderr[-300:])
    check_eq(len(r.stderr.strip().splitlines()), 1, "one line")
reqs = http_json(url + "/_stats")["requests"]
check_eq(sum(sum(v.values()) for v in reqs.values()), 0, "no request sent on bad options")

# --- unknown plugin name: exit 2, the folders searched ---
s = write(work, "missing.lua", """
options = { plugins = { nosuch = {} } }
function run() end
""")
r = run(["run", s, "--out", os.path.join(work, "missing")])
check_eq(r.returncode, 2, "unknown plugin exit 2")
check('plugin "nosuch" not found (searched ' in r.stderr, "not found line", r.stderr[-300:])

# --- --plugin NAME from TIDE_PLUGIN_PATH; --plugin PATH to a folder ---
elsewhere = tmpdir()
os.makedirs(os.path.join(elsewhere, "hello"))
write(os.path.join(elsewhere, "hello"), "plugin.lua", """
return { name = "hello", version = "0.1", setup = function(opts, api)
  api.hooks.on("test_start", function() print("HELLO PLUGIN") end)
end }
""")
plain = write(elsewhere, "plain.lua", "function run() end\n")
r = run(["run", plain, "--iterations", "1", "--plugin", "hello", "--out",
         os.path.join(work, "byname")], env={"TIDE_PLUGIN_PATH": elsewhere})
check(r.returncode == 0 and "HELLO PLUGIN" in r.stderr, "--plugin NAME via TIDE_PLUGIN_PATH",
      r.stderr[-300:])
r = run(["run", plain, "--iterations", "1", "--plugin", os.path.join(elsewhere, "hello"),
         "--out", os.path.join(work, "bypath")])
check(r.returncode == 0 and "HELLO PLUGIN" in r.stderr, "--plugin FOLDER", r.stderr[-300:])

# --- tide plugins lists what is found ---
write(os.path.join(work, "plugins"), "broken.lua", "return {{{\n")
r = run(["plugins", os.path.join(work, "ok.lua")])
check("strict" in r.stdout and "1.2.0" in r.stdout, "tide plugins lists strict", r.stdout)
check("broken" in r.stdout and "not loadable" in r.stdout, "a broken one is flagged", r.stdout)
check_eq(r.returncode, 1, "tide plugins exit 1 when one does not load")

# --- hooks read the run folder, read-only, nothing outside it ---
outside = write(work, "outside.txt", "NOT FOR HOOKS")
s = write(work, "files.lua", """
local tide = require "tide"
options = { vus = 1, duration = "3s" }
local function try(name)
  local ok, res = pcall(tide.run_files.read, name)
  print("READ " .. name .. " " .. tostring(ok) .. " " .. (ok and #res or tostring(res)))
end
tide.hooks.on("report_written", function(info)
  local names = tide.run_files.list()
  print("LIST " .. table.concat(names, ","))
  local s = tide.json.decode(tide.run_files.read("summary.json"))
  print("STATUS " .. s.run.status)
  try("../outside.txt")
  try("/etc/hostname")
  try("leak.txt")
end)
function run()
  local ok, err = pcall(tide.run_files.read, "summary.json")
  if not ok and tide.vu.iteration == 0 then print("VU CANNOT " .. tostring(err)) end
  tide.sleep(0.2)
end
""")
out = os.path.join(work, "files")
p = subprocess.Popen([TIDE, "run", s, "--quiet", "--out", out], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
deadline = time.time() + 20
while not os.path.isdir(out) and time.time() < deadline:
    time.sleep(0.05)
os.symlink(os.path.abspath(outside), os.path.join(out, "leak.txt"))
so, se = p.communicate(timeout=60)
check("STATUS passed" in se, "a hook reads summary.json", se[-800:])
check("LIST " in se and "summary.json" in se.split("LIST ")[1].split("\n")[0],
      "a hook lists the folder", se[-800:])
check("READ ../outside.txt false" in se, "'..' refused", se[-800:])
check("READ /etc/hostname false" in se, "absolute path refused", se[-800:])
check("READ leak.txt false" in se and "symbolic link" in se, "symlink out refused", se[-800:])
check("NOT FOR HOOKS" not in se, "nothing outside read")
check("VU CANNOT" in se and "only hooks" in se, "VUs cannot read the folder", se[-800:])

stop(target)
done()
