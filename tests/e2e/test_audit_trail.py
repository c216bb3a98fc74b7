"""End-to-end tests of the audit trail and sovereign erasure (issue 10, items 3 and 4):
the manifest records who ran what with what (operator, plugin, modules and data files with
their sha256, targets, privacy, the events chain's head and count), with no hook events when
no hook exists; `tide verify` fails naming what changed on each tampering (edited exit_code,
tail cut with the hash fixed, a recomputed chain, an added file, hidden file or subfolder, a
FIFO, an edited manifest caught by the ledger); signatures made by tide verify with
`ssh-keygen -Y verify` and the other way round, and a one-byte change breaks both; the access
ledger records each command and `tide audit` finds an edited record; `tide purge` leaves no
file, link or index entry of the run, its receipt verifies, --dry-run deletes nothing, and
retention erases exactly the expired runs."""
import hashlib
import shutil
import stat
from tidetest import *

if shutil.which("ssh-keygen") is None:
    skip("ssh-keygen (openssh-client) is not installed")

target, url = start_target()
work = tmpdir()
runs = os.path.join(work, "report")

write(work, "helper.lua", "return { path = '/health' }\n")
write(work, "users.csv", "name\nbob\n")
write(work, "plug.lua", "-- a plugin with no hook\n")
write(work, "s.lua", """
local http = require "tide.http"
local data = require "tide.data"
local helper = require "helper"
options = { vus = 1, iterations = 2, tags = { team = "pay" } }
function run() data.csv("users.csv"); http.get(helper.path) end
""")
write(work, "old.lua", """
local http = require "tide.http"
options = { vus = 1, iterations = 1 }
function run() http.get("/health") end
""")


def tide_run(script, *extra):
    r = run(["run", script, "--host", url, "--quiet", *extra], cwd=work, timeout=60)
    check_eq(r.returncode, 0, "run %s %s" % (script, " ".join(extra)))
    return r


def latest():
    return os.path.join(runs, os.readlink(os.path.join(runs, "latest")))


def verify(folder, *extra):
    return run(["verify", folder, *extra], cwd=work, timeout=30)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def ledger():
    return [json.loads(l) for l in open(os.path.join(runs, ".ledger.jsonl"))]


# --- 1. the manifest tells who, what, with what ---
tide_run("s.lua", "--plugin", "plug.lua")
first = latest()
m = load_json(os.path.join(first, "manifest.json"))
check(m["operator"]["user"] != "" and m["operator"]["host"] != "", "manifest: operator", m["operator"])
check(m["build"]["version"] and m["build"]["git"], "manifest: build")
check_eq([os.path.realpath(p["path"]) for p in m["plugin_files"]], [os.path.realpath(os.path.join(work, "plug.lua"))], "manifest: the plugin file")
check_eq(m["plugin_files"][0]["sha256"], sha(os.path.join(work, "plug.lua")), "manifest: plugin sha256")
read = {os.path.basename(f["path"]): f for f in m["files_read"]}
check(read.get("helper.lua", {}).get("kind") == "module" and
      read["helper.lua"]["sha256"] == sha(os.path.join(work, "helper.lua")),
      "manifest: the required module with its sha256", m["files_read"])
check(read.get("users.csv", {}).get("kind") == "data" and
      read["users.csv"]["sha256"] == sha(os.path.join(work, "users.csv")),
      "manifest: the data file with its sha256", m["files_read"])
check_eq(m["targets"], [url], "manifest: target hosts")
check(m["privacy"]["enabled"] is True, "manifest: privacy setting", m["privacy"])
events = [json.loads(l) for l in open(os.path.join(first, "events.jsonl"))]
check_eq(m["events"]["count"], len(events), "manifest: events count")
check_eq(m["exit_code"], 0, "manifest: exit code")
check(not any(e["type"] == "hook" for e in events), "no hook event when no hook exists",
      [e for e in events if e["type"] == "hook"])
env = {"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4242", "GITHUB_REPOSITORY": "acme/shop",
       "GITHUB_ACTOR": "ci-bot"}
r = run(["run", "s.lua", "--host", url, "--quiet", "--out", os.path.join(work, "ci-run")],
        cwd=work, env=env, timeout=60)
