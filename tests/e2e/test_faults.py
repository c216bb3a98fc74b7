"""The fault suite (issue 15): each classic HTTP failure, served by one `tide target` through its
GET /_fault/<kind> routes (docs/target.md#fault-routes) or made here (a name that cannot
resolve, a closed port, a TLS server with a self-signed certificate). For each: the error code
and error text tide reports (docs/scenario-api.md "Error codes"), tide's request count equal to
what the server received, the peak RSS of the tide process under a documented bound, the exit
code, and the run folder written; every run bounded in time. docs/reliability.md#the-fault-suite
lists the same table. Transport-neutral: codes are exact, error texts are matched by meaning."""
import os
import re
import socket
import ssl
import subprocess
import threading
import time
from tidetest import *

work = tmpdir()
target, base = start_target()
RSS_BOUND_MB = 256  # docs/reliability.md
SANITIZED = "libasan" in subprocess.run(["ldd", TIDE], capture_output=True, text=True).stdout
N = 10  # requests per fault (2 VUs, 5 each)


def run_measured(args, timeout=90):
    """Runs tide; returns (exit code, stderr, peak RSS in MB from the child's own rusage,
    timed out?). The run is killed at 'timeout' s, so a hang fails instead of blocking."""
    p = subprocess.Popen([TIDE, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    err = []
    reader = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
    reader.start()
    deadline, timed_out = time.time() + timeout, False
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid != 0:
            break
        if time.time() > deadline:
            p.kill()
            pid, status, usage = os.wait4(p.pid, 0)
            timed_out = True
            break
        time.sleep(0.05)
    p.returncode = os.waitstatus_to_exitcode(status)
    reader.join(10)
    return p.returncode, "".join(err), usage.ru_maxrss // 1024, timed_out


def script(name, url, opts="{}"):
    return write(work, name + ".lua", r'''
local http = require "tide.http"
function run()
  local r = http.get("%s", %s)
  print("FAULT", r.status, r.error_code, #r.body, tostring(r.truncated), r.error)
end
''' % (url, opts))


def stats_reset():
    http_json(base + "/_stats/reset", method="POST")


def server_count():
    return http_json(base + "/_stats")["total_requests"]


def fault(name, url, code, text, opts="{}", rc=99, server=None, per_request=1, timeout=90,
          kind=None):
    """One fault: N requests to 'url'; 'code' and 'text' (a regex) expected in every result
    (code 0: a response, whose status 'text' then is); 'kind' (default: 'text'), a regex for
    the failure's group in summary.json; 'server()' gives what the server received, which
    must be N * per_request."""
    stats_reset()
    out = os.path.join(work, "out-" + name)
    s = script(name, url, opts)
    rc_got, err, peak, timed_out = run_measured(
        ["run", s, "--vus", "2", "--iterations", str(N), "--quiet", "--out", out], timeout)
    check(not timed_out, "%s: the run ends by itself" % name)
    check_eq(rc_got, rc, "%s: exit code" % name)
    if not SANITIZED:
        check(peak < RSS_BOUND_MB, "%s: peak RSS under %d MB" % (name, RSS_BOUND_MB),
              "%d MB" % peak)
    lines = [l.split("\t") for l in err.splitlines() if l.startswith("FAULT\t")]
    check_eq(len(lines), N, "%s: every request returned to the script" % name)
    for l in lines:
        l += [""] * (6 - len(l))  # FAULT, status, error_code, #body, truncated, error
        if code == 0:
            ok = l[2] == "nil" and re.search(text, l[1]) is not None
        else:
            ok = l[1] == "0" and l[2] == str(code) and re.search(text, l[5], re.I) is not None
        if not check(ok, "%s: error %s /%s/" % (name, code, text), l):
            break
    check(all(len(l) == 6 for l in lines), "%s: the error is one line" % name)
    summ_path = os.path.join(out, "summary.json")
    if not check(os.path.exists(summ_path) and os.path.exists(os.path.join(out, "report.html")),
                 "%s: the run folder is written" % name):
        return lines
    summ = load_json(summ_path)
    check_eq(metric(summ, "http_reqs", "count"), N, "%s: every request counted" % name)
    if server is not None:
        check_eq(server(), N * per_request, "%s: the server received what tide counted" % name)
    if code != 0:
        check_eq(metric(summ, "http_req_failed", "passes"), N, "%s: every request failed" % name)
        errs = summ.get("errors", [])
        check_eq(sum(e.get("occurrences", 0) for e in errs), N,
                 "%s: failures grouped in summary.json errors" % name)
        check(all(re.search(kind or text, e["error"], re.I) for e in errs),
              "%s: summary.json names the error" % name, [e["error"] for e in errs])
    return lines


F = base + "/_fault/"
fault("bad-status", F + "bad-status", 1500,
      r"weird server reply|unsupported protocol|HTTP version|status line|HTTP/0\.9",
      server=server_count)
fault("truncated", F + "truncated", 1000, r"closed with .* remaining|truncated|partial",
      server=server_count)
fault("bad-chunked", F + "bad-chunked", 1220, r"chunk", server=server_count,
      kind=r"chunk|receiving data")
fault("reset", F + "reset", 1220, r"reset|recv failure|receiv", server=server_count)
fault("empty", F + "empty", 1220, r"empty reply|without a response", server=server_count,
      kind=r"empty|returned nothing|without a response")
fault("stall", F + "stall", 1050, r"time", opts='{ timeout = "500ms" }', server=server_count)
fault("slow-timeout", F + "slow-body?ms=3000", 1050, r"time", opts='{ timeout = "500ms" }',
      server=server_count)
# a slow body that arrives in time: a success, whose time shows in http_req_receiving
lines = fault("slow-body", F + "slow-body?ms=600&bytes=2000", 0, r"^200$", rc=0,
              server=server_count)
check(all(l[3] == "2000" for l in lines), "slow-body: the whole body arrives", lines[:1])
summ = load_json(os.path.join(work, "out-slow-body", "summary.json"))
check(metric(summ, "http_req_receiving", "min") >= 400, "slow-body: the time is in receiving",
      metric(summ, "http_req_receiving", "min"))
fault("redirect-loop", F + "redirect-loop", 1400, r"redirect", opts="{ redirects = 3 }",
      server=server_count, per_request=4)  # docs/metrics.md: a chain counts as one request
# a 1 GiB gzip bomb: tide does not decode bodies (no Accept-Encoding), so it keeps the ~1 MiB
# sent; whatever a transport does, the body kept stays within max_body and RSS bounded
lines = fault("gzip-bomb", F + "gzip-bomb?mb=1024", 0, r"^200$", rc=0, server=server_count)
check(all(0 < int(l[3]) <= 16 << 20 for l in lines), "gzip-bomb: the body kept is bounded",
      lines[:1])
fault("header-line", F + "header-line?kb=1024", 1000, r"header too large", server=server_count)
fault("many-headers", F + "many-headers?n=100000", 1000, r"header too large",
      server=server_count)

# --- DNS failure: a label of 64 characters cannot be put in a DNS query (RFC 1035 allows 63),
# so the C library refuses the name itself and nothing is sent to the configured DNS server
# (checked with strace when it is installed) ---
bad_name = "a" * 64 + ".invalid"
fault("dns", "http://%s/health" % bad_name, 1100, r"resolve")
if subprocess.run(["which", "strace"], capture_output=True).returncode == 0:
    s = script("dns-once", "http://%s/health" % bad_name)
    tr = os.path.join(work, "dns.strace")
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmmsg", "-o", tr, TIDE,
                    "run", s, "--iterations", "1", "--quiet", "--out",
                    os.path.join(work, "dns-once")], capture_output=True, timeout=60)
    with open(tr) as f:
        check("htons(53)" not in f.read(), "dns: no query leaves the machine")
else:
    print("note: strace missing; 'no DNS query sent' not checked")

# --- refused: a loopback port nobody listens on ---
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
closed_port = sock.getsockname()[1]
sock.close()
fault("refused", "http://127.0.0.1:%d/health" % closed_port, 1212, r"connect|refused")

# --- TLS with a certificate nobody trusts (self-signed, made here) ---
key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                       "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                      capture_output=True, text=True, timeout=60)
check(made.returncode == 0, "openssl made a self-signed certificate", made.stderr[-300:])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
tls_listener = socket.create_server(("127.0.0.1", 0))
tls_port = tls_listener.getsockname()[1]
handshakes = [0]


def tls_serve():
    while True:
        try:
            conn, _ = tls_listener.accept()
        except OSError:
            return
        handshakes[0] += 1
        conn.settimeout(5)
        try:
            with ctx.wrap_socket(conn, server_side=True) as c:
                c.recv(1024)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except (OSError, ssl.SSLError):
            conn.close()


threading.Thread(target=tls_serve, daemon=True).start()
fault("tls-self-signed", "https://127.0.0.1:%d/" % tls_port, 1300, r"certificate|SSL|TLS",
      server=lambda: handshakes[0])

tls_listener.close()
stop(target)
done()
