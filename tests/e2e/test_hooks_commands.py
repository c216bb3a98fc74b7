"""Hooks of the commands that are not a run (docs/extending.md#events-of-other-commands):
`tide export` fires export_done, `tide purge` purge_done, `tide merge` merge_done, with hooks
from --script FILE or --plugin NAME|PATH. Each event fires with its documented payload (posted
to a loopback receiver, through the privacy filter); a required hook that fails turns the
command's exit code into 99 with a line naming it; a non-required one, or one stopped at
--hook-timeout, is a warning; a typo'd event name stops the command (exit 2, the closest name)
before it does anything; nothing fires when the command failed before doing anything."""
import hashlib
import os
from tidetest import *
from receiver import HTTPReceiver

target, url = start_target()
recv = HTTPReceiver()
work = tmpdir()
SECRET = "s3cr3t-cmd-hook-77"
ENV = {"RECV": recv.url, "HOOK_SECRET": SECRET}

scen = write(work, "s.lua", """
local http = require "tide.http"
options = { vus = 2, iterations = 6 }
function run() http.get("/health") end
""")
hooks = write(work, "hooks.lua", """
local http = require "tide.http"
local tide = require "tide"
local secret = tide.env("HOOK_SECRET")   -- read: a secret, redacted in every payload
for _, ev in ipairs({ "export_done", "purge_done", "merge_done" }) do
  tide.hooks.on(ev, function(p)
    if ev ~= "purge_done" then p.seen_files = #tide.run_files.list() end
    local r = http.post(tide.env("RECV") .. "/ev/" .. ev, { json = p, timeout = 5 })
    return r.status == 200
  end)
end
""")


def runs_folder(name):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    return d


def make_run(folder, name):
    out = os.path.join(folder, name)
    r = run(["run", scen, "--host", url, "--quiet", "--out", out])
    check_eq(r.returncode, 0, "run %s" % name)
    return out


def bodies(path):
    return [json.loads(q["body"]) for q in recv.requests if q["path"] == path]


runs = runs_folder("runs")
r1 = make_run(runs, "r1")

# --- export_done: the CAR's CID and size, the folder's files; secrets redacted ---
car = os.path.join(work, "r1-%s.car" % SECRET)
r = run(["export", r1, "--car", car, "--script", hooks], env=ENV)
check_eq(r.returncode, 0, "export with hooks")
cid = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
ev = bodies("/ev/export_done")
check_eq(len(ev), 1, "export_done fired once")
p = ev[0] if ev else {}
ex = (p.get("exports") or [{}])[0]
check(ex.get("kind") == "car" and ex.get("ref") == cid and cid.startswith("bafy"),
      "export_done: the root CID", (ex, cid))
check_eq(ex.get("bytes"), os.path.getsize(car), "export_done: the CAR's size")
check(SECRET not in ex.get("file", "") and "***" in ex.get("file", ""),
      "export_done: the secret in the CAR's name is redacted", ex.get("file"))
files = {f["name"]: f["bytes"] for f in p.get("files", [])}
check_eq(files.get("summary.json"), os.path.getsize(os.path.join(r1, "summary.json")),
         "export_done: the folder's files with sizes")
check_eq(p.get("bytes"), sum(files.values()), "export_done: total bytes")
with open(os.path.join(r1, "manifest.json"), "rb") as f:
    check_eq(p.get("manifest_sha256"), hashlib.sha256(f.read()).hexdigest(),
             "export_done: the manifest's sha256")
check(p.get("ok") is True and p.get("exit_code") == 0 and p.get("dir") == r1,
      "export_done: dir, ok, exit_code", p)
check_eq(p.get("seen_files"), len(files) + 1, "the hook read the exported folder's files")
check(SECRET.encode() not in recv.all_bytes(), "no secret reaches the receiver")
check_eq(run(["verify", r1]).returncode, 0, "the exported folder is still intact")

