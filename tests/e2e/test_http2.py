"""HTTP/2 is libcurl's (docs/http.md): `http2 = true`, options.http2 and --http2 send a request to
libcurl, which speaks HTTP/2 to nginx over TLS (ALPN); res.proto says "HTTP/2.0" and nginx's
own access log says it served HTTP/2.0. Without http2 both transports speak HTTP/1.1 to the
same server (res.proto "HTTP/1.1"), libcurl included. nginx runs from a temp dir with its own
config, pid, logs and a self-signed certificate, on loopback, and is stopped at the end."""
import os
import socket
import subprocess
import time
import tidetest
from tidetest import *

NGINX = "/usr/sbin/nginx"
if not os.path.exists(NGINX):
    skip("nginx is not installed (Debian package nginx, in TEST_DEPS)")
work = tmpdir()
cert, key, cert_error = self_signed_cert(work)
if cert_error:
    skip("openssl could not make a test certificate: " + cert_error)
port = free_port()
access = os.path.join(work, "access.log")
conf = write(work, "nginx.conf", """
daemon off;
master_process off;
pid %(w)s/nginx.pid;
error_log %(w)s/error.log;
events { worker_connections 256; }
http {
  log_format proto '$server_protocol $request_uri';
  access_log %(w)s/access.log proto;
  client_body_temp_path %(w)s/body;
  proxy_temp_path %(w)s/proxy;
  fastcgi_temp_path %(w)s/fastcgi;
  uwsgi_temp_path %(w)s/uwsgi;
  scgi_temp_path %(w)s/scgi;
  server {
    listen 127.0.0.1:%(port)d ssl http2;
    ssl_certificate %(cert)s;
    ssl_certificate_key %(key)s;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
""" % {"w": work, "port": port, "cert": cert, "key": key})
nginx = subprocess.Popen([NGINX, "-p", work, "-c", conf, "-e", os.path.join(work, "error.log")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
tidetest._procs.append(nginx)  # killed at exit whatever happens
deadline = time.time() + 10
up = False
while time.time() < deadline and nginx.poll() is None and not up:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        up = True
    except OSError:
        time.sleep(0.1)
if not up:
    err = nginx.stderr.read().decode()[-800:] if nginx.poll() is not None else "no answer"
    nginx.kill()
    skip("nginx did not start here: " + err)

base = "https://127.0.0.1:%d" % port
lua = write(work, "h2.lua", """
local http = require "tide.http"
local tide = require "tide"
options = { iterations = 1, vus = 1, http2 = tide.env("OPT", "no", { secret = false }) == "yes" }
local base = tide.env("BASE", nil, { secret = false })
function run()
  for i = 1, 2 do  -- the second on the same connection
    local r = http.get(base .. "/asked" .. i, { http2 = true })
    print("T asked" .. i .. " " .. r.status .. " " .. r.transport .. " " .. r.proto .. " " .. r.body)
  end
  local r = http.get(base .. "/plain")
  print("T plain " .. r.status .. " " .. r.transport .. " " .. r.proto)
  r = http.get(base .. "/off", { http2 = false })
  print("T off " .. r.status .. " " .. r.transport .. " " .. r.proto)
end
""")


def h2run(name, flags, env_opt="no"):
    open(access, "w").close()
    r = run(["run", lua, "--insecure", "--env", "BASE=" + base, "--env", "OPT=" + env_opt,
             "--quiet", "--no-default-thresholds", "--out", os.path.join(work, name)] + flags)
    check("Sanitizer" not in r.stderr, name + ": no sanitizer report", r.stderr[-3000:])
    check_eq(r.returncode, 0, name + ": the run ends well")
    got = dict(line[2:].split(" ", 1) for line in (r.stdout + r.stderr).splitlines()
               if line.startswith("T "))
    time.sleep(0.2)  # nginx writes its log line after the response
    with open(access) as f:
        seen = dict(reversed(line.split()) for line in f if line.strip())
    return got, seen


for name, flags in (("auto", []), ("native", ["--transport", "native"]),
                    ("curl", ["--transport", "curl"])):
    got, seen = h2run(name, flags)
    t = name + ": "
    check_eq(got.get("asked1"), '200 curl HTTP/2.0 {"ok":true}',
             t + "http2 = true: libcurl, HTTP/2 (res.proto)")
    check_eq(got.get("asked2"), '200 curl HTTP/2.0 {"ok":true}', t + "http2, again")
    check_eq((seen.get("/asked1"), seen.get("/asked2")), ("HTTP/2.0", "HTTP/2.0"),
             t + "nginx served them in HTTP/2.0")
    plain = "curl" if name == "curl" else "native"
    check_eq(got.get("plain"), "200 %s HTTP/1.1" % plain, t + "without http2: HTTP/1.1")
    check_eq(got.get("off"), "200 %s HTTP/1.1" % plain, t + "http2 = false: HTTP/1.1")
    check_eq(seen.get("/plain"), "HTTP/1.1", t + "nginx served the plain request in HTTP/1.1")

got, seen = h2run("flag", ["--http2"])
check_eq(got.get("plain"), "200 curl HTTP/2.0", "--http2: every request HTTP/2 on libcurl")
check_eq(got.get("off"), "200 native HTTP/1.1", "--http2: the param http2 = false wins")
check_eq(seen.get("/plain"), "HTTP/2.0", "--http2: nginx served HTTP/2.0")
s = load_json(os.path.join(work, "flag", "summary.json"))
check_eq((s["transports"]["curl"], s["transports"]["native"]), (3, 1),
         "--http2: summary.json counts 3 on libcurl, 1 native")

got, seen = h2run("option", [], env_opt="yes")
check_eq(got.get("plain"), "200 curl HTTP/2.0", "options.http2 = true: HTTP/2 on libcurl")

bad = write(work, "bad.lua", 'options = { http2 = "yes" }\nfunction run() end\n')
r = run(["run", bad])
check_eq(r.returncode, 2, "options.http2 = \"yes\": exit 2")
check("options.http2" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
      "options.http2 = \"yes\": one line naming it", r.stderr)

nginx.terminate()
try:
    nginx.wait(10)
except subprocess.TimeoutExpired:
    nginx.kill()
    nginx.wait()
done()
