"""The shipped plugins (plugins/, examples/plugins/ipfs_sync.lua) deliver to loopback
receivers: notify in its four formats (generic JSON, Slack, Teams, Matrix) and only on
failure when asked; audit_forward as RFC 5424 syslog over TCP and UDP and as JSON lines; slo's
thresholds fail a run that burns its error budget, with its report section; ipfs_sync posts
the run folder to a Kubo-style /api/v0/add. A secret read with tide.env never reaches any
receiver (the payloads pass the privacy filter)."""
import os
import re
import time
from tidetest import *
from receiver import HTTPReceiver, TCPReceiver, UDPReceiver

target, url = start_target()
work = tmpdir()
PLUGINS = os.path.join(SRC, "plugins")
SECRET = "plugin-secret-value-77"
env = {"TIDE_PLUGIN_PATH": PLUGINS, "SHOP_SECRET": SECRET}


def scenario(name, plugins, failing=False):
    return write(work, name, """
local http = require "tide.http"
local tide = require "tide"
local secret = tide.env("SHOP_SECRET")
options = { iterations = 6, plugins = %s }
function run()
  local res = http.get(%s)
  tide.check(res, { ["ok for " .. secret] = function(r) return r.status == 200 end })
end
""" % (plugins, '"/status/503"' if failing else '"/health"'))


# --- notify: four presets ---
recv = HTTPReceiver()
for preset in ["json", "slack", "teams", "matrix"]:
    before = len(recv.requests)
    s = scenario("notify_%s.lua" % preset, """{ notify = { url_env = "CHAT_URL",
      preset = "%s", token_env = "CHAT_TOKEN" } }""" % preset, failing=True)
    r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "n_" + preset)],
            env=dict(env, CHAT_URL=recv.url + "/hook/" + preset, CHAT_TOKEN="tok-abc-123"))
    check_eq(r.returncode, 99, "notify %s: the failing run's exit code" % preset)
    got = recv.requests[before:]
    check_eq(len(got), 1, "notify %s: one message at test_end" % preset)
    if not got:
        continue
    q = got[0]
    body = json.loads(q["body"])
    if preset == "json":
        check(q["method"] == "POST" and body["event"] == "test_end" and
              body["status"] == "failed" and body["exit_code"] == 99, "json preset body", body)
        check(any("***" in c for c in body["failed_checks"]), "json: check name redacted", body)
    elif preset == "slack":
        check(body["text"].startswith("tide run ") and "failed (exit 99)" in body["text"] and
              body["blocks"][0]["type"] == "section", "slack preset body", body)
    elif preset == "teams":
        a = body["attachments"][0]
        check(body["type"] == "message" and
              a["contentType"] == "application/vnd.microsoft.card.adaptive" and
              a["content"]["type"] == "AdaptiveCard" and
              "failed" in a["content"]["body"][1]["text"], "teams preset body", body)
    else:
        check(q["method"] == "PUT" and
              q["path"].startswith("/hook/matrix/send/m.room.message/tide-") and
              body["msgtype"] == "m.text" and "failed" in body["body"] and
              q["headers"].get("authorization") == "Bearer tok-abc-123", "matrix preset",
              (q["method"], q["path"], body))

# only_failed: a passing run sends nothing; a failing one sends
before = len(recv.requests)
s = scenario("notify_ok.lua", '{ notify = { url_env = "CHAT_URL", only_failed = true } }')
r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "n_ok")],
        env=dict(env, CHAT_URL=recv.url + "/hook/ok"))
check_eq(r.returncode, 0, "only_failed: passing run exit")
check_eq(len(recv.requests), before, "only_failed: nothing sent for a passing run")
# chosen events: threshold_crossed as it happens
s = write(work, "notify_thr.lua", """
local http = require "tide.http"
options = { vus = 2, duration = "3s", thresholds = { http_req_failed = { "rate<0.5" } },
  plugins = { notify = { url_env = "CHAT_URL", preset = "slack",
                         events = { "threshold_crossed" } } } }
function run() http.get("/status/500") end
""")
r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "n_thr")],
        env=dict(env, CHAT_URL=recv.url + "/hook/thr"))
thr = [json.loads(q["body"]) for q in recv.requests if q["path"] == "/hook/thr"]
check(len(thr) == 1 and "threshold crossed http_req_failed rate<0.5" in thr[0]["text"],
      "notify on threshold_crossed", thr)
# a webhook answering 500: a warning, exit unchanged; required: exit 99
recv.status = 500
s = scenario("notify_500.lua", '{ notify = { url_env = "CHAT_URL" } }')
r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "n_500")],
        env=dict(env, CHAT_URL=recv.url + "/hook/x"))
