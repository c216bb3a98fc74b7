"""--csv PREFIX also writes PREFIX_exceptions.csv as Locust does (Count,Message,Traceback,Nodes):
the header alone when no script error happened; one row per kind of script error, grouped as
summary.json's script_errors, counted; a secret in an error message never reaches the file."""
import csv
import os
from tidetest import *

HEADER = ["Count", "Message", "Traceback", "Nodes"]
work = tmpdir()
target, url = start_target()


def rows(prefix):
    path = prefix + "_exceptions.csv"
    check(os.path.exists(path), "--csv wrote _exceptions.csv", path)
    if not os.path.exists(path):
        return []
    raw = open(path, "rb").read()
    check(raw.startswith(b"Count,Message,Traceback,Nodes\r\n"), "Locust's header, CRLF", raw[:60])
    return list(csv.reader(open(path, newline="")))


# a clean run: the file exists with its header only
clean = write(work, "clean.lua", 'local http = require "tide.http"\n'
              'function run() http.get("/health") end\n')
prefix = os.path.join(work, "clean", "out")
r = run(["run", clean, "--host", url, "--iterations", "3", "--out", os.path.join(work, "r1"),
         "--csv", prefix, "--quiet"], timeout=60)
check_eq(r.returncode, 0, "clean run passes")
check_eq(rows(prefix), [HEADER], "no script error: the header alone")

# a raising script: rows grouped and counted like summary.json, a secret never written
raising = write(work, "raise.lua", '''local tide = require "tide"
local token = tide.env("API_TOKEN")
function run()
  if tide.vu.iteration % 2 == 0 then
    error("order " .. (1000000 + tide.vu.iteration) .. " was rejected")
  end
  error("token " .. token .. " refused")
end
''')
secret = "s3cr3t-Value-4711"
out = os.path.join(work, "r2")
prefix = os.path.join(work, "raise", "out")
env = dict(os.environ, API_TOKEN=secret)
r = run(["run", raising, "--host", url, "--vus", "1", "--iterations", "6", "--out", out,
         "--csv", prefix, "--quiet"], timeout=60, env=env)
got = rows(prefix)
check_eq(got[:1], [HEADER], "header first")
body = got[1:]
check_eq(len(body), 2, "two kinds of script error, two rows")
summary = load_json(os.path.join(out, "summary.json"))
want = sorted((int(e["count"]), e["message"]) for e in summary["script_errors"])
check_eq(sorted((int(c), m) for c, m, _, _ in body), want, "rows = summary.json script_errors")
check_eq(sum(int(row[0]) for row in body), 6, "every raising iteration counted")
check(any("order N was rejected" in row[1] for row in body), "ids folded as tide groups them", body)
check(all(os.path.basename(row[2]).startswith("raise.lua:") for row in body), "Traceback: where it was raised", body)
check(all(row[3] == "local" for row in body), "Nodes: local", body)
text = open(prefix + "_exceptions.csv").read()
check(secret not in text, "the secret is not in _exceptions.csv", text)
check("***" in text, "the secret is masked", text)
done()
