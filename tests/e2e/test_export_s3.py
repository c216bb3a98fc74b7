"""tide export DIR --s3 against a local S3-compatible server (npm s3rver, pinned in
tests/s3/, started by tests/s3/server.js offline on 127.0.0.1 with a temporary folder): every
file of a real run folder is uploaded, listed back and re-downloaded byte-identical; with
--encrypt-to each object is FILE.age and opens with Debian's `age -d` to the original bytes;
--delete leaves nothing under the prefix; each export and deletion is a line of the runs
folder's .exports.jsonl; credentials never appear in any output or record; bad input exits 2
and a failing store exits 1, one line each.
s3rver checks the access key id but not SigV4 signatures: tests/unit/test_sigv4.c checks the
signer against AWS's examples, and here a small proxy re-checks every request tide sends with
its own SigV4 code (signature, signed headers, x-amz-content-sha256 = the body's SHA-256, and
Content-MD5 = the body's MD5, which a real S3 checks on arrival; s3rver does not).
Then every command of docs/export-s3.md runs as printed (the page's endpoint
http://127.0.0.1:9000 becomes this server, its example recipient the key the page's own
`tide keygen` made)."""
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import tidetest as t

HERE = os.path.join(t.SRC, "tests", "s3")
if not shutil.which("node") or not shutil.which("npm"):
    t.skip("node and npm not found (apt-get install nodejs npm)")
if not shutil.which("age"):
    t.skip("Debian's age is not installed (apt-get install age)")
if not os.path.isdir(os.path.join(HERE, "node_modules", "s3rver")):
    print("installing s3rver (npm ci in %s)" % HERE)
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                       capture_output=True, text=True, timeout=240)
    if p.returncode != 0:
        t.check(False, "npm ci in tests/s3", p.stderr[-2000:])
        t.done()

d = t.tmpdir("tide-s3-")
port = t.free_port()
KEY_ID, SECRET, TOKEN = "perf-writer", "tide-test-secret-0123456789", "tide-session-token-xyz"
os.makedirs(os.path.join(d, "store"))
server = subprocess.Popen(["node", os.path.join(HERE, "server.js"), str(port),
                           os.path.join(d, "store"), KEY_ID, "tide-runs", "perf-runs"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t._procs.append(server)
deadline = time.time() + 30
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.2)
ENDPOINT = "http://127.0.0.1:%d" % port
CREDS = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
NO_CREDS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}

# A real run folder: report/checkout.
target, url = t.start_target()
runs = os.path.join(d, "report")
run_dir = os.path.join(runs, "checkout")
r = t.run(["run", os.path.join(t.SRC, "scenarios", "hello.lua"), "--host", url, "--vus", "1",
           "--iterations", "3", "--out", run_dir, "--quiet"])
t.stop(target)
t.check_eq(r.returncode, 0, "the run that makes the folder")
files = sorted(os.path.relpath(os.path.join(root, f), run_dir)
               for root, _, names in os.walk(run_dir) for f in names if not f.startswith("."))
t.check("summary.json" in files and "manifest.json" in files, "run folder files", files)


def listing(bucket, prefix):
    """{key: (size, etag)} through the server's own ListObjectsV2, unsigned (s3rver allows)."""
    q = urllib.parse.urlencode({"list-type": "2", "prefix": prefix})
    with urllib.request.urlopen("%s/%s?%s" % (ENDPOINT, bucket, q), timeout=10) as resp:
        root = ET.fromstring(resp.read())
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    out = {}
    for c in root.iter(ns + "Contents"):
        out[c.find(ns + "Key").text] = (int(c.find(ns + "Size").text),
                                        c.find(ns + "ETag").text.strip('"'))
    return out


def fetch(bucket, key):
    with urllib.request.urlopen("%s/%s/%s" % (ENDPOINT, bucket, urllib.parse.quote(key)),
                                timeout=10) as resp:
        return resp.read()


def records():
    with open(os.path.join(runs, ".exports.jsonl")) as f:
        return [json.loads(line) for line in f]