check_eq(r.returncode, 0, "webhook 500: exit unchanged")
check("the webhook answered 500" in r.stderr, "webhook 500: warning line", r.stderr[-300:])
s = scenario("notify_req.lua", '{ notify = { url_env = "CHAT_URL", required = true } }')
r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "n_req")],
        env=dict(env, CHAT_URL=recv.url + "/hook/x"))
check_eq(r.returncode, 99, "required notify failing: exit 99")
check("required hook notify:test_end (test_end) failed" in r.stderr, "named", r.stderr[-300:])
check(SECRET.encode() not in recv.all_bytes(), "notify: no secret reaches the receiver")
recv.stop()

# --- audit_forward: syslog over TCP and UDP, JSON lines ---
tcp, udp, jl = TCPReceiver(), UDPReceiver(), TCPReceiver()
SYSLOG = re.compile(r'^<(\d+)>1 (\S+) tide tide - (\w+) \[tide@32473 event="(\w+)" run="([^"]*)"\] (\{.*\})$',
                    re.S)
for name, cfg in [("tcp", '{ url = "tcp://127.0.0.1:%d" }' % tcp.port),
                  ("udp", '{ url = "udp://127.0.0.1:%d" }' % udp.port),
                  ("jsonl", '{ url = "tcp://127.0.0.1:%d", format = "jsonl" }' % jl.port)]:
    s = scenario("audit_%s.lua" % name, "{ audit_forward = %s }" % cfg, failing=True)
    r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "a_" + name)],
            env=env)
    check_eq(r.returncode, 99, "audit_forward %s: exit code of the failing run" % name)
time.sleep(0.5)
msgs = []
for conn in tcp.data:  # octet counting: "LEN SP MSG"
    m = re.match(rb"^(\d+) ", conn)
    check(m is not None and int(m.group(1)) == len(conn) - len(m.group(0)),
          "tcp framing: octet count", conn[:80])
    if m:
        msgs.append(conn[len(m.group(0)):].decode())
events = [SYSLOG.match(x).group(3) if SYSLOG.match(x) else None for x in msgs]
check("test_start" in events and "test_end" in events and "check_failed" in events and
      None not in events, "syslog over TCP: RFC 5424 messages per event", msgs[:2])
end = [x for x in msgs if SYSLOG.match(x) and SYSLOG.match(x).group(3) == "test_end"]
if end:
    mm = SYSLOG.match(end[0])
    check_eq(int(mm.group(1)), 16 * 8 + 3, "test_end of a failed run: local0.err")
    check_eq(json.loads(mm.group(6))["run"]["status"], "failed", "syslog message holds the verdict")
uev = [SYSLOG.match(x.decode()).group(3) for x in udp.data if SYSLOG.match(x.decode())]
check("test_start" in uev and "test_end" in uev and len(uev) == len(udp.data),
      "syslog over UDP: one message per datagram", [x[:60] for x in udp.data[:3]])
lines = [json.loads(l) for conn in jl.data for l in conn.decode().splitlines()]
check("test_end" in [l["event"] for l in lines] and all("payload" in l for l in lines),
      "JSON lines over TCP", lines[:1])
allbytes = b"".join(tcp.data + udp.data + jl.data)
check(SECRET.encode() not in allbytes, "audit_forward: no secret reaches the collector")
check(b"***" in allbytes, "the secret was redacted, not dropped")
tcp.stop(), udp.stop(), jl.stop()

# --- slo: budget burnt -> thresholds fail, report section ---
s = write(work, "slo.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 20, plugins = { slo = { objectives = {
  { name = "availability", target = 99.5 }, { name = "fast", target = 95, latency_ms = 60000 } },
  windows = { { window = "2s", burn = 10 } } } } }
