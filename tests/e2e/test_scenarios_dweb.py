"""dweb.lua against a real IPFS node: js-ipfs 0.66.1 (npm `ipfs`, pinned in tests/ipfs/), run
offline on loopback.

The node gets a fresh repository (IPFS_PATH in a temp folder), its RPC API and gateway on free
127.0.0.1 ports, no swarm addresses, no bootstrap peers, no delegates, no MDNS, preload off,
and runs `jsipfs daemon --offline` under `node -r tests/ipfs/polyfill.cjs` (this Node lacks
Promise.withResolvers). dweb.lua then adds content under load, checks every CID the node
gives against the one it computes in Lua, reads everything back (cat) and, in verify(), the
fixtures again by cat and as a CAR (dag/export): exit 0, every check passing.

`npm ci` installs the node into tests/ipfs/node_modules when it is missing. Skipped (exit 77)
with the reason when node or npm are missing, the install fails (no registry), or the node
does not start within its time; every wait is bounded and the node is killed at the end.
"""
import shutil
import signal
import subprocess
import time
import tidetest
from promises import *
from tidetest import npm_ci

IPFS_DIR = os.path.join(SRC, "tests", "ipfs")
CLI = os.path.join(IPFS_DIR, "node_modules", "ipfs", "src", "cli.js")
POLYFILL = os.path.join(IPFS_DIR, "polyfill.cjs")

if shutil.which("node") is None or shutil.which("npm") is None:
    skip("node and npm are needed for the js-ipfs node (apt-get install nodejs npm)")
why = npm_ci(IPFS_DIR, ["node_modules/ipfs/src/cli.js"])
if why is not None:  # npm is a dependency of the build (the report's chart library)
    check(False, "npm ci in tests/ipfs", why)
    done()

repo = tmpdir("tide-ipfs-")
env = dict(os.environ, IPFS_PATH=repo)


def jsipfs(*args, timeout=120):
    return subprocess.run(["node", "-r", POLYFILL, CLI, *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


try:
    r = jsipfs("init", "--empty-repo")
except subprocess.TimeoutExpired:
    skip("jsipfs init did not finish within 120 s")
if r.returncode != 0:
    skip("jsipfs init failed: " + (r.stderr or r.stdout)[-500:])
# The repository's config, edited in place (one `jsipfs config` call takes seconds): loopback
# ports only, and nothing that would reach out (swarm, bootstrap, delegates, discovery).
api, gateway, rpc = free_port(), free_port(), free_port()
config = load_json(os.path.join(repo, "config"))
config["Addresses"].update({"API": "/ip4/127.0.0.1/tcp/%d" % api,
                            "Gateway": "/ip4/127.0.0.1/tcp/%d" % gateway,
                            "RPC": "/ip4/127.0.0.1/tcp/%d" % rpc,
                            "Swarm": [], "Announce": [], "Delegates": []})
config["Bootstrap"] = []
config.setdefault("Discovery", {})
config["Discovery"]["MDNS"] = {"Enabled": False, "Interval": 10}
config["Discovery"]["webRTCStar"] = {"Enabled": False}
write(repo, "config", json.dumps(config, indent=2))

log = open(os.path.join(repo, "daemon.log"), "w")
daemon = subprocess.Popen(["node", "-r", POLYFILL, CLI, "daemon", "--offline",
                           "--enable-preload=false"], env=env, stdout=log,
                          stderr=subprocess.STDOUT, start_new_session=True)
tidetest._procs.append(daemon)  # killed at exit if the test ends early


def stop_daemon():
    if daemon.poll() is None:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()


ready, deadline = False, time.time() + 120
while time.time() < deadline and not ready and daemon.poll() is None:
    time.sleep(0.5)
    ready = "Daemon is ready" in open(log.name).read()
if not ready:
    stop_daemon()
    skip("the js-ipfs daemon did not start within 120 s: " + open(log.name).read()[-800:])

url = "http://127.0.0.1:%d" % api
r, s = run_scenario("dweb.lua", url, args=["--vus", "3", "--duration", "5s"], timeout=180)
check_kept("dweb.lua on js-ipfs (offline)", r, s)
if s is not None:
    check(metric(s, "dweb_added", "count") > 0, "dweb.lua added content to the node")
    check_eq(metric(s, "dweb_wrong_cids", "count") or 0, 0, "every CID the node gave was right")
stop_daemon()
check(daemon.poll() is not None, "the node is stopped")
log.close()
done()
