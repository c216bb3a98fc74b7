#!/usr/bin/env python3
"""A small real Flask backend with the same /api as 'tide target' (docs/target.md).

It stands in for a user's own service, to show that tide's scenarios are not tied to the
built-in server: login with bearer tokens, tenants from X-Tenant-ID, CRUD and search of
projects, users with roles, per-user export, erasure and import, the audit log, the
rate-limited route, /health, /_stats and POST /_stats/reset. No network faults; the four
promise-breaking faults of the user routes are flags (--leaky-erasure, --incomplete-export,
--skip-audit, --broken-authz), as in 'tide target'.

Run:   python3 tests/flask_app/app.py --port 5000 [--users FILE] [--broken-authz ...]
Ready: when it prints "flask app listening on http://127.0.0.1:PORT" (flushed; --port 0
       picks a free port and prints it), or when GET /health answers 200.
Binds 127.0.0.1 only; HTTP/1.1 keep-alive. Works with Debian 12's python3-flask (2.2) and
Flask 3.
"""

import argparse
import csv
import itertools
import json
import re
import secrets
import sys
import threading
import time
from collections import defaultdict, deque

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
AUDIT_CAP = 100000  # records kept, the oldest go first (as in tide target)
AUDIT_PAGE, AUDIT_PAGE_MAX = 100, 1000
RATE = 5  # GET /api/limited: requests per token per second
USERS_MAX = 100000  # users in all, as in tide target
SINCE_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?Z")

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 8 << 20

lock = threading.Lock()
users = {}  # name -> {"id", "password", "tenant" (or None), "admin", "email", "full_name", ...}
users_by_id = {}  # id -> the same dict
next_user_id = [1]
tokens = {}  # token -> (user name, expires)
rate = {}  # token -> [window start, hits]
audit_log = deque(maxlen=AUDIT_CAP)  # {"seq", "time", "actor", "action", "resource", "tenant"}
audit_seq = [0]
faults = {"leaky_erasure": False, "incomplete_export": False, "skip_audit": False,
          "broken_authz": False}
projects = {}  # id -> project dict (with "_tenant")
by_tenant = defaultdict(dict)  # tenant -> {id: project}, in id order
next_id = [1]
stats = defaultdict(lambda: defaultdict(int))  # "GET /route" -> {status: count}
connections = {"live": 0, "total": 0}


def add_user(name, password, tenant=None, role=None, email="", full_name=""):
    """Adds a user with the next id (the caller holds the lock or runs before serving)."""
    if role not in (None, "", "admin", "member"):
        raise ValueError("role '%s': expected admin or member" % role)
    u = {"id": next_user_id[0], "username": name, "password": password, "tenant": tenant or None,
         "admin": role != "member", "email": email or "", "full_name": full_name or "",
         "created_at": timestamp(time.time())}
    next_user_id[0] += 1
    users[name] = u
    users_by_id[u["id"]] = u
    return u


def builtin_users():
    found = [("demo", "demo"), ("alice", "alice-pw"), ("bob", "bob-pw")]
    return found + [("user%d" % i, "pw-user%d" % i, None) for i in range(1, 101)]