# --- a plugin's hook (--plugin PATH), and a plain --plugin file ---
pdir = os.path.join(work, "plugins", "ship")
os.makedirs(pdir)
write(pdir, "plugin.lua", """
return { name = "ship", version = "0.1.0", setup = function(opts, api)
  local http = require "tide.http"
  api.hooks.on("export_done", function(p)
    http.post(api.env("RECV") .. "/plugin/export_done", { json = { ref = p.exports[1].ref } })
  end)
end }
""")
r = run(["export", r1, "--car", os.path.join(work, "p.car"), "--plugin", pdir], env=ENV)
check_eq(r.returncode, 0, "export with --plugin")
check_eq([b.get("ref") for b in bodies("/plugin/export_done")], [cid],
         "the plugin's export_done hook fired with the CID")

# --- a required hook that fails: exit 99, one line naming it; the export still happened ---
req = write(work, "required.lua", """
local tide = require "tide"
tide.hooks.on("export_done", function() error("archive refused") end,
  { required = true, name = "archive" })
""")
car2 = os.path.join(work, "req.car")
r = run(["export", r1, "--car", car2, "--script", req])
check_eq(r.returncode, 99, "a failing required export_done hook: exit 99")
last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
check("required hook archive (export_done) failed" in last and "archive refused" in last,
      "the last line names the hook and why", r.stderr)
check(os.path.exists(car2), "the export itself was done")

# --- a non-required one: a warning, exit unchanged; the time limit stops a busy hook ---
slow = write(work, "slow.lua", """
local tide = require "tide"
tide.hooks.on("export_done", function() while true do end end, { name = "spin" })
""")
r = run(["export", r1, "--car", os.path.join(work, "slow.car"), "--script", slow,
         "--hook-timeout", "1s"], timeout=60)
check_eq(r.returncode, 0, "a stopped non-required hook leaves exit 0")
check("still running after 1 s, stopped" in r.stderr and "warning" in r.stderr,
      "the time limit stopped it, with a warning", r.stderr)

# --- a typo'd event: exit 2 with the closest name, before anything is exported ---
typo = write(work, "typo.lua", """
require("tide").hooks.on("exprot_done", function() end)
""")
before = len(recv.requests)
car3 = os.path.join(work, "typo.car")
exports_log = os.path.join(runs, ".exports.jsonl")
log_before = open(exports_log).read()
r = run(["export", r1, "--car", car3, "--script", typo])
check_eq(r.returncode, 2, "unknown event at load: exit 2")
check('unknown event "exprot_done" (did you mean export_done?)' in r.stderr,
      "the closest valid name", r.stderr)
check(not os.path.exists(car3) and open(exports_log).read() == log_before,
      "nothing exported", car3)
for cmd in (["purge", r1, "--script", typo], ["merge", r1, "--out", os.path.join(work, "m0"),
                                              "--script", typo]):
    r = run(cmd)
    # merge checks its folders first (r1 is no segment): 2 either way, and nothing done
    check_eq(r.returncode, 2, "%s with a typo'd hook: exit 2" % cmd[0])
check(os.path.isdir(r1), "purge erased nothing")

# --- nothing fires when the command failed before doing anything ---
r = run(["export", os.path.join(work, "nope"), "--car", os.path.join(work, "n.car"),
         "--script", hooks], env=ENV)
check_eq(r.returncode, 2, "export of a missing folder")
r = run(["purge", "nothing-here", "--runs", runs, "--script", hooks], env=ENV)
check_eq(r.returncode, 2, "purge of a missing run")
r = run(["merge", os.path.join(work, "nope"), "--out", os.path.join(work, "m1"),
         "--script", hooks], env=ENV)
check_eq(r.returncode, 2, "merge of a missing folder")
check_eq(len(recv.requests), before, "no event fired for commands that did nothing")

# --- merge_done: segments and verdict, logged in the merged folder's events.jsonl ---
segs = []
for i in (1, 2):
    out = os.path.join(work, "seg%d" % i)
    r = run(["run", scen, "--host", url, "--quiet", "--segment", "%d/2" % i, "--out", out])
    check_eq(r.returncode, 0, "segment %d" % i)
    segs.append(out)
merged = os.path.join(work, "merged")
r = run(["merge", *segs, "--out", merged, "--quiet", "--script", hooks], env=ENV)
check_eq(r.returncode, 0, "merge with hooks")
ev = bodies("/ev/merge_done")
check_eq(len(ev), 1, "merge_done fired once")
p = ev[0] if ev else {}
check(p.get("status") == "passed" and p.get("exit_code") == 0 and p.get("dir") == merged,
      "merge_done: the verdict and folder", p)
