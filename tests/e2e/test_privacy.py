"""Privacy acceptance (issue 10): nothing sensitive anywhere a run writes or prints.

A small loopback server echoes e-mail addresses, JWTs, card numbers, IBANs and phone numbers
in response bodies, headers and error bodies, and hands out a token at /login. The scenario
requests URLs with e-mails in their path, logs the echoed values, names checks after them,
marks the login token secret with tide.secret, raises errors quoting them (one after 275 bytes
of padding: the old cut-before-redaction leak), and the host carries a password in its userinfo.
Then every file of the run folder, the process output and the payload a hook posted to the
server are searched: no value, and for the
secrets no 6-character piece of one, may appear; equal values get equal pseudonyms, different
ones different pseudonyms. A second run with options.privacy = false shows the detectors are
what hides the personal data (they do appear then), and that secrets are still redacted.
"""
import glob
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
import tidetest as t  # noqa: E402

EMAIL = "jane.doe@example.com"
EMAIL2 = "john.roe@example.org"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqYW5lIiwiaWF0IjoxNzMzNDU2Nzg5fQ."
       "Qm9ndXNTaWduYXR1cmVGb3JUZXN0c09ubHkx")
CARD = "4111111111111111"
CARD_SPACED = "4111 1111 1111 1111"
IBAN = "DE89370400440532013000"
PHONE = "+44 20 7946 0958"
API_KEY = "k3y-Zq8Wv2Rt5Yp"            # 15 characters, read through tide.env
HOST_PW = "Hunter2-S3cret"              # in --host's userinfo
RUNTIME_TOKEN = "rt-9fQ2xL7mB4nC8vD1"  # handed out by /login, marked with tide.secret

ECHO = "mail %s jwt %s card %s iban %s phone %s" % (EMAIL, JWT, CARD_SPACED, IBAN, PHONE)


HOOK_PAYLOADS = []  # what the scenario's hook sent out: the payload tide gave it


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/users/"):
            self.reply(404, "no orders for %s (card %s)" % (self.path, CARD))
        elif self.path.startswith("/echo"):
            self.reply(500, "error for %s: %s" % (self.path, ECHO),
                       [("X-Echo", JWT), ("Set-Cookie", "sid=%s; Path=/" % RUNTIME_TOKEN)])
        else:
            self.reply(200, "ok")

    def do_POST(self):
        if self.path == "/hook":
            n = int(self.headers.get("Content-Length", "0"))
            HOOK_PAYLOADS.append(self.rfile.read(n).decode("utf-8", "replace"))
            self.reply(200, "")
        elif self.path == "/login":
            self.reply(200, json.dumps({"token": RUNTIME_TOKEN}),
                       [("Authorization", "Bearer " + JWT)])
        else:
            self.reply(404, "")


SCENARIO = r'''
local http = require "tide.http"
local tide = require "tide"

options = { vus = 1, iterations = 3, privacy = PRIVACY }

local key = tide.env("API_KEY")

-- a hook that sends its payload elsewhere: what it gets must be clean already
tide.hooks.on("test_start", function(info) http.post("/hook", { json = info }) end)

function run()
  local token = http.post("/login").json().token
  tide.secret(token)
  for _, mail in ipairs({ "EMAIL", "EMAIL2", "EMAIL" }) do
    local r = http.get("/users/" .. mail .. "/orders")
    tide.check(r, { ["orders of " .. mail] = function(x) return x.status == 200 end })
  end
  local e = tide.group("echo for EMAIL", function()
    return http.get("/echo?email=EMAIL&card=CARD&iban=IBAN&token=" .. token)
  end)
  tide.log.info("echo said", e.body, e.headers["x-echo"], e.headers["set-cookie"])
  print("token", token, "cookie", e.headers["set-cookie"])
  tide.check(e, { ["card CARD of EMAIL"] = false })
  local v = tide.vu.iteration
  if v == 0 then error(string.rep("x", 275) .. key) end
  if v == 1 then error("login gave " .. token .. " for EMAIL, body " .. e.body) end
  tide.fail("phone PHONE iban IBAN jwt JWT")
end
'''