ci = load_json(os.path.join(work, "ci-run", "manifest.json"))["operator"].get("ci", {})
check(ci.get("system") == "github-actions" and ci.get("job") == "4242" and
      ci.get("project") == "acme/shop" and ci.get("actor") == "ci-bot", "manifest: CI identity", ci)

r = verify(first)
check(r.returncode == 0 and "manifest matches the ledger" in r.stdout, "verify: an intact run",
      r.stdout + r.stderr)


# --- 2. each tampering fails verify, naming the file or field ---
def tampered(name, change, want):
    folder = os.path.join(runs, "t-" + name)
    shutil.copytree(first, folder, symlinks=True)
    change(folder)
    r = verify(folder)
    check(r.returncode == 99 and want in r.stderr, "verify fails (99) on %s, saying '%s'" % (name, want),
          (r.returncode, r.stderr))
    shutil.rmtree(folder)


def rehash(folder, edit=None):
    p = os.path.join(folder, "manifest.json")
    mm = json.load(open(p))
    for f in mm["files"]:
        mm["files"][f] = sha(os.path.join(folder, f))
    if edit:
        edit(mm)
    json.dump(mm, open(p, "w"), indent=1)


def edit_exit_code(folder):
    rehash(folder, lambda mm: mm.__setitem__("exit_code", 1))


def drop_tail(folder):
    p = os.path.join(folder, "events.jsonl")
    lines = open(p).read().splitlines(True)
    open(p, "w").write("".join(lines[:-2]))
    rehash(folder)


def recompute_chain(folder):
    p = os.path.join(folder, "events.jsonl")
    prev, out = "0" * 64, []
    for line in open(p).read().splitlines():
        e = json.loads(line)
        e["prev"] = prev
        if e["type"] == "start":
            e["scenario_file"] = "s.lua"
            e["note"] = "forged"
        line = json.dumps(e, separators=(",", ":"))
        prev = hashlib.sha256(line.encode()).hexdigest()
        out.append(line + "\n")
    open(p, "w").write("".join(out))
    rehash(folder)


def edit_manifest_everything(folder):
    # a forger who also fixes the recorded head: only the ledger (or a signature) can tell
    recompute_chain(folder)
    p = os.path.join(folder, "events.jsonl")
    lines = open(p).read().splitlines()
    rehash(folder, lambda mm: mm["events"].__setitem__(
        "head", hashlib.sha256(lines[-1].encode()).hexdigest()))


tampered("exit_code", edit_exit_code, "manifest.json: field exit_code differs")
tampered("tail", drop_tail, "events.jsonl: %d events, the manifest recorded %d" %
         (len(events) - 2, len(events)))
tampered("chain", recompute_chain, "the chain's head differs")
tampered("added", lambda f: write(f, "notes.txt", "x"), "notes.txt: not in the manifest")
tampered("hidden", lambda f: write(f, ".x", "x"), ".x: not in the manifest")
tampered("subfolder", lambda f: os.mkdir(os.path.join(f, "more")), "more/: a subfolder")
tampered("fifo", lambda f: os.mkfifo(os.path.join(f, "pipe")), "pipe: not in the manifest")


def edited_in_place(folder):
    edit_manifest_everything(folder)


# the same forgery on the real run (its id is in the ledger): the ledger's record tells
backup = first + ".bak"
shutil.copytree(first, backup)
edit_manifest_everything(first)
r = verify(first)
check(r.returncode == 99 and "manifest.json: sha256 differs from the one the ledger recorded" in r.stderr,
      "verify: a fully re-hashed manifest is caught by the ledger", r.stderr)
shutil.rmtree(first)
os.rename(backup, first)
check_eq(verify(first).returncode, 0, "verify: restored")

# --- 3. signatures, both ways with ssh-keygen ---
key = os.path.join(work, "key")
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ops", "-f", key], check=True)
pub = open(key + ".pub").read().split()
allowed = write(work, "allowed_signers", "ops@example.com %s %s\n" % (pub[0], pub[1]))
other = os.path.join(work, "other")
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other], check=True)
opub = open(other + ".pub").read().split()
other_allowed = write(work, "other_signers", "eve@example.com %s %s\n" % (opub[0], opub[1]))


def ssh_verify(manifest):
    return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "ops@example.com",
                           "-n", "tide", "-s", manifest + ".sig"], stdin=open(manifest, "rb"),
                          capture_output=True, text=True)