def load_users(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = []
    if text.lstrip().startswith("["):
        for u in json.loads(text):
            found.append((u["username"], u["password"], u.get("tenant") or None, u.get("role")))
        return found
    for n, row in enumerate(csv.reader(text.splitlines()), 1):
        row = [c.strip() for c in row]
        if not row or not row[0] or row[0].startswith("#"):
            continue
        if n == 1 and row[0] == "username":
            continue
        if len(row) not in (2, 3, 4):
            raise ValueError("%s:%d: expected 'username,password[,tenant[,role]]'" % (path, n))
        found.append((row[0], row[1], row[2] if len(row) >= 3 and row[2] else None,
                      row[3] if len(row) == 4 else None))
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
    fixed = ("/health", "/api/auth/login", "/api/auth/logout", "/api/projects", "/api/search",
             "/api/users", "/api/users/import", "/api/audit", "/api/limited")
    if path in fixed:
        return path
    if re.fullmatch(r"/api/projects/[^/]+", path):
        return "/api/projects/{id}"
    if re.fullmatch(r"/api/users/[^/]+/export", path):
        return "/api/users/{id}/export"
    if re.fullmatch(r"/api/users/[^/]+", path):
        return "/api/users/{id}"
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
    """(token, tenant, user) or an error response."""
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
        return (tok, None, users.get(user)), None
    tenant = request.headers.get("X-Tenant-ID")
    if tenant is None:
        return None, error(400, "missing X-Tenant-ID")
    if not TENANT_RE.fullmatch(tenant):
        return None, error(400, "invalid X-Tenant-ID (use 1 to 64 of A-Z a-z 0-9 . _ -)")
    u = users.get(user)
    if u is None:
        return None, error(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
    bound = u["tenant"]
    if bound is not None and bound != tenant and not faults["broken_authz"]:
        return None, error(403, "tenant not allowed for this user")
    return (tok, tenant, u), None


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
    with lock:
        u = users.get(name)
        if u is None or u["password"] != pw:
            return error(401, "invalid credentials")
        tok = secrets.token_hex(16)
        tokens[tok] = (name, time.time() + ttl)
    out = {"token": tok, "token_type": "Bearer", "expires_in": ttl, "user_id": u["id"],
           "role": "admin" if u["admin"] else "member", "username": name}
    if u["tenant"] is not None:
        out["tenant"] = u["tenant"]
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
             "created_at": now, "updated_at": now, "_tenant": tenant, "_owner": auth[2]["id"]}
        next_id[0] += 1
        projects[p["id"]] = p
        by_tenant[tenant][p["id"]] = p
        audit(auth, "project.create", "/api/projects/%d" % p["id"])
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
    who = auth[2]
    if not (who["admin"] or p["_owner"] == who["id"] or faults["broken_authz"]):
        return error(403, "forbidden: only the project's owner or an admin may change it")
    if request.method == "DELETE":
        with lock:
            projects.pop(p["id"], None)
            by_tenant[tenant].pop(p["id"], None)
            audit(auth, "project.delete", "/api/projects/%d" % p["id"])
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
        audit(auth, "project.update", "/api/projects/%d" % p["id"])
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


# Users, personal data, the audit log and the rate-limited route (docs/target.md).

def audit(auth, action, resource):
    """Appends an audit record (the caller holds the lock). skip-audit loses deletions."""
    if faults["skip_audit"] and ("delete" in action or "erase" in action):
        return
    audit_seq[0] += 1
    audit_log.append({"seq": audit_seq[0], "time": timestamp(time.time()),
                      "actor": auth[2]["id"], "action": action, "resource": resource,
                      "tenant": auth[1]})


def profile(u):
    return {"id": u["id"], "username": u["username"], "email": u["email"],
            "full_name": u["full_name"], "role": "admin" if u["admin"] else "member",
            "tenant": u["tenant"], "created_at": u["created_at"]}


def visible(u, tenant):
    return u["tenant"] is None or u["tenant"] == tenant or faults["broken_authz"]


def admin_only(auth):
    if auth[2]["admin"] or faults["broken_authz"]:
        return None
    return error(403, "forbidden: admins only")


def user_access(auth, uid):
    """The user 'uid' names when the caller may see it (itself, or an admin), else an error."""
    u = users_by_id.get(int(uid)) if re.fullmatch(r"[0-9]{1,18}", uid) else None
    if u is None or not visible(u, auth[1]):
        return None, error(404, "user not found")
    if u is not auth[2] and not auth[2]["admin"] and not faults["broken_authz"]:
        return None, error(403, "forbidden: only the user or an admin may do this")
    return u, None


def export_of(u):
    owned = [p for p in sorted(projects.values(), key=lambda p: p["id"]) if p["_owner"] == u["id"]]
    if faults["incomplete_export"] and owned:
        owned = owned[:-1]
    return {"user": profile(u), "projects": [public(p) for p in owned],
            "exported_at": timestamp(time.time())}


def text_member(body, name, required, limit):
    v = body.get(name)
    if v is None:
        return ("" if not required else None), (
            error(422, "%s is required" % name, name) if required else None)
    if not isinstance(v, str) or len(v) > limit or (required and v.strip(" \t\r\n") == ""):
        return None, error(422, "%s must be a %sstring of at most %d characters"
                           % (name, "non-empty " if required else "", limit), name)
    return v, None


def create_profile(body, tenant, password=None):
    """A new user from a profile body, bound to 'tenant' (the caller holds the lock)."""
    name, err = text_member(body, "username", True, 64)
    if err is None and password is None:
        password, err = text_member(body, "password", True, 200)
    fields = {}
    for key, limit in (("email", 200), ("full_name", 200), ("role", 16)):
        if err is None:
            fields[key], err = text_member(body, key, False, limit)
    if err is None and fields["role"] not in ("", "admin", "member"):
        err = error(422, "role must be admin or member", "role")
    if err is not None:
        return None, err
    if name in users:
        return None, error(409, "a user with this name already exists", "username")
    if len(users) >= USERS_MAX:
        return None, error(507, "store is full")
    return add_user(name, password, tenant, fields["role"] or "member", fields["email"],
                    fields["full_name"]), None


@app.route("/api/users", methods=["GET", "POST"])
def users_root():
    auth, err = authorize()
    err = err if err is not None else admin_only(auth)
    if err is not None:
        return err
    if request.method == "GET":
        with lock:
            found = [profile(u) for _, u in sorted(users_by_id.items()) if visible(u, auth[1])]
            audit(auth, "user.list", "/api/users")
        return reply(200, {"items": found, "total": len(found)})
    body, err = json_object()
    if err is not None:
        return err
    with lock:
        u, err = create_profile(body, auth[1])
        if err is not None:
            return err
        audit(auth, "user.create", "/api/users/%d" % u["id"])
    return reply(201, profile(u), {"Location": "/api/users/%d" % u["id"]})


@app.route("/api/users/<uid>", methods=["GET", "DELETE"])
def user_one(uid):
    auth, err = authorize()
    if err is not None:
        return err
    with lock:
        u, err = user_access(auth, uid)
        if err is not None:
            return err
        if request.method == "GET":
            audit(auth, "user.read", "/api/users/%d" % u["id"])
            return reply(200, profile(u))
        owned = [p for p in projects.values() if p["_owner"] == u["id"]]
        if not faults["leaky_erasure"]:
            for p in owned:
                projects.pop(p["id"], None)
                by_tenant[p["_tenant"]].pop(p["id"], None)
        revoked = [t for t, (name, _) in tokens.items() if name == u["username"]]
        for t in revoked:
            tokens.pop(t, None)
            rate.pop(t, None)
        users.pop(u["username"], None)
        users_by_id.pop(u["id"], None)
        audit(auth, "user.erase", "/api/users/%d" % u["id"])
    return reply(200, {"erased": True, "user_id": u["id"], "projects_deleted": len(owned),
                       "tokens_revoked": len(revoked), "erased_at": timestamp(time.time()),
                       "receipt": "erase-%d-%s" % (u["id"], secrets.token_hex(5))})


@app.get("/api/users/<uid>/export")
def user_export(uid):
    auth, err = authorize()
    if err is not None:
        return err
    with lock:
        u, err = user_access(auth, uid)
        if err is not None:
            return err
        doc = export_of(u)
        audit(auth, "user.export", "/api/users/%d/export" % u["id"])
    return reply(200, doc)


@app.post("/api/users/import")
def user_import():
    auth, err = authorize()
    err = err if err is not None else admin_only(auth)
    body, err = (None, err) if err is not None else json_object()
    if err is not None:
        return err
    user, items, pw = body.get("user"), body.get("projects", []), body.get("password")
    if not isinstance(user, dict):
        return error(422, "user must be an object (an export document)", "user")
    if not isinstance(items, list):
        return error(422, "projects must be a list", "projects")
    if pw is not None and not isinstance(pw, str):
        return error(422, "password must be a string", "password")
    tenant = auth[1]
    with lock:
        seen = set()
        for p in items:
            if not isinstance(p, dict):
                return error(422, "each project must be an object", "projects")
            err = check_fields(p, True)
            if err is not None:
                return err
            if name_taken(tenant, p["name"]) or p["name"] in seen:
                return error(409, "a project with this name already exists", "name")
            seen.add(p["name"])
        u, err = create_profile(user, tenant, pw if pw is not None else secrets.token_hex(16))
        if err is not None:
            return err
        for item in items:
            now = timestamp(time.time())
            p = {"id": next_id[0], "name": item["name"],
                 "description": item.get("description") or "", "created_at": now,
                 "updated_at": now, "_tenant": tenant, "_owner": u["id"]}
            next_id[0] += 1
            projects[p["id"]] = p
            by_tenant[tenant][p["id"]] = p
        doc = export_of(u)
        audit(auth, "user.import", "/api/users/%d" % u["id"])
    return reply(201, doc, {"Location": "/api/users/%d" % u["id"]})


@app.get("/api/audit")
def audit_query():
    auth, err = authorize()
    err = err if err is not None else admin_only(auth)
    if err is not None:
        return err
    since, after, when = request.args.get("since", ""), 0, None
    if re.fullmatch(r"[0-9]{1,18}", since):
        after = int(since)
    elif SINCE_TIME_RE.fullmatch(since):
        when = since[:-1]
    elif since != "":
        return error(422, "since must be a sequence number or a UTC time like "
                     "2025-01-31T12:00:00Z", "since")
    actor = request.args.get("actor")
    if actor is not None and not re.fullmatch(r"[0-9]{1,18}", actor):
        return error(422, "actor must be a user id", "actor")
    limit = request.args.get("limit", str(AUDIT_PAGE))
    if not re.fullmatch(r"[0-9]{1,18}", limit) or int(limit) < 1:
        return error(422, "limit must be a positive integer", "limit")
    limit = min(int(limit), AUDIT_PAGE_MAX)
    items, nxt = [], after
    with lock:
        oldest = audit_log[0]["seq"] if audit_log else audit_seq[0] + 1
        for r in itertools.islice(audit_log, max(0, after - oldest + 1), None):
            if len(items) >= limit:
                break
            nxt = r["seq"]
            if r["tenant"] != auth[1] or (actor is not None and r["actor"] != int(actor)):
                continue
            if when is not None and r["time"] < when:
                continue
            items.append(r)
    return reply(200, {"items": items, "next": nxt, "oldest": oldest, "dropped": oldest - 1})


@app.get("/api/limited")
def limited():
    auth, err = authorize()
    if err is not None:
        return err
    now = time.time()
    with lock:
        w = rate.setdefault(auth[0], [now, 0])
        if not 0 <= now - w[0] < 1.0:
            w[0], w[1] = now, 0
        w[1] += 1
        hits, start = w[1], w[0]
    if hits > RATE:
        wait = max(1, int(-(-(start + 1.0 - now) // 1)))
        return error(429, "rate limit exceeded", headers={"Retry-After": str(wait)})
    return reply(200, {"ok": True, "remaining": RATE - hits})


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
    ap.add_argument("--users", help="CSV username,password[,tenant[,role]] or a JSON list")
    for name in faults:
        ap.add_argument("--" + name.replace("_", "-"), action="store_true",
                        help="break a promise on purpose (docs/target.md#faults)")
    args = ap.parse_args()
    for name in faults:
        faults[name] = getattr(args, name)
    try:
        for row in load_users(args.users) if args.users else builtin_users():
            if row[0] in users:
                raise ValueError("duplicate user '%s'" % row[0])
            add_user(*row)
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
