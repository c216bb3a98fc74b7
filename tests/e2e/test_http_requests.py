"""Requests users expect (issue 16, item 8), against loopback servers:
- http.request's options table refuses a misspelt key, naming the closest valid one;
- multipart = { field = "v", file = http.file(bytes, name, type) } sends a multipart/form-data
  body that Python's own parser (email.parser) reads back: fields, file name, type and bytes;
- TLS: a server with a certificate from the test's own CA fails without --cacert (a clear
  certificate error) and answers with it (--cacert, per-request ca_bundle, options.tls.ca); a
  server requiring a client certificate fails without one and answers with cert/key (per
  request and --cert/--key)."""
import os
import shutil
import ssl
import subprocess
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from receiver import HTTPReceiver
from tidetest import *


def tide_run(script_text, *flags):
    d = tmpdir()
    path = write(d, "s.lua", script_text)
    r = run(["run", path, "--quiet", "--no-default-thresholds", "--out", os.path.join(d, "out"),
             *flags], timeout=60)
    summary = os.path.join(d, "out", "summary.json")
    s = load_json(summary) if os.path.exists(summary) else None
    return r, s


def results(r):
    """The RESULT lines the scenarios print (print writes to stderr): name -> (status, error)."""
    out = {}
    for line in r.stderr.splitlines():
        if line.startswith("RESULT "):
            _, name, status, err = (line.split(" ", 3) + [""])[:4]
            out[name] = (int(status), err)
    return out


HEAD = """local http = require "tide.http"
options = { iterations = 1, vus = 1 }
local function show(name, r) print("RESULT " .. name .. " " .. r.status .. " " .. (r.error or "")) end
"""

# 1. unknown option names
r, s = tide_run(HEAD + """function run()
  http.get("http://127.0.0.1:9/", { hedaers = { a = "b" } })
end
""")
msgs = [e["message"] for e in (s or {}).get("script_errors", [])]
check(any(m.endswith("tide.http: unknown option 'hedaers' (did you mean 'headers'?)") for m in msgs),
      "a misspelt option raises, naming the closest valid name", msgs)
check_eq(metric(s, "http_reqs", "count") if s and any(x["metric"] == "http_reqs" for x in
                                                       s["series"]) else 0, 0,
         "the misspelt request was not sent")
r, s = tide_run(HEAD + """function run()
  http.batch { { method = "GET", url = "http://127.0.0.1:9/", timout = 1 } }
end
""")
msgs = [e["message"] for e in (s or {}).get("script_errors", [])]
check(any("unknown option 'timout' (did you mean 'timeout'?)" in m for m in msgs),
      "a batch item's keys are checked too (method and url allowed)", msgs)
r, s = tide_run(HEAD + """function run()
  http.get("http://127.0.0.1:9/", { zzzzzzzzzzzz = 1 })
end
""")
msgs = [e["message"] for e in (s or {}).get("script_errors", [])]
check(any("unknown option 'zzzzzzzzzzzz' (options: accept_encoding, auth, body, ca_bundle" in m for m in msgs),
      "with no close name, the valid names are listed", msgs)

