"""tide's IPFS exports checked by independent implementations (docs/export.md):
- ipfs-car (npm, pinned in tests/ipfs): `roots` of tide's CAR of a real run folder equals
  tide's root CID; `unpack` (which checks every block's hash) gives the folder byte-identical;
- js-ipfs (npm ipfs 0.66.1) running offline on loopback, in a repo made for the test: `tide
  export --ipfs URL` pushes the CAR, the node's root equals tide's, the export is recorded; the
  node's `dag/export` of it verifies with tide and imports byte-identical; the node's `add`
  (cid-version=1, wrapped in a folder) of a folder holding a file of two levels (175 chunks)
  gives the CID `tide verify DIR --cid` accepts.
The node never leaves loopback (offline, no bootstrap, no discovery, no preload). Skips (77)
when Node.js is missing or the node cannot start here; every wait is bounded."""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid

from tidetest import SRC, check, check_eq, done, free_port, npm_ci, run, skip, tmpdir, write

here = os.path.join(SRC, "tests", "ipfs")  # ipfs-car and js-ipfs, pinned (shared with dweb)
if shutil.which("node") is None or shutil.which("npm") is None:
    skip("node and npm not found (apt-get install -y nodejs npm)")
why = npm_ci(here, ["node_modules/ipfs-car", "node_modules/ipfs/src/cli.js"])
if why is not None:
    check(False, "npm ci in tests/ipfs", why)
    done()
IPFS_CAR = os.path.join(here, "node_modules", ".bin", "ipfs-car")
JSIPFS = ["node", "-r", os.path.join(here, "polyfill.cjs"),
          os.path.join(here, "node_modules", "ipfs", "src", "cli.js")]

tmp = tmpdir()
env = dict(os.environ, IPFS_PATH=os.path.join(tmp, "ipfs-repo"))


def jsipfs(*args, timeout=120):
    return subprocess.run(JSIPFS + list(args), env=env, capture_output=True, text=True,
                          timeout=timeout)


# An offline node in a repo of its own, API on a free loopback port.
api_port = free_port()
setup = [
    ["init", "--profile=test"],
    ["config", "--json", "Addresses", json.dumps({
        "API": "/ip4/127.0.0.1/tcp/%d" % api_port,
        "Gateway": "/ip4/127.0.0.1/tcp/%d" % free_port(),
        "RPC": "/ip4/127.0.0.1/tcp/%d" % free_port(),
        "Swarm": ["/ip4/127.0.0.1/tcp/0"], "Announce": [], "NoAnnounce": [], "Delegates": []})],
    ["config", "--json", "Bootstrap", "[]"],
    ["config", "--json", "Discovery", json.dumps({"MDNS": {"Enabled": False},
                                                   "webRTCStar": {"Enabled": False}})],
]
for args in setup:
    r = jsipfs(*args)
    if r.returncode != 0:
        skip("jsipfs %s failed here: %s" % (args[0], (r.stderr or r.stdout)[-300:]))
log = open(os.path.join(tmp, "daemon.log"), "w+")
daemon = subprocess.Popen(JSIPFS + ["daemon", "--offline", "--no-enable-preload"], env=env,
                          stdout=log, stderr=subprocess.STDOUT)