tide_run("s.lua", "--sign", key)
signed = latest()
mpath = os.path.join(signed, "manifest.json")
check(open(mpath + ".sig").read().startswith("-----BEGIN SSH SIGNATURE-----"), "run --sign: armored SSHSIG")
r = ssh_verify(mpath)
check(r.returncode == 0 and "Good" in r.stdout + r.stderr, "ssh-keygen -Y verify accepts tide's signature",
      r.stdout + r.stderr)
r = verify(signed, "--allowed-signers", allowed)
check(r.returncode == 0 and "signed by ops@example.com" in r.stdout, "tide verify --allowed-signers",
      r.stdout + r.stderr)
r = verify(signed, "--allowed-signers", other_allowed)
check(r.returncode == 99 and "not in the allowed signers" in r.stderr, "an unlisted key is refused",
      r.stderr)
check(verify(first, "--allowed-signers", allowed).returncode == 99, "an unsigned run fails --allowed-signers")

# tide accepts what ssh-keygen signed (tide sign too, then replaced by ssh-keygen's)
r = run(["sign", first, "--key", key], cwd=work)
check(r.returncode == 0 and ssh_verify(os.path.join(first, "manifest.json")).returncode == 0,
      "tide sign DIR --key: ssh-keygen accepts it", r.stderr)
os.unlink(os.path.join(first, "manifest.json.sig"))
subprocess.run(["ssh-keygen", "-Y", "sign", "-q", "-f", key, "-n", "tide",
                os.path.join(first, "manifest.json")], check=True, capture_output=True)
r = verify(first, "--allowed-signers", allowed)
check(r.returncode == 0 and "signed by ops@example.com" in r.stdout,
      "tide verify accepts a signature made by ssh-keygen -Y sign", r.stdout + r.stderr)

# a signature for another namespace (e.g. git's) is not a tide signature; garbage is refused
sig = os.path.join(first, "manifest.json.sig")
good = open(sig).read()
os.unlink(sig)
subprocess.run(["ssh-keygen", "-Y", "sign", "-q", "-f", key, "-n", "git",
                os.path.join(first, "manifest.json")], check=True, capture_output=True)
r = verify(first, "--allowed-signers", allowed)
check(r.returncode == 99 and 'namespace "git"' in r.stderr, "a signature for namespace git is refused",
      r.stderr)
open(sig, "w").write("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n")
r = verify(first, "--allowed-signers", allowed)
check(r.returncode == 99 and "malformed" in r.stderr, "a truncated signature is refused", r.stderr)
open(sig, "w").write(good)

# a one-byte change breaks both
text = open(mpath, "rb").read()
i = text.index(b'"exit_code":') + len(b'"exit_code":')
while text[i:i + 1] in (b" ", b"\t"):
    i += 1
open(mpath, "wb").write(text[:i] + (b"1" if text[i:i + 1] == b"0" else b"0") + text[i + 1:])
check(ssh_verify(mpath).returncode != 0, "one byte changed: ssh-keygen rejects the signature")
r = verify(signed, "--allowed-signers", allowed)
check(r.returncode == 99 and "manifest.json" in r.stderr, "one byte changed: tide verify fails", r.stderr)
open(mpath, "wb").write(text)

# bad keys: one clear line, exit 2, nothing run
enc = os.path.join(work, "enc")
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "pass phrase", "-f", enc], check=True)
r = run(["run", "s.lua", "--host", url, "--quiet", "--sign", enc, "--out", os.path.join(work, "x")], cwd=work)
check(r.returncode == 2 and "encrypted" in r.stderr and not os.path.exists(os.path.join(work, "x")),
      "run --sign with an encrypted key: exit 2 before the run", r.stderr)
r = run(["sign", first, "--key", os.path.join(work, "users.csv")], cwd=work)
check(r.returncode == 2 and "not an OpenSSH private key" in r.stderr, "sign with a non-key: exit 2", r.stderr)

fifo = os.path.join(work, "key.fifo")
os.mkfifo(fifo)
r = run(["sign", first, "--key", fifo], cwd=work, timeout=20)
check(r.returncode == 2 and "not a regular file" in r.stderr, "sign with a FIFO as key: refused, no hang",
      r.stderr)
r = verify(first, "--allowed-signers", fifo)
check(r.returncode == 99 and "not a regular file" in r.stderr, "a FIFO as allowed signers: refused", r.stderr)

