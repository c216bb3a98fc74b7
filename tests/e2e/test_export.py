"""tide export / import / verify of IPFS content (docs/export.md), tide alone: a real run folder
as a CAR (root CID printed, the export recorded beside the run folder, the folder untouched),
the CAR verified, imported back byte-identical and verified as a run; a flipped byte in a CAR
names the block, a flipped byte in a folder fails `verify --cid`; bad usage is refused with one
line. Independent implementations (ipfs-car, js-ipfs) check the same things in
test_export_ipfs.py."""
import filecmp
import json
import os
import shutil
import subprocess

from tidetest import check, check_eq, done, run, tmpdir, write

tmp = tmpdir()
runs = os.path.join(tmp, "runs")
scenario = write(tmp, "s.lua", """
local http = require "tide.http"
options = { vus = 2, iterations = 20 }
function run() http.get("/health") end
""")
folder = os.path.join(runs, "r1")
r = run(["run", scenario, "--target", "--quiet", "--out", folder], timeout=60)
check_eq(r.returncode, 0, "the run passes: " + r.stderr)
before = {n: open(os.path.join(folder, n), "rb").read() for n in os.listdir(folder)}


def same_tree(a, b):
    """Byte-identical trees (names, contents)."""
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(
        same_tree(os.path.join(a, d), os.path.join(b, d)) for d in cmp.common_dirs)


# Export as a CAR: the root CID on stdout, a record beside the run folder.
car = os.path.join(tmp, "r1.car")
r = run(["export", folder, "--car", car], timeout=60)
check_eq(r.returncode, 0, "export --car: " + r.stderr)
cid = r.stdout.strip()
check(cid.startswith("bafybei") and len(cid) == 59, "the root CID is printed", repr(r.stdout))
check(os.path.getsize(car) > 0, "the CAR is written")
with open(os.path.join(runs, ".exports.jsonl")) as f:
    records = [json.loads(line) for line in f]
check_eq(len(records), 1, "one export record")
rec = records[0]
check_eq((rec["kind"], rec["ref"], rec["profile"], rec["encrypted"]),
         ("car", cid, "kubo-cid-v1", False), "the record's kind, ref, profile, encryption")
summary = json.load(open(os.path.join(folder, "summary.json")))
check_eq(rec["run_id"], summary["run"]["id"], "the record names the run")
check(rec.get("operator") and rec.get("time", "").endswith("Z"), "operator and time recorded",
      str(rec))
check_eq(rec["file"], os.path.realpath(car), "the record names the CAR file")
after = {n: open(os.path.join(folder, n), "rb").read() for n in os.listdir(folder)}
check(after == before, "the run folder is left as it was (its manifest covers it)")
r = run(["verify", folder])
check_eq(r.returncode, 0, "the run folder still verifies: " + r.stderr)

# The same folder, the same CID (a second export: a second record).
r2 = run(["export", folder, "--car", os.path.join(tmp, "again.car")])
check_eq(r2.stdout.strip(), cid, "exporting twice gives the same CID")
check(open(car, "rb").read() == open(os.path.join(tmp, "again.car"), "rb").read(),
      "and the same CAR, byte for byte")
check_eq(len(open(os.path.join(runs, ".exports.jsonl")).readlines()), 2, "two records")

# Verify the CAR; import it back; verify the folder against the CID.
r = run(["verify", car])
check_eq(r.returncode, 0, "verify FILE.car: " + r.stderr)
check(cid in r.stdout and "every hash and link intact" in r.stdout, "verify names the root",
      r.stdout)
back = os.path.join(tmp, "elsewhere", "r1")
os.makedirs(os.path.dirname(back))
r = run(["import", car, back])
check_eq(r.returncode, 0, "import FILE.car DIR: " + r.stderr)
check("manifest hashes and audit chain intact" in r.stdout, "import verifies it as a run",
      r.stdout)