def stop_daemon():
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGINT)
        try:
            daemon.wait(20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


deadline = time.time() + 120
ready = False
while time.time() < deadline and daemon.poll() is None and not ready:
    time.sleep(0.5)
    log.seek(0)
    ready = "Daemon is ready" in log.read()
if not ready:
    stop_daemon()
    log.seek(0)
    skip("the js-ipfs daemon did not start within 120 s: " + log.read()[-400:])
API = "http://127.0.0.1:%d" % api_port

try:
    # A real run folder.
    runs = os.path.join(tmp, "runs")
    scenario = write(tmp, "s.lua", """
local http = require "tide.http"
options = { vus = 2, iterations = 20 }
function run() http.get("/health") end
""")
    folder = os.path.join(runs, "smoke")
    r = run(["run", scenario, "--target", "--quiet", "--out", folder], timeout=60)
    check_eq(r.returncode, 0, "the run passes: " + r.stderr)

    # ipfs-car reads tide's CAR: same root, unpacked byte-identical.
    car = os.path.join(tmp, "r1.car")
    r = run(["export", folder, "--car", car], timeout=60)
    check_eq(r.returncode, 0, "export --car: " + r.stderr)
    cid = r.stdout.strip()
    r = subprocess.run([IPFS_CAR, "roots", car], capture_output=True, text=True, timeout=60)
    check_eq(r.stdout.strip(), cid, "ipfs-car roots equals tide's root CID")
    unpacked = os.path.join(tmp, "unpacked")
    r = subprocess.run([IPFS_CAR, "unpack", car, "--output", unpacked], capture_output=True,
                       text=True, timeout=60)
    check_eq(r.returncode, 0, "ipfs-car unpack (every block's hash checked): " + r.stderr[-500:])
    r = subprocess.run(["diff", "-r", folder, unpacked], capture_output=True, text=True,
                       timeout=60)
    check_eq(r.returncode, 0, "diff -r of the run folder and ipfs-car's unpack: " + r.stdout)
    # ... and refuses a corrupt one, as tide does.
    data = bytearray(open(car, "rb").read())
    data[-10] ^= 1
    bad = os.path.join(tmp, "bad.car")
    open(bad, "wb").write(bytes(data))
    r = subprocess.run([IPFS_CAR, "unpack", bad, "--output", os.path.join(tmp, "bad")],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0, "ipfs-car refuses the CAR with a flipped byte too")

    # Push to the node: its root equals tide's, recorded (docs/export.md's command, as printed
    # there but for the node's port).
    r = run(["export", "runs/smoke", "--ipfs", API], timeout=120, cwd=tmp)
    check_eq(r.returncode, 0, "export --ipfs URL: " + r.stderr)
    check_eq(r.stdout.strip(), cid, "the pushed root is tide's CID")
    recs = [json.loads(line) for line in open(os.path.join(runs, ".exports.jsonl"))]
    check_eq([(x["kind"], x["ref"]) for x in recs], [("car", cid), ("ipfs", cid)],
             "both exports recorded")
    check_eq(recs[-1].get("url"), API, "the record names the node")
    req = urllib.request.Request(API + "/api/v0/pin/ls?cid-base=base32&arg=" + cid,
                                 method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        pins = resp.read().decode()
    check(cid in pins, "the node pins the root", pins)

    # What the node holds: dag/export of the root, verified and imported by tide.
    req = urllib.request.Request(API + "/api/v0/dag/export?arg=" + cid, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        exported = resp.read()
    node_car = os.path.join(tmp, "node.car")
    open(node_car, "wb").write(exported)
    r = run(["verify", node_car])
    check_eq(r.returncode, 0, "tide verify of the node's dag/export: " + r.stderr)
    check(cid in r.stdout, "with the same root", r.stdout)
    back = os.path.join(tmp, "from-node")
    r = run(["import", node_car, back])
    check_eq(r.returncode, 0, "tide import of the node's dag/export: " + r.stderr)
    r = subprocess.run(["diff", "-r", folder, back], capture_output=True, text=True, timeout=60)
    check_eq(r.returncode, 0, "the node's content equals the run folder: " + r.stdout)

    # A file of two levels (175 chunks: one full node of 174 leaves, then a second): js-ipfs
    # computes the CID with the same parameters; tide agrees.
    big = os.path.join(tmp, "big")
    os.makedirs(big)
    with open(os.path.join(big, "data.bin"), "wb") as f:
        block = bytes(i % 251 for i in range(65536))
        for i in range(175 * 4):
            f.write(block[i % 7:] + block[:i % 7])
        f.write(b"tail!")
    write(big, "note.txt", "two levels\n")
    boundary = uuid.uuid4().hex
    body = b""
    for name in sorted(os.listdir(big)):
        body += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name)).encode()
        body += open(os.path.join(big, name), "rb").read() + b"\r\n"
    body += ("--%s--\r\n" % boundary).encode()
    req = urllib.request.Request(
        API + "/api/v0/add?cid-version=1&only-hash=true&wrap-with-directory=true&cid-base=base32",
        data=body, method="POST",
        headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    with urllib.request.urlopen(req, timeout=240) as resp:
        lines = [json.loads(x) for x in resp.read().decode().splitlines() if x.strip()]
    theirs = [x["Hash"] for x in lines if x.get("Name") == ""]
    check_eq(len(theirs), 1, "js-ipfs add (wrapped in a folder) answers the folder's CID")
    theirs = theirs[0] if theirs else ""
    r = run(["verify", big, "--cid", theirs], timeout=120)
    check_eq(r.returncode, 0, "tide's CID of a two-level file equals js-ipfs's: " + r.stderr)
finally:
    stop_daemon()
done()