function run() http.get(tide.vu.iteration % 4 == 0 and "/status/500" or "/health") end
""")
out = os.path.join(work, "slo")
r = run(["run", s, "--host", url, "--quiet", "--out", out], env=env)
check_eq(r.returncode, 99, "slo: 25% errors against a 0.5% budget fails")
sj = load_json(os.path.join(out, "summary.json"))
exprs = {(t["metric"], t["expression"]): t["ok"] for t in sj["thresholds"]}
check(exprs.get(("http_req_failed", "rate<0.005")) is False, "slo: budget threshold failed",
      exprs)
check(("http_req_failed", "rate<0.05 over 2s") in exprs, "slo: burn-rate window threshold",
      exprs)
check(exprs.get(("http_req_duration", "p(95)<60000")) is True, "slo: latency objective", exprs)
sec = [x for x in sj.get("plugin_sections", []) if x["plugin"] == "slo"]
check(sec and "of the budget used" in json.dumps(sec[0]["rows"]), "slo: report section", sec)
check("Service level objectives" in open(os.path.join(out, "report.html")).read(),
      "slo: section in report.html")
s = write(work, "slo_ok.lua", """
local http = require "tide.http"
options = { iterations = 10, plugins = { slo = { objectives = { { target = 90 } } } } }
function run() http.get("/health") end
""")
r = run(["run", s, "--host", url, "--quiet", "--out", os.path.join(work, "slo_ok")], env=env)
check_eq(r.returncode, 0, "slo: within budget passes")


# --- ipfs_sync: the run folder to a Kubo-style /api/v0/add ---
def kubo_add(path, body):
    return 200, b""


ipfs = HTTPReceiver()
added = {}


def answer(path, body):
    if not path.startswith("/api/v0/add"):
        return 404, b"{}"
    boundary = None
    for q in ipfs.requests:
        ct = q["headers"].get("content-type", "")
        if "boundary=" in ct:
            boundary = ct.split("boundary=")[1].encode()
    lines = []
    for part in body.split(b"--" + boundary):
        if b"filename=" not in part:
            continue
        head, _, data = part.partition(b"\r\n\r\n")
        name = re.search(rb'filename="([^"]+)"', head).group(1).decode()
        if b"application/x-directory" in head:
            added.setdefault(name, None)
        else:
            added[name] = data[:-2]  # the CRLF before the next boundary
        lines.append(json.dumps({"Name": name, "Hash": "bafyFAKE" + str(len(lines)),
                                 "Size": "1"}).encode())
    return 200, b"\n".join(lines) + b"\n"


ipfs.answer = answer
s = write(work, "ipfs.lua", """
local http = require "tide.http"
options = { iterations = 3, plugins = { ipfs_sync = { api = "%s" } } }
function run() http.get("/health") end
""" % ipfs.url)
out = os.path.join(work, "ipfsrun")
r = run(["run", s, "--host", url, "--out", out, "--plugin",
         os.path.join(SRC, "examples", "plugins", "ipfs_sync.lua")], env=env)
check_eq(r.returncode, 0, "ipfs_sync run exit")
q = [x for x in ipfs.requests if x["path"].startswith("/api/v0/add")]
check(len(q) == 1 and "cid-version=1" in q[0]["path"] and "raw-leaves=true" in q[0]["path"],
      "one add with CIDv1 and raw leaves", [x["path"] for x in q])
files = sorted(f for f in os.listdir(out))
check_eq(sorted(k.split("/", 1)[1] for k in added if "/" in k), files,
         "every file of the folder was sent")
same = all(open(os.path.join(out, k.split("/", 1)[1]), "rb").read() == v
           for k, v in added.items() if v is not None)
check(same, "the bytes sent are the folder's")
check(re.search(r"ipfs_sync: run folder \S+ added as bafyFAKE0", r.stderr), "the CID is printed",
      r.stderr[-300:])
ipfs.stop()


# --- shop_checkout: the sector pack's scenario, checks, metrics and verify() ---
shop_target, shop_url = start_target()
out = os.path.join(work, "shop")
r = run(["run", os.path.join(PLUGINS, "shop_checkout", "scenario.lua"), "--host", shop_url,
         "--duration", "3s", "--quiet", "--out", out], env=env)
check_eq(r.returncode, 0, "shop_checkout pack passes against the built-in API")
sj = load_json(os.path.join(out, "summary.json"))
placed = metric(sj, "shop_orders", "count")
check(placed and placed > 0, "orders placed", placed)
vc = {c["name"]: c for c in sj["verify"]["checks"]}
check(vc.get("every order placed is stored once", {}).get("fails") == 0 and
      vc.get("stored orders have consistent totals", {}).get("fails") == 0,
      "verify(): the server holds every order, consistent", vc)
check(("checks{step:confirm}", "rate>0.99") in {(t["metric"], t["expression"])
                                                 for t in sj["thresholds"]},
      "the pack's threshold is honoured")
stored = http_json(shop_url + "/_stats")["items_per_tenant"].get("shop")
check_eq(stored, placed, "the server's count equals the orders placed")
# a server that drops writes: verify() catches it, the run fails
drop_target, drop_url = start_target("--drop-writes")
r = run(["run", os.path.join(PLUGINS, "shop_checkout", "scenario.lua"), "--host", drop_url,
         "--duration", "2s", "--quiet", "--out", os.path.join(work, "shopdrop")], env=env)
check_eq(r.returncode, 99, "dropped orders fail the run")
sj = load_json(os.path.join(work, "shopdrop", "summary.json"))
vc = {c["name"]: c for c in sj["verify"]["checks"]}
check(vc.get("every order placed is stored once", {}).get("fails") == 1,
      "verify() names the missing orders", vc)
stop(drop_target)
stop(shop_target)

stop(target)
done()