def scenario(privacy):
    s = SCENARIO.replace("PRIVACY", privacy)
    for k, v in (("EMAIL2", EMAIL2), ("EMAIL", EMAIL), ("CARD", CARD), ("IBAN", IBAN),
                 ("PHONE", PHONE), ("JWT", JWT)):
        s = s.replace(k, v)
    return s


def everything(out_dir, proc):
    """All text the run left: every file of its folder, its stdout and stderr."""
    texts = {"stdout": proc.stdout, "stderr": proc.stderr}
    for path in glob.glob(os.path.join(out_dir, "**"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                texts[os.path.relpath(path, out_dir)] = f.read().decode("utf-8", "replace")
    return texts


def pieces(secret, n=6):
    return {secret[i:i + n] for i in range(len(secret) - n + 1)}


def found(texts, needle):
    return [name for name, text in texts.items() if needle in text]


def run_once(tmp, base, privacy):
    d = os.path.join(tmp, "privacy-" + privacy)
    script = t.write(tmp, "scenario-%s.lua" % privacy, scenario(privacy))
    host = base.replace("http://", "http://admin:%s@" % HOST_PW)
    p = t.run(["run", script, "--host", host, "--out", d, "--threads", "1"],
              env={"API_KEY": API_KEY}, timeout=120)
    return d, p


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    tmp = t.tmpdir()

    d, p = run_once(tmp, base, "nil")
    t.check(os.path.exists(os.path.join(d, "summary.json")), "the run wrote its folder",
            p.stderr[-2000:])
    texts = everything(d, p)
    t.check(len(texts) > 4, "the run folder has files", str(sorted(texts)))
    t.check(len(HOOK_PAYLOADS) >= 1, "the hook sent its payload", str(HOOK_PAYLOADS)[:200])
    t.check(all("***@127.0.0.1" in x and HOST_PW[:6] not in x and "admin" not in x
                for x in HOOK_PAYLOADS), "hook payloads carry the redacted host",
            str(HOOK_PAYLOADS)[:400])
    texts["hook payloads"] = "\n".join(HOOK_PAYLOADS)

    # secrets: the value and every 6-character piece of it
    for name, secret in (("tide.env", API_KEY), ("--host userinfo", HOST_PW),
                         ("tide.secret", RUNTIME_TOKEN)):
        hits = {piece: found(texts, piece) for piece in pieces(secret)}
        hits = {k: v for k, v in hits.items() if v}
        t.check(not hits, "no piece of the %s secret anywhere" % name, str(hits)[:600])
    t.check(not found(texts, "admin:"), "no userinfo of --host anywhere",
            str(found(texts, "admin:")))

    # personal data and credentials from the server: not even a distinctive part
    for what, needle in (("e-mail", "jane.doe"), ("e-mail", "john.roe"), ("e-mail", "example.com"),
                         ("JWT", JWT[:20]), ("JWT signature", JWT[-20:]), ("card", CARD),
                         ("card", CARD_SPACED), ("card", "1111 1111"), ("IBAN", IBAN),
                         ("IBAN", IBAN[4:14]), ("phone", "7946 0958"), ("phone", "79460958")):
        t.check(not found(texts, needle), "no %s (%s) anywhere" % (what, needle),
                str(found(texts, needle)))

    # the pseudonyms are there, equal values grouped, different values apart
    summary = texts.get("summary.json", "")
    mails = set(re.findall(r"\[email:[0-9a-f]{8}\]", summary))
    t.check_eq(len(mails), 2, "two e-mail addresses, two pseudonyms in summary.json")
    t.check(re.search(r"::echo for \[email:[0-9a-f]{8}\]", summary) is not None,
            "a group named after an address: pseudonymised")
    series = set(re.findall(r"/users/(\[email:[0-9a-f]{8}\])/orders", summary))
    t.check_eq(len(series), 2, "one series per address: /users/[email:...]/orders")
    everywhere = set(re.findall(r"\[email:[0-9a-f]{8}\]", "".join(texts.values())))
    t.check_eq(everywhere, mails, "the same pseudonyms in every file and the output")
    t.check(re.search(r"\[card:[0-9a-f]{8}\]", summary) is not None, "card pseudonymised")
    t.check(re.search(r"\[iban:[0-9a-f]{8}\]", "".join(texts.values())) is not None,
            "IBAN pseudonymised")
    t.check("http://***@127.0.0.1" in "".join(texts.values()),
            "the host is recorded as http://***@host")
    s = json.loads(summary)
    t.check(s["metrics"].get("http_reqs", {}).get("count", 0) >= 9, "the requests ran",
            str(s["metrics"].get("http_reqs")))

    # sampled error bodies: filtered, capped, a few per kind of error
    samples = json.loads(texts.get("error_samples.json", "[]"))
    t.check(len(samples) >= 2, "error bodies sampled (404s and 500s)", str(samples)[:300])
    for c in samples:
        t.check(len(c["samples"]) <= 3, "at most 3 samples of %s" % c["name"])
        t.check(all(len(x.encode()) <= 512 for x in c["samples"]), "samples of 512 bytes at most")
    echo = [c for c in samples if c["name"] == "/echo"]
    t.check(echo and "[jwt:" in echo[0]["samples"][0] and "[iban:" in echo[0]["samples"][0],
            "the echoed body is kept with its values pseudonymised", str(echo)[:400])
    t.check(echo and echo[0]["count"] == 3, "every failure of the kind is counted")

    # --no-samples: none kept
    d3 = os.path.join(tmp, "nosamples")
    script = t.write(tmp, "scenario-nosamples.lua", scenario("nil"))
    p3 = t.run(["run", script, "--host", base, "--out", d3, "--threads", "1", "--no-samples",
                "--quiet"], env={"API_KEY": API_KEY}, timeout=120)
    t.check(os.path.exists(os.path.join(d3, "summary.json")), "the --no-samples run ran",
            p3.stderr[-800:])
    t.check(not os.path.exists(os.path.join(d3, "error_samples.json")),
            "--no-samples: no error_samples.json")

    # options.privacy = false: the same data shows (the filter is what hid it), secrets do not
    d2, p2 = run_once(tmp, base, "false")
    texts2 = everything(d2, p2)
    t.check(found(texts2, "jane.doe@example.com"), "privacy = false: e-mails are kept")
    for name, secret in (("tide.env", API_KEY), ("--host userinfo", HOST_PW),
                         ("tide.secret", RUNTIME_TOKEN)):
        hits = [piece for piece in pieces(secret) if found(texts2, piece)]
        t.check(not hits, "privacy = false: still no piece of the %s secret" % name, str(hits))
    # a bad options.privacy stops the run at start: one line, exit 2
    for bad, want in (('{ drop = { "([" } }', "options.privacy.drop[1]"),
                      ('{ dorp = {} }', "unknown key 'dorp'"),
                      ('"yes"', "options.privacy must be false or a table")):
        script = t.write(tmp, "bad.lua", 'options = { privacy = %s }\nfunction run() end\n' % bad)
        r = t.run(["run", script, "--host", base, "--out", os.path.join(tmp, "bad")], timeout=60)
        t.check_eq(r.returncode, 2, "exit 2 for options.privacy = %s" % bad)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        t.check(len(lines) == 1 and lines[0].startswith("tide: ") and want in lines[0],
                "one clear line for options.privacy = %s" % bad, r.stderr[-500:])
    srv.shutdown()
    t.done()


if __name__ == "__main__":
    main()
