"""Every file of the run folder is valid UTF-8 and valid JSON, JSON lines, CSV, XML or HTML,
whatever bytes the server or the script produced (issue 15): a script puts invalid UTF-8, NUL,
quotes, commas, newlines, ']]>', '</script>' and control characters in request names, tags,
check and group names, custom metric tags and error messages, against `tide target`'s
/_fault/hostile route (a 500 whose reason, headers and body hold the same bytes, so they land
in errors and error samples). Then each file is read strictly: UTF-8 decoding, Python's json
(no NaN), csv (one column count per file), xmllint for junit.xml, and report.html's
scripts closed where they should be, its embedded JSON parsed."""
import csv
import html.parser
import io
import json
import os
import subprocess
from tidetest import *

work = tmpdir()
target, base = start_target()

HOSTILE = r'h\xff\xfe\0n\"q\',c\r\nl2 ]]></script><!-- \x01\x1b[31m\x7f\xed\xa0\x80 &amp;'
s = write(work, "hostile.lua", r'''
local http = require "tide.http"
local tide = require "tide"
local metrics = require "tide.metrics"
local H = "%s"
local trend = metrics.trend("hostile_trend")
local count = metrics.counter("hostile_count")
options = { tags = { hostile = H }, thresholds = { hostile_count = { "count>0" } } }
function run()
  tide.group("group " .. H, function()
    local r = http.get("/_fault/hostile?x=" .. tide.vu.iteration, { name = "name " .. H,
                       tags = { t = H } })
    tide.check(r, { ["check " .. H] = function(x) return x.status == 200 end })
    http.get("/status/503", { name = H })
  end)
  trend:add(1.5, { tag = H })
  count:add(1, { [H:gsub("[^%%w]", "")] = H })
  tide.log.warn("log " .. H)
  if tide.vu.iteration %% 2 == 0 then error("boom " .. H) end
  tide.fail("fail " .. H)
end
function handle_summary(summary)
  return { ["extra.txt"] = "summary " .. H }
end
''' % HOSTILE)
out = os.path.join(work, "out")
r = subprocess.run([TIDE, "run", s, "--host", base, "--vus", "2", "--iterations", "6", "--quiet",
                    "--out", out], capture_output=True, timeout=120)
err = r.stderr.decode("utf-8", errors="replace")
check(r.returncode in (0, 99), "the run completes (exit 0 or 99)", (r.returncode, err[-500:]))
check(os.path.exists(os.path.join(out, "summary.json")), "summary.json written", err[-500:])


def strict_json(text):
    def no_constant(c):
        raise ValueError("not JSON: " + c)
    return json.loads(text, parse_constant=no_constant)


class Html(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.opened, self.closed, self.data_json = 0, 0, []
        self._in_data = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.opened += 1
            self._in_data = dict(attrs).get("type") == "application/json"

    def handle_endtag(self, tag):
        if tag == "script":
            self.closed += 1
            self._in_data = False

    def handle_data(self, data):
        if self._in_data:
            self.data_json.append(data)


files = []
for root, _, names in os.walk(out):
    files += [os.path.join(root, n) for n in names]
check(len(files) >= 8, "the run folder has its files", sorted(os.path.basename(f) for f in files))
for path in sorted(files):
    name = os.path.relpath(path, out)
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        check(False, "%s: valid UTF-8" % name, e)
        continue
    check(True, "%s: valid UTF-8" % name)
    check("\0" not in text or name.endswith(".txt"), "%s: no NUL byte" % name)
    try:
        if name.endswith(".json"):
            strict_json(text)
        elif name.endswith(".jsonl"):
            for line in text.splitlines():
                strict_json(line)
        elif name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
            widths = {len(row) for row in rows}
            check(len(widths) == 1, "%s: one column count" % name, widths)
        elif name.endswith(".xml"):
            x = subprocess.run(["xmllint", "--noout", path], capture_output=True, text=True)
            check(x.returncode == 0, "%s: xmllint accepts it" % name, x.stderr[-500:])
        elif name.endswith(".html"):
            p = Html()
            p.feed(text)
            p.close()
            check(p.opened == p.closed and p.opened >= 2,
                  "%s: every <script> closed by its own end tag" % name, (p.opened, p.closed))
            check(len(p.data_json) > 0, "%s: embedded data found" % name)
            strict_json("".join(p.data_json))
        check(True, "%s: parses" % name)
    except (ValueError, csv.Error) as e:
        check(False, "%s: parses" % name, str(e)[:300])

# the bytes did reach the outputs (so the check above is not vacuous)
summ = load_json(os.path.join(out, "summary.json"))
check(any("boom" in e["message"] for e in summ.get("script_errors", [])),
      "the hostile error message is in summary.json")
check(any("name " in e["name"] for e in summ.get("endpoints", [])),
      "the hostile name is in summary.json")
samples = os.path.join(out, "error_samples.json")
check(os.path.exists(samples) and "quote" in open(samples, encoding="utf-8").read(),
      "the hostile body landed in error_samples.json")
stop(target)
done()
