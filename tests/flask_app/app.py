#!/usr/bin/env python3
"""A small real Flask backend with the same /api as 'tide target' (docs/target.md).

It stands in for a user's own service, to show that tide's scenarios are not tied to the
built-in server: login with bearer tokens, tenants from X-Tenant-ID, CRUD and search of
projects, /health, /_stats and POST /_stats/reset. No fault injection.

Run:   python3 tests/flask_app/app.py --port 5000 [--users FILE]
Ready: when it prints "flask app listening on http://127.0.0.1:PORT" (flushed; --port 0
       picks a free port and prints it), or when GET /health answers 200.
Binds 127.0.0.1 only; HTTP/1.1 keep-alive. Works with Debian 12's python3-flask (2.2) and
Flask 3.
"""

import argparse
import csv
import json
import re
import secrets
import sys
import threading
import time
from collections import defaultdict

import werkzeug.serving
from flask import Flask, Response, abort, request
from werkzeug.serving import WSGIRequestHandler, make_server

NAME_MAX = 200
DESC_MAX = 2000
PAGE_MAX = 100
DEFAULT_TTL = 86400.0
DISCARD_MAX = 64 << 20  # an oversized body up to this is read and dropped, so the connection lives
TENANT_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
NUMBER_RE = re.compile(r"[0-9]{1,9}")
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 8 << 20

lock = threading.Lock()
users = {}  # name -> (password, tenant or None)
tokens = {}  # token -> (user, expires)
projects = {}  # id -> project dict (with "_tenant")
by_tenant = defaultdict(dict)  # tenant -> {id: project}, in id order
next_id = [1]
stats = defaultdict(lambda: defaultdict(int))  # "GET /route" -> {status: count}
connections = {"live": 0, "total": 0}


def builtin_users():
    found = {"demo": ("demo", None), "alice": ("alice-pw", None), "bob": ("bob-pw", None)}
    for i in range(1, 101):
        found["user%d" % i] = ("pw-user%d" % i, None)
    return found


def load_users(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = {}
    if text.lstrip().startswith("["):
        for u in json.loads(text):
            found[u["username"]] = (u["password"], u.get("tenant") or None)
        return found
    for n, row in enumerate(csv.reader(text.splitlines()), 1):
        row = [c.strip() for c in row]
        if not row or not row[0] or row[0].startswith("#"):
            continue
        if n == 1 and row[0] == "username":
            continue
        if len(row) not in (2, 3):
            raise ValueError("%s:%d: expected 'username,password[,tenant]'" % (path, n))
        found[row[0]] = (row[1], row[2] if len(row) == 3 and row[2] else None)
    return found


def reply(status, obj=None, headers=None):
    body = "" if obj is None else json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, headers=headers or {},
                    mimetype=None if obj is None else "application/json")


def error(status, msg, field=False, headers=None):
    body = {"error": msg}
    if field is not False:
        body["field"] = field
    return reply(status, body, headers)


def timestamp(now):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int(now * 1000 % 1000)


def public(p):
    return {k: v for k, v in p.items() if not k.startswith("_")}


def route_of(path):
    """The route as /_stats names it, like the C target does."""
    fixed = ("/health", "/api/auth/login", "/api/auth/logout", "/api/projects", "/api/search")
    if path in fixed:
        return path
    if re.fullmatch(r"/api/projects/[^/]+", path):
        return "/api/projects/{id}"
    return "(unmatched)"


@app.before_request
def drain_body():
    """Reads every request body in full, so that the connection can carry the next request."""
    length = request.content_length or 0
    if length > app.config["MAX_CONTENT_LENGTH"]:
        # Werkzeug 2.2 checks the limit for forms only. Read and drop the body (when not
        # absurdly large), so the client gets the 413 on a connection that carries on.
        if length <= DISCARD_MAX:
            stream = request.environ["wsgi.input"]
            while length > 0:
                chunk = stream.read(min(length, 1 << 20))
                if not chunk:
                    break
                length -= len(chunk)
        if length > 0:
            request.environ["flask_app.close"] = True
        abort(413)
    request.get_data()


@app.after_request
def count(resp):
    if not request.path.startswith("/_"):
        with lock:
            stats["%s %s" % (request.method, route_of(request.path))][str(resp.status_code)] += 1
    return resp


@app.errorhandler(404)
def not_found(_e):
    return error(404, "not found")


@app.errorhandler(405)
def not_allowed(e):
    return error(405, "method not allowed", headers={"Allow": ", ".join(e.valid_methods or [])})


