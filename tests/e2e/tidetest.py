"""Helpers for tide's end-to-end tests: run the real binary against real servers on loopback.

Every server binds 127.0.0.1 on a free port; every run has a timeout; nothing is left running.
"""
import atexit
import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# tide honours the proxy environment variables (docs/http.md#proxies): a machine's proxy must
# not carry the tests' loopback traffic, so every process a test starts runs without them
# (a test of proxies sets its own).
for _var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
             "no_proxy", "NO_PROXY"):
    os.environ.pop(_var, None)

TIDE = os.environ.get("TIDE_BIN", "build/tide")
SRC = os.environ.get("TIDE_SOURCE_DIR", os.getcwd())
_procs = []
failures = 0
checks = 0


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_cleanup)


def tmpdir(prefix="tide-e2e-"):
    base = os.environ.get("TIDE_TEST_TMP")
    if base:
        os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=base)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_target(*args):
    """Starts `tide target` on a free loopback port; returns (process, base_url)."""
    p = subprocess.Popen([TIDE, "target", "--port", "0", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    _procs.append(p)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = p.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)", line or "")
        if m:
            return p, m.group(1)
        if p.poll() is not None:
            break
    raise RuntimeError("tide target did not start: " + (line or ""))


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def signal_and_wait(p, sig=signal.SIGINT, timeout=30):
    """Sends 'sig' to a running tide (as Ctrl-C would) and waits for it to end, at most
    'timeout' s (then it is killed, so a test never hangs); returns (stdout, stderr)."""
    p.send_signal(sig)
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.communicate()


def run(args, timeout=120, cwd=None, env=None, input=None):
    """Runs tide with args; returns CompletedProcess (stdout/stderr as text)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([TIDE, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=e, input=input)


def http_json(url, method="GET", body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def load_json(path):
    with open(path) as f:
        return json.load(f)


def load_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def write(dirpath, name, text):
    path = os.path.join(dirpath, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def self_signed_cert(dirpath):
    """A self-signed certificate for localhost and 127.0.0.1 made by openssl in 'dirpath' (valid
    2 days); returns (cert path, key path, openssl's error text or "" when it worked)."""
    cert, key = os.path.join(dirpath, "cert.pem"), os.path.join(dirpath, "key.pem")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                           key, "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                           "subjectAltName=DNS:localhost,IP:127.0.0.1"], capture_output=True,
                          text=True)
    return cert, key, "" if made.returncode == 0 else (made.stderr or "openssl failed")[-500:]


def check(cond, what, detail=""):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL: %s %s" % (what, detail), file=sys.stderr)
    return cond


def check_eq(got, want, what):
    return check(got == want, what, "(got %r, want %r)" % (got, want))


def metric(summary, name, field):
    return summary["metrics"].get(name, {}).get(field)


def npm_ci(folder, needs, timeout=1500):
    """Installs a test folder's pinned npm packages (npm ci) unless every path in 'needs'
    (relative to the folder) exists. Tests that share a folder may run at once (ctest -j):
    an exclusive lock on the folder's package-lock.json makes one install and the others wait.
    Returns None when installed, else why not."""
    import fcntl
    paths = [os.path.join(folder, n) for n in needs]
    with open(os.path.join(folder, "package-lock.json")) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all(os.path.exists(x) for x in paths):
            return None
        print("installing npm packages (npm ci in %s)" % folder, flush=True)
        try:
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                               cwd=folder, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "npm ci in %s did not finish within %d s" % (folder, timeout)
        if r.returncode != 0 or not all(os.path.exists(x) for x in paths):
            return "npm ci in %s failed (is the npm registry reachable?): %s" % (
                folder, (r.stderr or r.stdout)[-1500:])
    return None


SKIPPED = 77  # ctest's SKIP_RETURN_CODE for the e2e tests (tests/e2e/tests.cmake)


def skip(reason):
    """Ends a test that cannot run here: prints why and exits 77, which ctest shows as
    "Skipped" (not as passed). Call it before any check; a test that has already checked
    something and then cannot go on is a failure, not a skip."""
    if checks:
        check(False, "skip() after %d checks" % checks, reason)
        done()
    print("skipped: " + reason)
    sys.stdout.flush()
    sys.exit(SKIPPED)


def done():
    print("%d passed, %d failed" % (checks - failures, failures))
    sys.exit(1 if failures else 0)