class SigV4Checker(http.server.BaseHTTPRequestHandler):
    """Stands between tide and s3rver and checks, with its own SigV4 code (hashlib, hmac), that
    every request is signed with SECRET over host, x-amz-date and x-amz-content-sha256, and
    that x-amz-content-sha256 is the SHA-256 of the body sent; then forwards it."""
    failures = []
    seen = 0
    list_pages = 0

    def log_message(self, *args):
        pass

    def check(self, body):
        auth = self.headers.get("Authorization", "")
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$", auth)
        if not m:
            return "bad Authorization header"
        key_id, day, region, signed, sig = m.groups()
        names = signed.split(";")
        for need in ("host", "x-amz-content-sha256", "x-amz-date"):
            if need not in names:
                return "%s not signed" % need
        if self.headers.get("x-amz-security-token") and "x-amz-security-token" not in names:
            return "session token not signed"
        if self.command == "PUT":
            md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
            if "content-md5" not in names or self.headers.get("Content-MD5") != md5:
                return "no signed Content-MD5 equal to the body's MD5"
        payload = self.headers["x-amz-content-sha256"]
        if payload != hashlib.sha256(body).hexdigest():
            return "x-amz-content-sha256 is not the body's SHA-256"
        path, _, query = self.path.partition("?")
        pairs = sorted((urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                       for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True))
        creq = "\n".join([self.command, path, "&".join("%s=%s" % p for p in pairs),
                          "".join("%s:%s\n" % (n, " ".join(self.headers[n].split()))
                                  for n in names), signed, payload])
        date = self.headers["x-amz-date"]
        sts = "\n".join(["AWS4-HMAC-SHA256", date, "%s/%s/s3/aws4_request" % (day, region),
                         hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + SECRET).encode()
        for part in (day, region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        if hmac.new(k, sts.encode(), hashlib.sha256).hexdigest() != sig:
            return "signature does not match"
        return None

    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        SigV4Checker.seen += 1
        problem = self.check(body)
        if problem:
            SigV4Checker.failures.append("%s %s: %s" % (self.command, self.path, problem))
        if self.command == "GET" and "list-type=2" in self.path:
            return self.list_in_pages()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(self.command, self.path, body=body if body else None,
                     headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_DELETE = do_HEAD = forward

    def list_in_pages(self):
        """ListObjectsV2 in pages of 3 (s3rver fails on max-keys), so that tide must follow
        continuation tokens: the whole listing from s3rver, cut here."""
        SigV4Checker.list_pages += 1
        path, _, query = self.path.partition("?")
        q = dict(urllib.parse.parse_qsl(query))
        start = int(q.get("continuation-token", "tok-0")[4:])
        objs = sorted(listing(path.strip("/"), q.get("prefix", "")).items())
        page, more = objs[start:start + 3], start + 3 < len(objs)
        xml = ['<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
               'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>%s</Name>'
               '<KeyCount>%d</KeyCount><MaxKeys>3</MaxKeys><IsTruncated>%s</IsTruncated>'
               % (escape(path.strip("/")), len(page), "true" if more else "false")]
        for key, (size, etag) in page:
            xml.append("<Contents><Key>%s</Key><ETag>&quot;%s&quot;</ETag><Size>%d</Size>"
                       "</Contents>" % (escape(key), etag, size))
        if more:
            xml.append("<NextContinuationToken>tok-%d</NextContinuationToken>" % (start + 3))
        data = ("".join(xml) + "</ListBucketResult>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def no_secret(text, what):
    for s in (SECRET, TOKEN, KEY_ID):
        t.check(s not in text, "%s: no credential in it" % what, "found %s" % s[:4])


# Plain export: every file lands, lists back, re-downloads equal; the record.
r = t.run(["export", run_dir, "--s3", "s3://tide-runs/team/", "--s3-endpoint", ENDPOINT],
          env=CREDS)
t.check_eq(r.returncode, 0, "plain export exit code " + r.stderr)
t.check(r.stdout.startswith("s3://tide-runs/team/checkout/: %d objects" % len(files)),
        "plain export line", r.stdout)
objs = listing("tide-runs", "team/checkout/")
t.check_eq(sorted(objs), ["team/checkout/" + f for f in files], "objects listed")
for f in files:
    t.check(fetch("tide-runs", "team/checkout/" + f) == open(os.path.join(run_dir, f), "rb").read(),
            "re-downloaded %s equals the run's" % f)
rec = records()[-1]
t.check_eq((rec["run_id"], rec["kind"], rec["ref"], rec["encrypted"], rec["objects"]),
           ("checkout", "s3", "s3://tide-runs/team/checkout/", False, len(files)), "record")
t.check_eq(rec["bytes"], sum(os.path.getsize(os.path.join(run_dir, f)) for f in files),
           "record bytes")
t.check(not os.path.exists(os.path.join(run_dir, ".exports.jsonl")),
        "the run folder itself is untouched (record beside it)")
r2 = t.run(["verify", run_dir])
t.check_eq(r2.returncode, 0, "tide verify still passes after an export " + r2.stdout + r2.stderr)
no_secret(r.stdout + r.stderr, "plain export output")

# Temporary credentials (session token) and an empty prefix; export_done's hook
# (docs/extending.md#events-of-other-commands) prints what was exported.
hooks = t.write(d, "s3hooks.lua", """
local tide = require "tide"
tide.hooks.on("export_done", function(p) print("EXPORT_DONE " .. tide.json.encode(p)) end)
""")
r = t.run(["export", run_dir, "--s3", "s3://tide-runs", "--s3-endpoint", ENDPOINT + "/",
           "--s3-region", "eu-west-3", "--script", hooks], env=dict(CREDS, AWS_SESSION_TOKEN=TOKEN))
t.check_eq(r.returncode, 0, "export with a session token, no prefix " + r.stderr)
t.check("checkout/summary.json" in listing("tide-runs", "checkout/"), "no prefix: RUN/FILE keys")
no_secret(r.stdout + r.stderr, "session-token export output")
done = [json.loads(l.split("EXPORT_DONE ", 1)[1]) for l in (r.stdout + r.stderr).splitlines()
        if "EXPORT_DONE " in l]  # print() in a hook goes to stderr
ex = done[0]["exports"][0] if done and done[0].get("exports") else {}
t.check(len(done) == 1 and ex.get("kind") == "s3" and ex.get("ref") == "s3://tide-runs/checkout/"
        and ex.get("objects") == len(files) and
        sorted([f["name"] for f in done[0]["files"]] + ["manifest.json"]) == sorted(files) and
        ex.get("bytes") == sum(os.path.getsize(os.path.join(run_dir, f)) for f in files),
        "export_done: the S3 prefix, objects, keys and bytes", (done, r.stderr[-600:]))

# Encrypted export to two recipients: FILE.age objects, each opens with age -d.
keys = []
for name in ("a.key", "b.key"):
    subprocess.run(["age-keygen", "-o", os.path.join(d, name)], capture_output=True, timeout=30)
    keys.append(subprocess.run(["age-keygen", "-y", os.path.join(d, name)], capture_output=True,
                               text=True, timeout=30).stdout.strip())
r = t.run(["export", run_dir, "--s3", "s3://tide-runs/sealed", "--s3-endpoint", ENDPOINT,
           "--encrypt-to", keys[0], "--encrypt-to", keys[1]], env=CREDS)
t.check_eq(r.returncode, 0, "encrypted export exit code " + r.stderr)
t.check("(age-encrypted)" in r.stdout, "encrypted export line", r.stdout)
objs = listing("tide-runs", "sealed/checkout/")
t.check_eq(sorted(objs), ["sealed/checkout/%s.age" % f for f in files], "encrypted objects")
for f in files:
    blob = fetch("tide-runs", "sealed/checkout/%s.age" % f)
    plain = open(os.path.join(run_dir, f), "rb").read()
    t.check(blob.startswith(b"age-encryption.org/v1\n") and plain not in blob,
            "%s.age is ciphertext" % f)
    for k in ("a.key", "b.key"):
        p = subprocess.run(["age", "-d", "-i", os.path.join(d, k)], input=blob,
                           capture_output=True, timeout=30)
        t.check(p.returncode == 0 and p.stdout == plain, "age -d %s.age with %s" % (f, k),
                p.stderr.decode())
rec = records()[-1]
t.check(rec["encrypted"] is True and rec["recipients"] == keys, "encrypted record", rec)

# Delete: nothing left under the prefix; other prefixes untouched; recorded.
r = t.run(["export", run_dir, "--s3", "s3://tide-runs/team", "--s3-endpoint", ENDPOINT,
           "--delete"], env=CREDS)
t.check_eq(r.returncode, 0, "delete exit code " + r.stderr)
t.check("%d objects deleted, none left" % len(files) in r.stdout, "delete line", r.stdout)
t.check_eq(listing("tide-runs", "team/checkout/"), {}, "nothing left after delete")
t.check_eq(len(listing("tide-runs", "sealed/checkout/")), len(files), "other prefix kept")
rec = records()[-1]
t.check(rec.get("deleted") is True and rec["objects"] == len(files), "delete record", rec)

# The same flows through an independent SigV4 check (s3rver does not check signatures), with
# listings cut into pages of 3 and a run folder that also holds a sub-folder and a file name
# that needs encoding (space, '+', '&', non-ASCII).
checker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SigV4Checker)
threading.Thread(target=checker.serve_forever, daemon=True).start()
CHECKED = "http://127.0.0.1:%d" % checker.server_address[1]
odd_runs = os.path.join(d, "odd-runs")
odd_dir = os.path.join(odd_runs, "checkout 2")
shutil.copytree(run_dir, odd_dir)
os.makedirs(os.path.join(odd_dir, "notes"))
odd_name = "notes/a b+c&d été.txt"
with open(os.path.join(odd_dir, odd_name), "w") as f:
    f.write("odd\n")
for extra, env in (([], CREDS), (["--encrypt-to", keys[0]], dict(CREDS, AWS_SESSION_TOKEN=TOKEN)),
                   (["--delete"], CREDS)):
    r = t.run(["export", odd_dir, "--s3", "s3://tide-runs/signed", "--s3-endpoint", CHECKED,
               "--s3-region", "eu-central-1", *extra], env=env)
    t.check_eq(r.returncode, 0, "export %s through the SigV4 check %s" % (extra, r.stderr))
    if not extra:
        t.check(fetch("tide-runs", "signed/checkout 2/" + odd_name) == b"odd\n",
                "an encoded key lands under its own name")
        t.check_eq(len(listing("tide-runs", "signed/checkout 2/")), len(files) + 1,
                   "every object of the odd folder")
t.check_eq(listing("tide-runs", "signed/"), {}, "delete followed every page")
t.check(SigV4Checker.list_pages >= 3, "listings were paged", SigV4Checker.list_pages)
t.check_eq(SigV4Checker.failures, [], "every request correctly signed, body hash sent")
# The check itself catches a wrong signature (tide signing with another secret).
SigV4Checker.failures = []
t.run(["export", odd_dir, "--s3", "s3://tide-runs/signed", "--s3-endpoint", CHECKED],
      env=dict(CREDS, AWS_SECRET_ACCESS_KEY="another-secret-value"))
t.check(any("signature does not match" in f for f in SigV4Checker.failures),
        "the SigV4 check flags a request signed with another secret", SigV4Checker.failures)
checker.shutdown()
t.check(SigV4Checker.seen >= 2 * len(files) + 4, "requests seen by the SigV4 check",
        SigV4Checker.seen)

# Bad input: exit 2, one line; a failing store: exit 1, one line naming the error.
notrun = os.path.join(d, "notrun")
os.makedirs(notrun)
for args, env, code, what in (
        ([run_dir, "--s3", "s3://tide-runs/x", "--s3-endpoint", ENDPOINT], NO_CREDS, 2,
         "credentials missing"),
        ([notrun, "--s3", "s3://tide-runs/x", "--s3-endpoint", ENDPOINT], CREDS, 2,
         "not a run folder"),
        ([run_dir, "--s3", "http://tide-runs/x", "--s3-endpoint", ENDPOINT], CREDS, 2,
         "not an s3:// URL"),
        ([run_dir, "--s3", "s3://tide-runs/x", "--s3-endpoint", "ftp://x"], CREDS, 2,
         "not an http(s) endpoint"),
        ([run_dir, "--s3", "s3://tide-runs/x", "--s3-endpoint", ENDPOINT, "--encrypt-to",
          "age1nope"], CREDS, 2, "bad recipient"),
        ([run_dir, "--s3", "s3://tide-runs/x", "--s3-endpoint", ENDPOINT, "--bogus"], CREDS, 2,
         "unknown option"),
        ([run_dir, "--s3-endpoint", ENDPOINT], CREDS, 2, "no --s3"),
        ([run_dir, "--s3", "s3://no-such-bucket/x", "--s3-endpoint", ENDPOINT], CREDS, 1,
         "NoSuchBucket"),
        ([run_dir, "--s3", "s3://tide-runs/x", "--s3-endpoint",
          "http://127.0.0.1:%d" % t.free_port()], CREDS, 1, "store down")):
    r = t.run(["export", *args], env=env, timeout=60)
    t.check(r.returncode == code and r.stderr.startswith("tide: "), what,
            "exit %d: %s" % (r.returncode, r.stderr))
    if what == "NoSuchBucket":
        t.check("NoSuchBucket" in r.stderr, "the store's error code is named", r.stderr)
    if code == 2:
        t.check_eq(len(r.stderr.strip().splitlines()), 1, what + ": one line")
    no_secret(r.stdout + r.stderr, what)
no_secret(open(os.path.join(runs, ".exports.jsonl")).read(), ".exports.jsonl")

# docs/export-s3.md, every sh block as printed, in order, in a folder holding report/checkout.
docs = os.path.join(d, "docs-run")
os.makedirs(os.path.join(docs, "report"))
shutil.copytree(run_dir, os.path.join(docs, "report", "checkout"))
bindir = os.path.join(d, "bin")
os.makedirs(bindir)
os.symlink(os.path.abspath(t.TIDE), os.path.join(bindir, "tide"))
env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
page = open(os.path.join(t.SRC, "docs", "export-s3.md")).read()
shown_recipient = re.search(r"--encrypt-to (age1[a-z0-9]+)", page).group(1)
sh_blocks = re.findall(r"^```sh\n(.*?)^```", page, re.S | re.M)
t.check(len(sh_blocks) >= 5, "sh blocks in docs/export-s3.md", len(sh_blocks))
recipient, exports = None, ""
for body in sh_blocks:
    # one shell per block, as a reader would paste it; `export` lines carry over, as they do
    # in the reader's terminal
    exports += "".join(line + "\n" for line in body.splitlines() if line.startswith("export "))
    body = exports + body
    if recipient:
        body = body.replace(shown_recipient, recipient)
    body = body.replace("http://127.0.0.1:9000", ENDPOINT)
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=docs, env=env,
                       capture_output=True, text=True, timeout=120)
    t.check(p.returncode == 0, "docs/export-s3.md block runs:\n" + body, p.stderr)
    if "tide keygen" in body:
        recipient = p.stdout.strip()
        t.check(recipient.startswith("age1"), "the page's keygen prints a recipient", recipient)
    if "--delete" in body:
        t.check("deleted, none left" in p.stdout, "the page's delete", p.stdout)
        t.check_eq(listing("perf-runs", "shop/checkout/"), {}, "the page's delete left nothing")
    elif "--encrypt-to" in body:
        t.check(len(listing("perf-runs", "shop-sealed/checkout/")) == len(files),
                "the page's encrypted export", p.stdout)
    elif "--s3" in body:
        t.check(p.stdout.startswith("s3://perf-runs/shop/checkout/: %d objects" % len(files)),
                "the page's export line", p.stdout)
summary = open(os.path.join(run_dir, "summary.json"), "rb").read()
for name in ("summary-copy.json", "summary-age.json", "checkout-summary.json"):
    got = os.path.join(docs, name)
    t.check(os.path.exists(got) and open(got, "rb").read() == summary,
            "the page's %s is the run's summary" % name)

# Purge reaches the S3 copies: every object of every S3 export of the run is deleted (the
# environment's credentials), and the erasure receipt says so; a CAR file tide wrote goes too.
t.run(["export", run_dir, "--s3", "s3://tide-runs/again", "--s3-endpoint", ENDPOINT], env=CREDS)
car = os.path.join(d, "checkout.car")
t.check_eq(t.run(["export", run_dir, "--car", car]).returncode, 0, "a CAR export to purge")
t.check(len(listing("tide-runs", "again/checkout/")) == len(files), "an export to purge")
r = t.run(["purge", "checkout", "--runs", runs, "--dry-run"], env=CREDS)
t.check_eq(len(listing("tide-runs", "again/checkout/")), len(files), "purge --dry-run keeps them")
r = t.run(["purge", "checkout", "--runs", runs], env=CREDS)
t.check_eq(r.returncode, 0, "purge exit code " + r.stdout + r.stderr)
for prefix in ("again/checkout/", "sealed/checkout/", "checkout/"):
    t.check_eq(listing("tide-runs", prefix), {}, "purge deleted the objects under " + prefix)
t.check(not os.path.exists(car), "purge deleted the CAR file")
receipt = json.load(open(os.path.join(runs, ".receipts", "checkout.json")))
s3_exports = [x for x in receipt["exports"] if x.get("kind") == "s3"]
t.check(s3_exports and all(x["erased"] for x in s3_exports), "receipt: S3 exports erased",
        receipt["exports"])
t.check(any(x.get("kind") == "car" and x["erased"] for x in receipt["exports"]),
        "receipt: the CAR file erased", receipt["exports"])
no_secret(r.stdout + r.stderr + json.dumps(receipt), "purge output and receipt")

shutil.rmtree(d, ignore_errors=True)
t.done()