# 2. multipart bodies, parsed back by the standard library
rec = HTTPReceiver()
r, s = tide_run(HEAD + """function run()
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  t = table.concat(t) .. "\\r\\n--not-a-boundary\\r\\n"
  show("mp", http.post("%s/upload", { multipart = {
    title = "hello world", n = 42, tags = { "a", "b" },
    file = http.file(t, "data.csv", "text/csv"),
    plain = http.file("xyz"),
  } }))
end
""" % rec.url)
rec.stop()
check_eq(results(r).get("mp", (None,))[0], 200, "multipart request answered")
check_eq(len(rec.requests), 1, "one upload received")
if rec.requests:
    req = rec.requests[0]
    ctype = req["headers"].get("content-type", "")
    check(ctype.startswith("multipart/form-data; boundary="), "Content-Type with boundary", ctype)
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req["body"])
    check(msg.is_multipart() and not msg.defects, "the body parses as multipart", msg.defects)
    parts = [(p.get_param("name", header="content-disposition"), p.get_filename(),
              p.get_content_type(), p.get_payload(decode=True)) for p in msg.iter_parts()]
    want_file = bytes(range(256)) + b"\r\n--not-a-boundary\r\n"
    check_eq(parts, [("file", "data.csv", "text/csv", want_file), ("n", None, "text/plain", b"42"),
                     ("plain", "file", "application/octet-stream", b"xyz"),
                     ("tags", None, "text/plain", b"a"), ("tags", None, "text/plain", b"b"),
                     ("title", None, "text/plain", b"hello world")],
             "fields, repeated fields and files (name, type, every byte) read back")
    check(req["body"].endswith(b"--\r\n"), "closing delimiter ends the body")
    check_eq(int(req["headers"].get("content-length", -1)), len(req["body"]), "Content-Length")
r, s = tide_run(HEAD + """function run()
  http.post("http://127.0.0.1:9/", { multipart = { f = { x = 1 } } })
end
""")
msgs = [e["message"] for e in (s or {}).get("script_errors", [])]
check(any("multipart field 'f': expected a string, a number, http.file(...)" in m for m in msgs),
      "a bad multipart value raises naming the field", msgs)

# 3. TLS: the test's own CA, a server certificate for 127.0.0.1, a client certificate
if shutil.which("openssl") is None:
    skip("openssl CLI missing (Makefile TEST_DEPS installs it)")
pki = tmpdir()


def ossl(*args):
    subprocess.run(["openssl", *args], cwd=pki, check=True, capture_output=True, timeout=60)


ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
ossl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
     "/CN=tide test CA")
for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                  ("client", "extendedKeyUsage=clientAuth")):
    write(pki, name + ".ext", ext + "\n")
    ossl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
    ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext")


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


def tls_server(require_client_cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(pki, "server.pem"), os.path.join(pki, "server.key"))
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(os.path.join(pki, "ca.pem"))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "https://127.0.0.1:%d/" % srv.server_address[1]


plain_srv, plain = tls_server(False)
mtls_srv, mtls = tls_server(True)
P = lambda f: os.path.join(pki, f)

r, s = tide_run(HEAD + """function run()
  show("noca", http.get("%s"))
  show("perreq", http.get("%s", { ca_bundle = "%s" }))
end
""" % (plain, plain, P("ca.pem")))
res = results(r)
check_eq(res.get("noca", (None,))[0], 0, "without the CA the request fails")
check("certificate" in res.get("noca", (0, ""))[1].lower(),
      "... with a clear TLS certificate error", res.get("noca"))
check_eq(res.get("perreq", (None,))[0], 200, "ca_bundle per request: answered")

r, s = tide_run(HEAD + """function run()
  show("cacert", http.get("%s"))
  show("nocert", http.get("%s"))
  show("cert", http.get("%s", { cert = "%s", key = "%s" }))
end
""" % (plain, mtls, mtls, P("client.pem"), P("client.key")), "--cacert", P("ca.pem"))
res = results(r)
check_eq(res.get("cacert", (None,))[0], 200, "--cacert FILE: answered")
check_eq(res.get("nocert", (None,))[0], 0, "client certificate required: fails without one")
check(res.get("nocert", (0, ""))[1] != "", "... with an error text", res.get("nocert"))
check_eq(res.get("cert", (None,))[0], 200, "cert/key per request: answered")

r, s = tide_run(HEAD.replace("options = { iterations = 1, vus = 1 }",
                             'options = { iterations = 1, vus = 1, tls = { ca = "%s" } }'
                             % P("ca.pem")) + """function run()
  show("opt", http.get("%s"))
end
""" % mtls, "--cert", P("client.pem"), "--key", P("client.key"))
check_eq(results(r).get("opt", (None,))[0], 200, "options.tls.ca with --cert/--key: answered")
plain_srv.shutdown()
mtls_srv.shutdown()
done()