# --- 4. the access ledger ---
r = run(["report", first], cwd=work)
run(["compare", first, signed], cwd=work)
recs = ledger()
cmds = [x["command"] for x in recs]
for c in ("run", "verify", "sign", "report", "compare"):
    check(c in cmds, "ledger: a %s record" % c, cmds)
check(all(x["operator"]["user"] and x["time"] for x in recs), "ledger: who and when in every record")
r = run(["audit", runs], cwd=work)
check(r.returncode == 0 and "hash chain intact" in r.stdout and "compare" in r.stdout, "tide audit", r.stdout)
lp = os.path.join(runs, ".ledger.jsonl")
saved = open(lp).read()
lines = saved.splitlines(True)
lines[2] = lines[2].replace('"result":"', '"result":"x', 1)
open(lp, "w").write("".join(lines))
r = run(["audit", runs], cwd=work)
check(r.returncode == 99 and "line 4" in r.stderr, "tide audit: an edited record breaks the chain (names the line)",
      r.stderr)
open(lp, "w").write("".join(saved.splitlines(True)[:3] + saved.splitlines(True)[4:]))
r = run(["audit", runs], cwd=work)
check(r.returncode == 99 and "line 4" in r.stderr, "tide audit: a removed record breaks the chain", r.stderr)
open(lp, "w").write(saved)


# --- 5. purge and receipts ---
def scan_for(run_id, hashes):
    """Paths under runs (but the ledger and receipts) naming the run, linking to it, or holding
    one of its files' bytes."""
    found = []
    for root, dirs, files in os.walk(runs):
        if root == runs:
            dirs[:] = [d for d in dirs if d != ".receipts"]
        for name in dirs + files:
            p = os.path.join(root, name)
            if root == runs and name == ".ledger.jsonl":
                continue
            if run_id in name or (os.path.islink(p) and run_id in os.readlink(p)):
                found.append(p)
            elif os.path.isfile(p) and not os.path.islink(p):
                data = open(p, "rb").read()
                if hashlib.sha256(data).hexdigest() in hashes or run_id.encode() in data:
                    found.append(p)
    return found


write(runs, ".exports.jsonl", json.dumps({"run_id": os.path.basename(signed), "kind": "ipfs",
                                          "ref": "bafyfake", "encrypted": False}) + "\n" +
      json.dumps({"run_id": "someone-else", "kind": "s3", "ref": "s3://b/k", "encrypted": True}) + "\n")
sid = os.path.basename(signed)
files_before = sorted(os.listdir(signed))
r = run(["purge", signed, "--dry-run"], cwd=work)
check(r.returncode == 0 and "would erase" in r.stdout and sorted(os.listdir(signed)) == files_before,
      "purge --dry-run deletes nothing", r.stdout + r.stderr)
check(sid in open(os.path.join(runs, ".exports.jsonl")).read(), "purge --dry-run keeps the export index")
hashes = {sha(os.path.join(signed, f)) for f in files_before}
hashes.discard(sha(os.path.join(first, "failures.csv")))  # an empty failures.csv is in every run
check_eq(os.readlink(os.path.join(runs, "latest")), sid, "latest points at the run to erase")
r = run(["purge", sid, "--key", key], cwd=work)
check_eq(r.returncode, 0, "purge RUN_ID --key")
check(not os.path.exists(signed), "purge: the run folder is gone")
check(os.readlink(os.path.join(runs, "latest")) != sid and
      os.path.isdir(os.path.join(runs, os.readlink(os.path.join(runs, "latest")))),
      "purge: latest repointed at a remaining run")
left = scan_for(sid, hashes)
check(left == [], "purge: no file, link or index entry of the run remains", left)
check("someone-else" in open(os.path.join(runs, ".exports.jsonl")).read(), "purge: other exports kept")
receipt = os.path.join(runs, ".receipts", sid + ".json")
rc = load_json(receipt)
check(rc["run_id"] == sid and len(rc["manifest_sha256"]) == 64 and rc["operator"]["user"],
      "receipt: run id, manifest sha256, operator")
check(sorted(f["name"] for f in rc["files"]) == files_before and all(len(f["sha256"]) == 64 for f in rc["files"]),
      "receipt: every file with its sha256")
check(rc["exports"] and rc["exports"][0]["ref"] == "bafyfake" and rc["exports"][0]["erased"] is False,
      "receipt: the export is listed as not reachable", rc["exports"])
