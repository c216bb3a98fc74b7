#!/bin/sh
# Smoke test of the /api contract with curl: the Flask stand-in (started here on a free port)
# or, given a base URL, any server claiming the same API (e.g. a running 'tide target').
#   sh tests/flask_app/smoke.sh                       # starts tests/flask_app/app.py
#   sh tests/flask_app/smoke.sh http://127.0.0.1:PORT # checks a server already running
# Prints one line per failed check and "smoke: N checks, M failed"; exit 0 only when all pass.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [ $# -ge 1 ]; then
    base=$1
else
    python3 "$here/app.py" --port 0 >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$tmp/out" 2>/dev/null && break
        sleep 0.1
    done
    base=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$tmp/out")
    if [ -z "$base" ]; then
        echo "smoke: the app did not start:" >&2
        cat "$tmp/err" >&2
        exit 1
    fi
fi

checks=0
failed=0
status=
# call METHOD PATH [TOKEN] [TENANT] [BODY]: sets $status, leaves the body in $tmp/body.
call() {
    rm -f "$tmp/body" "$tmp/head"
    status=$(curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' -X "$1" \
        ${3:+-H "Authorization: Bearer $3"} ${4:+-H "X-Tenant-ID: $4"} \
        ${5:+-H "Content-Type: application/json" --data-binary "$5"} "$base$2")
}
# json EXPR: evaluates a Python expression on the last body, bound to 'j'.
json() {
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$tmp/body" 2>/dev/null
}
expect() { # expect WHAT GOT WANTED
    checks=$((checks + 1))
    if [ "$2" != "$3" ]; then
        failed=$((failed + 1))
        echo "smoke: $1: got '$2', expected '$3' (body: $(head -c 200 "$tmp/body" 2>/dev/null))"
    fi
}

call GET /health
expect "GET /health" "$status" 200
expect "health body" "$(json 'j["status"]')" ok

call POST /api/auth/login "" "" '{"username":"demo","password":"wrong"}'
expect "login, wrong password" "$status" 401
call POST /api/auth/login "" "" '{"username":"demo"'
expect "login, bad JSON" "$status" 422
call POST /api/auth/login "" "" '{"username":"demo","password":"demo"}'
expect "login" "$status" 200
tok=$(json 'j["token"]')
call POST /api/auth/login "" "" '{"username":"alice","password":"alice-pw","ttl":0}'
expired=$(json 'j["token"]')

call GET /api/projects "" t1
expect "no token" "$status" 401
expect "no token, error" "$(json 'j["error"]')" "missing bearer token"
call GET /api/projects nonsense t1
expect "bad token" "$status" 401
call GET /api/projects "$expired" t1
expect "expired token" "$(json 'j["error"]')" "token expired"
call GET /api/projects "$tok"
expect "no tenant" "$status" 400
expect "no tenant, error" "$(json 'j["error"]')" "missing X-Tenant-ID"

call POST /api/projects "$tok" t1 '{"name":"Caf\u00e9 \u2603","description":"smoke"}'
expect "create" "$status" 201
id=$(json 'j["id"]')
expect "Location" "$(tr -d '\r' <"$tmp/head" | sed -n 's/^[Ll]ocation: //p')" "/api/projects/$id"
call GET "/api/projects/$id" "$tok" t1
expect "get" "$status" 200
expect "unicode name" "$(json 'j["name"] == "Caf\u00e9 \u2603"')" True
call POST /api/projects "$tok" t1 '{"name":"Caf\u00e9 \u2603"}'
expect "duplicate" "$status" 409
call POST /api/projects "$tok" t1 '{"name":""}'
expect "empty name" "$status" 422
expect "empty name, field" "$(json 'j["field"]')" name
call POST /api/projects "$tok" t1 '{"description":"no name"}'
expect "missing name" "$status" 422
call PATCH "/api/projects/$id" "$tok" t1 '{"description":"patched"}'
expect "patch" "$(json 'j["description"]')" patched
call PUT "/api/projects/$id" "$tok" t1 '{"name":"Renamed"}'
expect "put" "$status/$(json 'j["name"]')/$(json 'j["description"]')" "200/Renamed/"

call GET "/api/projects/$id" "$tok" t2
expect "other tenant, get" "$status" 404
call DELETE "/api/projects/$id" "$tok" t2
expect "other tenant, delete" "$status" 404
call GET /api/projects "$tok" t2
expect "other tenant, list" "$(json 'j["total"]')" 0
call GET "/api/search?q=renamed" "$tok" t2
expect "other tenant, search" "$(json 'j["total"]')" 0
call GET "/api/search?q=RENAMED" "$tok" t1
expect "search" "$(json 'j["total"]')" 1
call GET /api/search "$tok" t1
expect "search without q" "$status" 422

for n in 1 2 3 4 5; do
    call POST /api/projects "$tok" t3 "{\"name\":\"p$n\"}"
done
call GET "/api/projects?page=2&per_page=2" "$tok" t3
expect "page 2" "$(json '[p["name"] for p in j["items"]], j["page"], j["per_page"], j["total"]')" \
    "['p3', 'p4'] 2 2 5"
call GET "/api/projects?per_page=0" "$tok" t3
expect "bad per_page" "$status" 422

call DELETE "/api/projects/$id" "$tok" t1
expect "delete" "$status" 204
call GET "/api/projects/$id" "$tok" t1
expect "deleted" "$status" 404
call POST /api/auth/logout "$tok"
expect "logout" "$status" 204
call GET /api/projects "$tok" t1
expect "after logout" "$status" 401

call GET /_stats
expect "stats" "$status" 200
expect "stats, creates" "$(json 'j["requests"]["POST /api/projects"]["201"] >= 6')" True
expect "stats, items" "$(json 'j["items_per_tenant"]["t3"] >= 5')" True

echo "smoke: $checks checks, $failed failed ($base)"
[ "$failed" -eq 0 ]
