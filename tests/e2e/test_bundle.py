"""End-to-end test of the portable run folder (issue 11, item 1): `tide run --bundle` copies the
scenario, its plugin files, the modules it required and the data files it read into RUN/bundle/
at their paths relative to the scenario's folder, each hashed in the manifest ("bundle" section
and "bundle/..." entries of "files"); a data file that looks like credentials, and a plugin from
outside the scenario's folder, are left out and named with the reason (--bundle-data includes
the first). The folder copied to a fresh directory passes `tide verify`, `tide report` and
`tide compare` under `env -i`, and its bundled scenario re-runs from COPY/bundle/. A changed,
added or linked file under bundle/, or any other subfolder, makes verify fail naming it."""
import hashlib
import shutil
from tidetest import *

target, url = start_target()
work = tmpdir()
runs = os.path.join(work, "report")
os.makedirs(os.path.join(work, "lib"))
os.makedirs(os.path.join(work, "data"))
os.makedirs(os.path.join(work, "plugins"))
write(work, "lib/helper.lua", "return { path = '/health' }\n")
write(work, "data/users.csv", "name\nbob\n")
write(work, "data/accounts.csv", "user,password\nalice,hunter2\n")
write(work, "plugins/plug.lua", "-- a plugin with no hook\n")
elsewhere = tmpdir()
write(elsewhere, "outside.lua", "-- a plugin outside the scenario's folder\n")
write(work, "s.lua", """
local http = require "tide.http"
local data = require "tide.data"
local helper = require "lib.helper"
options = { vus = 1, iterations = 2 }
local users = data.csv("data/users.csv")
-- test accounts: present where the test is prepared, left out of a default bundle
local ok, accounts = pcall(data.csv, "data/accounts.csv")
function run() http.get(helper.path) end
""")


def tide_run(*args, cwd=work):
    r = run(["run", *args, "--host", url, "--quiet"], cwd=cwd, timeout=60)
    check_eq(r.returncode, 0, "run %s (%s)" % (" ".join(args), r.stderr.strip()[-300:]))
    return r


def latest():
    return os.path.join(runs, os.readlink(os.path.join(runs, "latest")))


def bare(*args, cwd=None):
    """tide under `env -i PATH=/usr/bin:/bin`: nothing from this environment."""
    return subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", TIDE, *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


# 1. a bundled run
r = tide_run("s.lua", "--bundle", "--plugin", "plugins/plug.lua", "--plugin",
             os.path.join(elsewhere, "outside.lua"))
run1 = latest()
b = os.path.join(run1, "bundle")
for rel in ("s.lua", "lib/helper.lua", "data/users.csv", "plugins/plug.lua"):
    p = os.path.join(b, rel)
    check(os.path.isfile(p) and open(p).read() == open(os.path.join(work, rel)).read(),
          "bundle/%s is a copy of the input" % rel)
check(not os.path.exists(os.path.join(b, "data/accounts.csv")),
      "a data file with a password column is not bundled by default")
check(not os.path.exists(os.path.join(b, "outside.lua")), "a plugin from elsewhere is not bundled")
check("may hold secrets" in r.stderr and "outside the scenario's folder" in r.stderr,
      "each file left out is named on stderr", r.stderr)
m = load_json(os.path.join(run1, "manifest.json"))
sec = m.get("bundle", {})
listed = {f["path"]: f for f in sec.get("files", [])}
check_eq(sorted(listed), ["data/users.csv", "lib/helper.lua", "plugins/plug.lua", "s.lua"],
         "the manifest's bundle section lists the copied files")
check_eq({f["path"]: f["excluded"] for f in sec.get("excluded", []) if f["kind"] == "data"},
         {"data/accounts.csv": "may hold secrets"}, "the excluded data file and why")
check(any(f["excluded"].startswith("outside the scenario's folder") for f in sec.get("excluded", [])),
      "the outside plugin is listed as excluded")
for rel, f in listed.items():
    h = hashlib.sha256(open(os.path.join(b, rel), "rb").read()).hexdigest()
    check_eq(f["sha256"], h, "bundle section sha256 of %s" % rel)
    check_eq(m["files"].get("bundle/" + rel), h, "files map has bundle/%s" % rel)
check("hunter2" not in open(os.path.join(run1, "manifest.json")).read(), "no secret in the manifest")
check_eq(run(["verify", run1]).returncode, 0, "verify of the bundled run in place")

# 2. copied to a fresh directory: verify, report, compare with nothing of this environment
fresh = tmpdir()
copy = os.path.join(fresh, "moved", "run")
shutil.copytree(run1, copy, symlinks=True)
r = bare("verify", copy, cwd=fresh)
check_eq(r.returncode, 0, "env -i tide verify COPY (%s)" % r.stderr.strip())
html_before = open(os.path.join(copy, "report.html"), "rb").read()
r = bare("report", copy, cwd=fresh)
check_eq(r.returncode, 0, "env -i tide report COPY (%s)" % r.stderr.strip())
check_eq(bare("verify", copy, cwd=fresh).returncode, 0, "still verifies after tide report")
r = bare("compare", copy, copy, cwd=fresh)
check_eq(r.returncode, 0, "env -i tide compare COPY COPY (%s)" % r.stderr.strip())

