"""Options are type- and range-checked at start (issue 15): a value that would wrap (vus =
1e12), a NaN, a negative or endless duration, a threshold or stages of the wrong type, a
mistyped scenario option, each stops `tide run` before anything starts, with one line naming
the option and exit 2 (docs/cli.md#exit-codes). The unit test (tests/unit/test_options.c)
checks every message; this one checks what the user sees from the real binary."""
import os
from tidetest import *

work = tmpdir()
CASES = [
    ("vus = 1e12", "options.vus: 1e+12 is too large (at most 10000000)"),
    ("vus = 0/0", "options.vus: expected a number >= 0"),
    ("iterations = 1e18", "options.iterations: 1e+18 is too large"),
    ("duration = -5", "options.duration: expected a duration >= 0"),
    ("duration = 1e300", "options.duration: 1e+300 s is more than 100 years"),
    ("threads = 1e6", "options.threads: 1e+06 is too large (at most 256)"),
    ("thresholds = 'p(95)<100'", "options.thresholds: expected a table"),
    ("stages = { { duration = '1s', target = 1e12 } }", "options.stages[1].target"),
    ("insecure = 'yes'", "options.insecure: expected true or false"),
    ("scenarios = { a = { executor = 'constant-arrival-rate', rate = 5, duration = '1s', "
     "maxVUs = 1e12 } }", "options.scenarios.a.max_vus: 1e+12 is too large"),
    ("scenarios = { a = { executor = 'constant-vus', vus = 2, duration = '1s', maxVus = 3 } }",
     'unknown option "maxVus" (did you mean "maxVUs"?)'),
]
for i, (opts, want) in enumerate(CASES):
    s = write(work, "s%d.lua" % i, "options = { %s }\nfunction run() end\n" % opts)
    out = os.path.join(work, "out%d" % i)
    r = run(["run", s, "--out", out], timeout=30)
    lines = r.stderr.strip().splitlines()
    check_eq(r.returncode, 2, "%s: exit 2" % opts)
    check(len(lines) == 1 and lines[0].startswith("tide: ") and want in lines[0],
          "%s: one line naming it" % opts, r.stderr[-300:])
    check(not os.path.exists(os.path.join(out, "summary.json")), "%s: nothing ran" % opts)
done()