@app.errorhandler(413)
def too_large(_e):
    return error(413, "request body too large")


def json_object():
    """The request's JSON object, or a 422 response."""
    try:
        body = json.loads(request.get_data() or b"")
    except ValueError:
        return None, error(422, "invalid JSON body", None)
    if not isinstance(body, dict):
        return None, error(422, "body must be a JSON object", None)
    return body, None


def bearer():
    h = request.headers.get("Authorization", "")
    if h[:7].lower() != "bearer " or not h[7:].strip(" "):
        return None
    return h[7:].strip(" ")


def authorize(need_tenant=True):
    """(token, tenant) or an error response."""
    tok = bearer()
    if tok is None:
        return None, error(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    with lock:
        found = tokens.get(tok)
    if found is None:
        return None, error(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
    user, expires = found
    if time.time() >= expires:
        return None, error(401, "token expired", headers={"WWW-Authenticate": "Bearer"})
    if not need_tenant:
        return (tok, None), None
    tenant = request.headers.get("X-Tenant-ID")
    if tenant is None:
        return None, error(400, "missing X-Tenant-ID")
    if not TENANT_RE.fullmatch(tenant):
        return None, error(400, "invalid X-Tenant-ID (use 1 to 64 of A-Z a-z 0-9 . _ -)")
    bound = users[user][1]
    if bound is not None and bound != tenant:
        return None, error(403, "tenant not allowed for this user")
    return (tok, tenant), None


def check_text(body, key, required, limit):
    if key not in body or (body[key] is None and key == "description"):
        return error(422, "%s is required" % key, key) if required else None
    v = body[key]
    if not isinstance(v, str):
        return error(422, "%s must be a string" % key, key)
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return error(422, "%s must be valid UTF-8" % key, key)
    if key == "name" and v.strip(" \t\r\n") == "":
        return error(422, "name must not be empty", key)
    if len(v) > limit:
        return error(422, "%s must be at most %d characters" % (key, limit), key)
    return None


def check_fields(body, name_required):
    err = check_text(body, "name", name_required, NAME_MAX)
    return err if err is not None else check_text(body, "description", False, DESC_MAX)


def name_taken(tenant, name, self_id=None):
    return any(p["name"] == name and p["id"] != self_id for p in by_tenant[tenant].values())


def int_param(name, default, limit):
    raw = request.args.get(name)
    if raw is None:
        return default, None
    if not NUMBER_RE.fullmatch(raw) or int(raw) < 1:
        return None, error(422, "%s must be a positive integer" % name, name)
    return min(int(raw), limit), None


def find(tenant, pid):
    if not re.fullmatch(r"[0-9]{1,18}", pid):
        return None
    p = projects.get(int(pid))
    return p if p is not None and p["_tenant"] == tenant else None


@app.get("/health")
def health():
    return reply(200, {"status": "ok"})


@app.post("/api/auth/login")
def login():
    body, err = json_object()
    if err is not None:
        return err
    name, pw, ttl = body.get("username"), body.get("password"), body.get("ttl", DEFAULT_TTL)
    if not isinstance(name, str):
        return error(422, "username is required (a string)", "username")
    if not isinstance(pw, str):
        return error(422, "password is required (a string)", "password")
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0 <= ttl <= 1e9:
        return error(422, "ttl must be a number of seconds >= 0", "ttl")
    if name not in users or users[name][0] != pw:
        return error(401, "invalid credentials")
    tok = secrets.token_hex(16)
    with lock:
        tokens[tok] = (name, time.time() + ttl)
    out = {"token": tok, "token_type": "Bearer", "expires_in": ttl, "username": name}
    if users[name][1] is not None:
        out["tenant"] = users[name][1]
    return reply(200, out)


@app.post("/api/auth/logout")
def logout():
    auth, err = authorize(need_tenant=False)
    if err is not None:
        return err
    with lock:
        tokens.pop(auth[0], None)
    return reply(204)


@app.route("/api/projects", methods=["GET", "POST"])
def projects_root():
    auth, err = authorize()
    if err is not None:
        return err
    tenant = auth[1]
    if request.method == "GET":
        page, err = int_param("page", 1, 10**9)
        per_page, err = (None, err) if err is not None else int_param("per_page", 20, PAGE_MAX)
        if err is not None:
            return err
        with lock:
            items = list(by_tenant[tenant].values())
        start = (page - 1) * per_page
        return reply(200, {"items": [public(p) for p in items[start:start + per_page]],
                           "page": page, "per_page": per_page, "total": len(items)})
    body, err = json_object()
    err = err if err is not None else check_fields(body, True)
    if err is not None:
        return err
    with lock:
        if name_taken(tenant, body["name"]):
            return error(409, "a project with this name already exists", "name")
        now = timestamp(time.time())
        p = {"id": next_id[0], "name": body["name"], "description": body.get("description") or "",
             "created_at": now, "updated_at": now, "_tenant": tenant}
        next_id[0] += 1
        projects[p["id"]] = p
        by_tenant[tenant][p["id"]] = p
    return reply(201, public(p), {"Location": "/api/projects/%d" % p["id"]})


@app.route("/api/projects/<pid>", methods=["GET", "PUT", "PATCH", "DELETE"])
def project(pid):
    auth, err = authorize()
    if err is not None:
        return err
    tenant = auth[1]
    with lock:
        p = find(tenant, pid)
    if p is None:
        return error(404, "project not found")
    if request.method == "GET":
        return reply(200, public(p))
    if request.method == "DELETE":
        with lock:
            projects.pop(p["id"], None)
            by_tenant[tenant].pop(p["id"], None)
        return reply(204)
    partial = request.method == "PATCH"
    body, err = json_object()
    err = err if err is not None else check_fields(body, not partial)
    if err is not None:
        return err
    with lock:
        if "name" in body and name_taken(tenant, body["name"], p["id"]):
            return error(409, "a project with this name already exists", "name")
        if "name" in body:
            p["name"] = body["name"]
        if "description" in body or not partial:
            p["description"] = body.get("description") or ""
        p["updated_at"] = timestamp(time.time())
        return reply(200, public(p))


@app.get("/api/search")
def search():
    auth, err = authorize()
    if err is not None:
        return err
    q = request.args.get("q", "")
    if q == "":
        return error(422, "q is required", "q")
    limit, err = int_param("limit", 20, PAGE_MAX)
    if err is not None:
        return err
    needle = q.translate(ASCII_LOWER)
    with lock:
        found = [p for p in by_tenant[auth[1]].values()
                 if needle in p["name"].translate(ASCII_LOWER)
                 or needle in p["description"].translate(ASCII_LOWER)]
    return reply(200, {"items": [public(p) for p in found[:limit]], "total": len(found)})


@app.get("/_stats")
def get_stats():
    with lock:
        requests = {k: dict(v) for k, v in stats.items()}
        per_tenant = {t: len(ps) for t, ps in by_tenant.items() if ps}
        conns = dict(connections)
    return reply(200, {"requests": requests,
                       "total_requests": sum(sum(v.values()) for v in requests.values()),
                       "bad_requests": 0, "items_per_tenant": per_tenant,
                       "connections": conns})


@app.post("/_stats/reset")
def reset_stats():
    with lock:
        stats.clear()
    return reply(204)


class NoDrain:
    """Stands in for the 'selectors' module in werkzeug.serving. Werkzeug 2.3 and later read
    whatever the client sent after a response before closing the connection (its server closes
    every connection); with keep-alive that is the next request, and the read blocks until 10 MB
    or EOF arrive. drain_body() reads every request body, so this turns that step off."""

    EVENT_READ = 1

    class DefaultSelector:
        def register(self, *args):
            pass

        def select(self, timeout=None):
            return []

        def close(self):
            pass


werkzeug.serving.selectors = NoDrain


class Handler(WSGIRequestHandler):
    """Keeps connections alive, counts them for /_stats, and keeps quiet about each request.
    Werkzeug's development server closes every connection because it does not know whether
    the application read the whole request body; drain_body() above makes sure it did."""

    def send_header(self, keyword, value):
        closing = self.close_connection or getattr(self, "environ", {}).get("flask_app.close")
        if keyword.lower() == "connection" and value.lower() == "close" and not closing:
            return
        super().send_header(keyword, value)

    def setup(self):
        super().setup()
        with lock:
            connections["live"] += 1
            connections["total"] += 1

    def finish(self):
        super().finish()
        with lock:
            connections["live"] -= 1

    def log_request(self, *args, **kwargs):
        pass


def main():
    ap = argparse.ArgumentParser(description="Flask stand-in for tide target's /api")
    ap.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    ap.add_argument("--users", help="CSV username,password[,tenant] or a JSON list")
    args = ap.parse_args()
    try:
        users.update(load_users(args.users) if args.users else builtin_users())
    except (OSError, ValueError, KeyError) as e:
        print("flask app: --users: %s" % e, file=sys.stderr)
        return 2
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=Handler)
    print("flask app listening on http://127.0.0.1:%d" % server.server_port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