# 3. the bundle re-runs from COPY/bundle/ (its own run folder goes to rerun/)
rerun = os.path.join(fresh, "rerun")
r = bare("run", os.path.join(copy, "bundle", "s.lua"), "--host", url, "--iterations", "1",
         "--quiet", "--plugin", os.path.join(copy, "bundle", "plugins", "plug.lua"),
         "--out", rerun, "--bundle", cwd=fresh)
check_eq(r.returncode, 0, "re-run of the bundled scenario (%s)" % r.stderr.strip()[-300:])
s = load_json(os.path.join(rerun, "summary.json"))
check(metric(s, "http_reqs", "count") == 1, "the re-run made its request",
      str(metric(s, "http_reqs", "count")))
rm = load_json(os.path.join(rerun, "manifest.json"))["bundle"]
check_eq(sorted(f["path"] for f in rm["files"]), sorted(listed),
         "the re-run's own bundle has the same files")

# 4. tampering under bundle/ (each on a fresh copy): verify fails (99) naming the file
def tampered(what, change, needle):
    c = os.path.join(tmpdir(), "run")
    shutil.copytree(run1, c, symlinks=True)
    change(c)
    r = bare("verify", c)
    check_eq(r.returncode, 99, "verify exit code after " + what)
    check(needle in r.stderr, "verify names %s after %s" % (needle, what), r.stderr)


def flip(c):
    p = os.path.join(c, "bundle", "lib", "helper.lua")
    data = bytearray(open(p, "rb").read())
    data[0] ^= 1
    open(p, "wb").write(bytes(data))


tampered("a changed byte", flip, "bundle/lib/helper.lua: sha256 differs")
tampered("an added file", lambda c: write(c, "bundle/data/extra.csv", "x\n"),
         "bundle/data/extra.csv: not in the manifest")
tampered("a removed file", lambda c: os.remove(os.path.join(c, "bundle", "s.lua")),
         "bundle/s.lua")
tampered("a link", lambda c: os.symlink("/etc/hostname", os.path.join(c, "bundle", "l")),
         "bundle/l: not a regular file")
tampered("a linked folder", lambda c: (shutil.rmtree(os.path.join(c, "bundle", "lib")),
                                       os.symlink(os.path.join(run1, "bundle", "lib"),
                                                  os.path.join(c, "bundle", "lib"))),
         "bundle/lib: not a regular file")
tampered("another subfolder", lambda c: os.makedirs(os.path.join(c, "other")),
         "other/: a subfolder not in the manifest")
tampered("a bundle/ folder in an unbundled manifest",
         lambda c: (lambda p, m: (m.pop("bundle"), open(p, "w").write(json.dumps(m))))(
             os.path.join(c, "manifest.json"), load_json(os.path.join(c, "manifest.json"))),
         "bundle/")

# 5. --bundle-data includes the credentials file; options.bundle works like --bundle
tide_run("s.lua", "--bundle-data")
check(os.path.isfile(os.path.join(latest(), "bundle", "data", "accounts.csv")),
      "--bundle-data bundles the data file with a password column")
check_eq(run(["verify", latest()]).returncode, 0, "verify with --bundle-data")
write(work, "o.lua", """
local http = require "tide.http"
options = { vus = 1, iterations = 1, bundle = true }
function run() http.get("/health") end
""")
tide_run("o.lua")
check(os.path.isfile(os.path.join(latest(), "bundle", "o.lua")), "options.bundle = true bundles")
write(work, "p.lua", open(os.path.join(work, "o.lua")).read().replace(", bundle = true", ""))
tide_run("p.lua")
check(not os.path.exists(os.path.join(latest(), "bundle")), "no bundle without the option")

# 6. --out into the folder of an earlier bundled run: bundle/ starts empty
out = os.path.join(work, "out-again")
tide_run("s.lua", "--bundle-data", "--out", out)
check(os.path.isfile(os.path.join(out, "bundle", "data", "accounts.csv")), "first run bundles all")
tide_run("s.lua", "--bundle", "--out", out)
check(not os.path.exists(os.path.join(out, "bundle", "data", "accounts.csv")),
      "the second run's bundle has no file of the first")
check_eq(run(["verify", out]).returncode, 0, "a bundled run over an earlier one verifies")

# 7. a scenario that is a link to a file elsewhere is bundled under its own name
os.symlink(os.path.join(work, "o.lua"), os.path.join(elsewhere, "linked.lua"))
tide_run(os.path.join(elsewhere, "linked.lua"), "--bundle")
check(os.path.isfile(os.path.join(latest(), "bundle", "linked.lua")),
      "a linked scenario is bundled as the bytes that ran")

# 8. tide purge erases a bundled run, bundle/ included
r = run(["purge", run1, "--runs", runs], cwd=work, timeout=30)
check_eq(r.returncode, 0, "purge of a bundled run (%s)" % r.stderr.strip())
check(not os.path.exists(run1), "nothing of the bundled run is left")
done()
