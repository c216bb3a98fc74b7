"""Lua API tests: each tests/lua/*.lua runs in the real binary against the built-in target, on
both HTTP transports (--transport native and curl: the same checks must pass on each); every
check in it must pass and no script error may occur (errors.lua checks error counting)."""
import glob
import os
from tidetest import *

luadir = os.path.join(SRC, "tests", "lua")
runs = [(path, transport) for transport in ("native", "curl")
        for path in sorted(glob.glob(os.path.join(luadir, "*.lua")))]
for path, transport in runs:
    name = os.path.basename(path) + " (" + transport + ")"
    out = tmpdir()
    r = run(["run", path, "--target", "--quiet", "--out", out, "--transport", transport],
            timeout=60)
    if not os.path.exists(os.path.join(out, "summary.json")):
        check(False, name + ": no summary.json", "exit %d: %s" % (r.returncode, r.stderr[-2000:]))
        continue
    s = load_json(os.path.join(out, "summary.json"))
    if metric(s, "http_reqs", "count"):
        check(s["transports"][transport] > 0, name + ": served by " + transport, s["transports"])
    if name.startswith("errors.lua"):
        errs = {e["message"]: e["count"] for e in s["script_errors"]}
        boom = [c for m, c in errs.items() if m.endswith("boom")]
        check_eq(boom, [2], "errors.lua: 'boom' counted once per iteration that raised it")
        check(any("errors.lua:10:" in m for m in errs), "errors.lua: message has file:line", errs)
        check_eq(errs.get("tide.fail: business rule broken"), 2, "errors.lua: tide.fail counted")
        check_eq(metric(s, "iterations", "count"), 6, "errors.lua: every iteration ran")
        check_eq(s["checks"][0]["passes"], 2, "errors.lua: iterations after errors go on")
        check_eq(r.returncode, 0, "errors.lua: script errors within its own threshold pass")
        check(r.stderr.count("boom") == 1, "errors.lua: a message is printed once", r.stderr)
        continue
    check_eq(r.returncode, 0, name + ": exit code")
    check_eq(s["script_errors"], [], name + ": no script errors")
    failed = [c for c in s["checks"] if c["fails"] > 0]
    check_eq(failed, [], name + ": every check passed")
    check(len(s["checks"]) > 0, name + ": has checks")
    if name.startswith("lifecycle.lua"):
        v = s["verify"]
        check(v and v["ok"] and len(v["checks"]) == 5, "verify(data, summary) ran its checks", v)
        check(all(c["group"] == "::verify" for c in v["checks"]), "verify checks grouped")
        check_eq(metric(s, "iterations", "count"), 12, "per-vu-iterations: 4 VUs x 3")
        check_eq(metric(s, "my_counter", "count"), 24, "custom counter sums")
        check_eq(metric(s, "my_trend", "max"), 12.5, "custom trend")
        groups = {c["group"] for c in s["checks"]}
        check("::outer::inner" in groups, "checks carry the group tag", groups)
        series = [x for x in s["series"] if x["metric"] == "http_reqs"]
        check(any(x["tags"].get("group") == "::outer::inner" for x in series),
              "requests carry the group tag")
        tagged = [x for x in s["series"] if x["metric"] == "my_counter"]
        check(any(x["tags"].get("kind") == "a" for x in tagged), "custom metric tags")
    if name.startswith("http_api.lua"):
        eps = {(e["method"], e["name"]): e for e in s["endpoints"]}
        check(("GET", "/bytes/{id}") in eps, "URL grouping folds ids", list(eps))
        check(("GET", "custom-name") in eps, "name option groups requests")
        check_eq(eps[("GET", "/status/{id}")]["failures"], 1, "503 is a failure, expected 404 not")
done()