check(same_tree(folder, back), "the imported folder is byte-identical")
r = run(["verify", back])
check_eq(r.returncode, 0, "tide verify DIR on the imported folder: " + r.stderr)
r = run(["verify", back, "--cid", cid])
check_eq(r.returncode, 0, "verify DIR --cid CID: " + r.stderr)
# Portable: in its new place, with an empty environment, the imported folder verifies, its
# report re-renders (byte-identical: the CID still holds).
from tidetest import TIDE
for args in (["verify", "r1"], ["report", "r1"], ["verify", "r1", "--cid", cid]):
    p = subprocess.run(["env", "-i", os.path.abspath(TIDE), *args], cwd=os.path.dirname(back),
                       capture_output=True, text=True, timeout=60)
    check_eq(p.returncode, 0, "env -i tide %s in another folder: %s" % (" ".join(args), p.stderr))
r = run(["import", car, back])
check_eq(r.returncode, 2, "import into a folder that is not empty is refused (2)")
check(r.stderr.count("\n") == 1 and "not an empty folder" in r.stderr,
      "one line says why", r.stderr)

# A flipped byte in the CAR: verify and import fail, naming the block.
data = bytearray(open(car, "rb").read())
data[len(data) // 2] ^= 0x01
bad = os.path.join(tmp, "bad.car")
open(bad, "wb").write(bytes(data))
r = run(["verify", bad])
check_eq(r.returncode, 99, "verify of a CAR with a flipped byte fails (99)")
check(r.stderr.startswith("tide: verify") and "block baf" in r.stderr and
      r.stderr.count("\n") == 1, "one line naming the block", r.stderr)
r = run(["import", bad, os.path.join(tmp, "from-bad")])
check_eq(r.returncode, 99, "import of a corrupt CAR fails (99)")
check(not os.path.exists(os.path.join(tmp, "from-bad")), "nothing is written from it")
# A cut CAR: a missing block is named.
cut = os.path.join(tmp, "cut.car")
open(cut, "wb").write(bytes(open(car, "rb").read()[:-20]))
r = run(["verify", cut])
check_eq(r.returncode, 99, "verify of a cut CAR fails (99): " + r.stderr)

# A flipped byte in a folder: verify --cid fails, and the run check names the file.
copy = os.path.join(tmp, "copy")
shutil.copytree(folder, copy)
p = os.path.join(copy, "stats.csv")
data = bytearray(open(p, "rb").read())
data[0] ^= 0x01
open(p, "wb").write(bytes(data))
r = run(["verify", copy, "--cid", cid])
check_eq(r.returncode, 99, "verify --cid of a changed folder fails (99)")
check("the folder's CID is" in r.stderr and "stats.csv" in r.stderr, "it says so and names the file",
      r.stderr)
r = run(["export", copy, "--car", os.path.join(tmp, "changed.car")])
check_eq(r.returncode, 99, "a run folder that fails its check is not exported")
check(not os.path.exists(os.path.join(tmp, "changed.car")), "no CAR written for it")

# Bad usage: one line each, exit 2; nothing recorded.
cases = [
    (["export", folder], "no destination"),
    (["export", folder, "--car", os.path.join(folder, "in.car")], "inside the run folder"),
    (["export", folder, "--car"], "needs a FILE"),
    (["export", folder, "--bogus"], "unknown option"),
    (["export", tmp, "--car", os.path.join(tmp, "x.car")], "not a run folder"),
    (["verify", folder, "--cid", "QmNotV1"], "not a CIDv1"),
    (["import", car], "usage"),
]
for args, words in cases:
    r = run(args)
    check_eq(r.returncode, 2, " ".join(args[:1] + args[2:]) + ": exit 2")
    check(words in r.stderr and r.stderr.count("\n") == 1, "one line: " + words, r.stderr)
check(not os.path.exists(os.path.join(folder, "in.car")), "no CAR written inside the folder")
check_eq(len(open(os.path.join(runs, ".exports.jsonl")).readlines()), 2, "still two records")
r = run(["export", "--help"])
check(r.returncode == 0 and "--car FILE" in r.stdout and "--ipfs [URL]" in r.stdout,
      "tide export --help lists the destinations", r.stdout)
r = run(["import", "--help"])
check(r.returncode == 0 and "tide import FILE.car DIR" in r.stdout, "tide import --help", r.stdout)

# A CAR that cannot be written: exit 1, one line, no partial file left, nothing recorded.
r = run(["export", folder, "--car", os.path.join(tmp, "missing-dir", "x.car")])
check_eq(r.returncode, 1, "a CAR in a folder that does not exist: exit 1")
check("cannot write" in r.stderr and r.stderr.count("\n") == 1, "one line says why", r.stderr)
check(not os.path.exists(os.path.join(tmp, "missing-dir")), "nothing made for it")
# A symbolic link in a folder: refused by name (tide does not follow links out of a folder).
linked = os.path.join(tmp, "linked")
os.makedirs(linked)
os.symlink("/etc/passwd", os.path.join(linked, "passwd"))
r = run(["verify", linked, "--cid", cid])
check(r.returncode != 0 and "passwd" in r.stderr and "links" in r.stderr,
      "a symbolic link is refused, named", r.stderr)

# --ipfs to a port where nothing listens: exit 1, one line, nothing recorded.
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
dead = "http://127.0.0.1:%d" % s.getsockname()[1]
s.close()
r = run(["export", folder, "--ipfs", dead], timeout=60)
check_eq(r.returncode, 1, "push to a node that is not there fails (1)")
check("Couldn't connect" in r.stderr and r.stderr.count("\n") == 1, "one line says why",
      r.stderr)
check_eq(len(open(os.path.join(runs, ".exports.jsonl")).readlines()), 2, "nothing recorded")

# --encrypt-to: every file becomes FILE.age before it becomes content (crypto-shredding); the
# CAR holds no plaintext, its files open with Debian's age, the record says encrypted.
if shutil.which("age-keygen") and shutil.which("age"):
    key = os.path.join(tmp, "team.key")
    subprocess.run(["age-keygen", "-o", key], capture_output=True, timeout=30)
    recipient = subprocess.run(["age-keygen", "-y", key], capture_output=True, text=True,
                               timeout=30).stdout.strip()
    sealed_car = os.path.join(tmp, "sealed.car")
    r = run(["export", folder, "--car", sealed_car, "--encrypt-to", recipient], timeout=60)
    check_eq(r.returncode, 0, "encrypted CAR export " + r.stderr)
    blob = open(sealed_car, "rb").read()
    summary = open(os.path.join(folder, "summary.json"), "rb").read()
    check(summary[:200] not in blob, "the encrypted CAR holds no plaintext")
    rec = json.loads(open(os.path.join(runs, ".exports.jsonl")).readlines()[-1])
    check(rec["encrypted"] is True and rec["recipients"] == [recipient], "encrypted record", rec)
    back = os.path.join(tmp, "sealed-back")
    r = run(["import", sealed_car, back], timeout=60)
    check_eq(r.returncode, 0, "the encrypted CAR imports " + r.stderr)
    check_eq(sorted(os.listdir(back)), sorted(f + ".age" for f in os.listdir(folder)
                                              if not f.startswith(".")), "FILE.age for each file")
    p = subprocess.run(["age", "-d", "-i", key, os.path.join(back, "summary.json.age")],
                       capture_output=True, timeout=30)
    check(p.returncode == 0 and p.stdout == summary, "age -d gives the run's summary.json back")
    r = run(["export", folder, "--car", os.path.join(tmp, "x.car"), "--encrypt-to", "age1nope"])
    check(r.returncode == 2 and r.stderr.count("\n") == 1, "a bad recipient: exit 2, one line",
          r.stderr)
else:
    check(False, "age and age-keygen (Debian package age) are needed for the encrypted export")
done()