check_eq(sorted(s["segment"] for s in p.get("segments", [])), ["1/2", "2/2"],
         "merge_done: the segments")
check(p.get("failed_thresholds") == [] and "reason" in p, "merge_done: thresholds, reason", p)
check(p.get("seen_files", 0) >= 5, "the hook read the merged folder's reports", p)
evs = [json.loads(l) for l in open(os.path.join(merged, "events.jsonl"))]
hk = [e for e in evs if e["type"] == "hook"]
check(len(hk) == 1 and hk[0]["event"] == "merge_done" and hk[0]["ok"],
      "merge_done logged in the merged folder's events.jsonl", hk)
check_eq(run(["verify", merged]).returncode, 0, "the merged folder verifies")

reqm = write(work, "reqmerge.lua", """
require("tide").hooks.on("merge_done", function() return false end,
  { required = true, name = "gate" })
""")
merged2 = os.path.join(work, "merged2")
r = run(["merge", *segs, "--out", merged2, "--quiet", "--script", reqm])
check_eq(r.returncode, 99, "a failing required merge_done hook: exit 99")
check("required hook gate (merge_done) failed: returned false" in r.stderr, "named", r.stderr)
evs = [json.loads(l) for l in open(os.path.join(merged2, "events.jsonl"))]
check([e.get("ok") for e in evs if e["type"] == "hook"] == [False] and
      [e.get("exit_code") for e in evs if e["type"] == "end"] == [99],
      "events.jsonl: the failed hook and exit 99", evs)
check_eq(run(["verify", merged2]).returncode, 0, "and the folder still verifies")

# --- merge --verify: the plugin's hooks join the script's lifecycle runner ---
mplug = write(work, "mplug.lua", """
local http = require "tide.http"
local tide = require "tide"
tide.hooks.on("merge_done", function(p)
  http.post(tide.env("RECV") .. "/plugin/merge_done", { json = { status = p.status } })
end)
""")
r = run(["merge", *segs, "--out", os.path.join(work, "merged3"), "--quiet", "--verify",
         "--script", scen, "--plugin", mplug], env=ENV)
check_eq(r.returncode, 0, "merge --verify --plugin")
check_eq(bodies("/plugin/merge_done"), [{"status": "passed"}], "the plugin's merge_done fired")

# --- purge_done: what was erased and the receipt ---
r = run(["purge", r1, "--dry-run", "--script", hooks], env=ENV)
check_eq(r.returncode, 0, "purge --dry-run")
r = run(["purge", r1, "--script", hooks], env=ENV)
check_eq(r.returncode, 0, "purge with hooks")
ev = bodies("/ev/purge_done")
check_eq([e.get("dry_run") for e in ev], [True, False], "purge_done fired for each purge")
p = ev[-1] if ev else {}
er = (p.get("erased") or [{}])[0]
receipt = os.path.join(os.path.realpath(runs), ".receipts", "r1.json")
check(er.get("run_id") == "r1" and er.get("receipt") == receipt and er.get("complete") is True,
      "purge_done: the run and its receipt", er)
with open(receipt, "rb") as f:
    check_eq(er.get("receipt_sha256"), hashlib.sha256(f.read()).hexdigest(),
             "purge_done: the receipt's sha256")
check(er.get("files", 0) >= 5 and er.get("exports") == 4, "purge_done: files and exports", er)
check(p.get("count") == 1 and p.get("ok") is True and p.get("runs") == os.path.realpath(runs),
      "purge_done: count, ok, runs", p)
check(not os.path.exists(r1), "the run was erased")

r2 = make_run(runs, "r2")
r = run(["purge", r2, "--script", write(work, "reqpurge.lua", """
require("tide").hooks.on("purge_done", function() error("ticket not opened") end,
  { required = true, name = "ticket" })
""")])
check_eq(r.returncode, 99, "a failing required purge_done hook: exit 99")
check("required hook ticket (purge_done) failed" in r.stderr, "named", r.stderr)

check(SECRET.encode() not in recv.all_bytes(), "no secret reached the receiver")
recv.stop()
stop(target)
done()
