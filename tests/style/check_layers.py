"""The engine's layers depend one way (docs/architecture.md): every #include "x.h" in a layer's
files names a header of the same layer or of a layer below it. The build enforces this through
include paths; this check says which include broke it, and fails on a flat or cyclic engine.
It also checks that a VU's state has one writer, core/vu.c."""
import os
import re
import sys

BELOW = {  # each layer: the layers it may include from (itself included)
    "base": {"base"},
    "stats": {"base", "stats"},
    "core": {"base", "stats", "core"},
    "lua": {"base", "stats", "core", "lua"},
    "report": {"base", "stats", "report"},
    "target": {"base", "stats", "target"},
    "run": {"base", "stats", "core", "lua", "report", "target", "run", "export"},
    "export": {"base", "stats", "export"},
}

engine = os.path.join(sys.argv[1] if len(sys.argv) > 1 else ".", "engine")
layer_of = {}
for layer in BELOW:
    d = os.path.join(engine, layer)
    if not os.path.isdir(d):
        print("FAIL: engine/%s/ is missing: the engine is not layered" % layer)
        sys.exit(1)
    for f in os.listdir(d):
        if f.endswith(".h"):
            layer_of[f] = layer
bad = 0
flat = [f for f in os.listdir(engine) if f.endswith((".c", ".h")) and f != "main.c"]
for f in flat:
    print("FAIL: engine/%s is outside the layer folders" % f)
    bad += 1
for layer in BELOW:
    d = os.path.join(engine, layer)
    for f in sorted(os.listdir(d)):
        if not f.endswith((".c", ".h")):
            continue
        for n, line in enumerate(open(os.path.join(d, f)), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            to = layer_of.get(inc)
            if to is None:
                print("FAIL: engine/%s/%s:%d includes \"%s\", no layer's header" % (layer, f, n, inc))
                bad += 1
            elif to not in BELOW[layer]:
                print("FAIL: engine/%s/%s:%d includes %s/%s: %s may not depend on %s"
                      % (layer, f, n, to, inc, layer, to))
                bad += 1
# One owner per state: a VU's state is written only by core/vu.c (docs/architecture.md).
for layer in BELOW:
    d = os.path.join(engine, layer)
    for f in sorted(os.listdir(d)):
        if not f.endswith(".c") or (layer, f) == ("core", "vu.c"):
            continue
        for n, line in enumerate(open(os.path.join(d, f)), 1):
            if re.search(r"(->|\.)state\s*=\s*TIDE_VU_", line):
                print("FAIL: engine/%s/%s:%d writes a VU's state (only core/vu.c may)"
                      % (layer, f, n))
                bad += 1
print("%d passed, %d failed" % (1 if bad == 0 else 0, bad))
sys.exit(1 if bad else 0)