check(rc["rescan"]["remaining"] == [] and rc["not_reachable"], "receipt: re-scan and limits")
rtext = open(receipt).read()
check("http.get" not in rtext and "bob" not in rtext and "/health" not in rtext, "receipt: no report content")
r = run(["verify-receipt", receipt, "--allowed-signers", allowed], cwd=work)
check(r.returncode == 0 and "nothing remains" in r.stdout and "signed by ops@example.com" in r.stdout,
      "verify-receipt: signed, nothing remains", r.stdout + r.stderr)
r2 = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "ops@example.com", "-n", "tide",
                     "-s", receipt + ".sig"], stdin=open(receipt, "rb"), capture_output=True, text=True)
check_eq(r2.returncode, 0, "ssh-keygen verifies the receipt's signature")
open(receipt, "w").write(rtext.replace('"erased_at":\t"', '"erased_at":\t"1', 1))
r = run(["verify-receipt", receipt, "--allowed-signers", allowed], cwd=work)
check(r.returncode == 99, "verify-receipt: an edited receipt fails", r.stderr)
open(receipt, "w").write(rtext)
# content put back (a restored backup) is found by verify-receipt's re-scan
restored = os.path.join(runs, "restored")
os.mkdir(restored)
shutil.copy(os.path.join(first, "summary.json"), restored)  # another run's: not this one's
r = run(["verify-receipt", receipt], cwd=work)
check_eq(r.returncode, 0, "verify-receipt: another run's file is not this run's")
write(restored, "copy.txt", "mentions " + sid)
r = run(["verify-receipt", receipt], cwd=work)
check(r.returncode == 99 and "copy.txt" in r.stderr, "verify-receipt: a leftover naming the run is found", r.stderr)
shutil.rmtree(restored)
rec = [x for x in ledger() if x["command"] == "purge" and x["run"] == sid]
check(rec and rec[-1]["result"] == "erased" and "receipt_sha256" in rec[-1], "ledger: the purge with hashes only")

# purge: bad input
r = run(["purge"], cwd=work)
check(r.returncode == 2 and "nothing is purged by default" in r.stderr, "purge with no selection: exit 2")
r = run(["purge", "no-such-run", "--runs", runs], cwd=work)
check(r.returncode == 2 and "no such run" in r.stderr, "purge of an unknown run: exit 2", r.stderr)

# --- 6. filters and retention (ages faked by editing the manifests' start times) ---
tide_run("old.lua", "--tag", "env=staging")
staging = latest()
r = run(["purge", "--tag", "env=staging", "--dry-run"], cwd=work)
check(os.path.basename(staging) in r.stdout and os.path.basename(first) not in r.stdout,
      "purge --tag selects by tag", r.stdout)
r = run(["purge", "--scenario", "old", "--dry-run"], cwd=work)
check(os.path.basename(staging) in r.stdout and os.path.basename(first) not in r.stdout,
      "purge --scenario selects by scenario", r.stdout)


def age(folder, days):
    p = os.path.join(folder, "manifest.json")
    mm = json.load(open(p))
    t = time.gmtime(time.time() - days * 86400)
    mm["start"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", t)
    json.dump(mm, open(p, "w"), indent=1)


age(first, 40)
age(staging, 10)
r = run(["purge", "--older-than", "30d", "--dry-run"], cwd=work)
check(os.path.basename(first) in r.stdout and os.path.basename(staging) not in r.stdout,
      "purge --older-than 30d --dry-run names exactly the old run", r.stdout)
write(work, "keep.lua", """
local http = require "tide.http"
options = { vus = 1, iterations = 1, retention = "30d" }
function run() http.get("/health") end
""")
before = set(os.listdir(runs))
tide_run("keep.lua")
after = set(os.listdir(runs))
check(os.path.basename(first) not in after, "retention: the 40-day-old run is erased")
check(os.path.basename(staging) in after, "retention: the 10-day-old run is kept")
check(os.path.basename(latest()) in after and len(after - before - {".receipts"}) == 1,
      "retention: the new run is kept", sorted(after - before))
check(os.path.exists(os.path.join(runs, ".receipts", os.path.basename(first) + ".json")),
      "retention: a receipt for the erased run")
r = run(["audit", runs], cwd=work)
check_eq(r.returncode, 0, "the ledger is intact after all of it")

stop(target)
done()
