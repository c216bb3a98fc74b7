#!/usr/bin/env python3
"""check_third_party.py ROOT: fails when third-party code is committed to the repository.

The project holds only its own code; libraries come from their registry (Debian, npm) at a
pinned version. Minified files are the usual way vendored code slips in, so this fails on
any tracked *.min.js / *.min.css / *.min.mjs, any tracked node_modules/ path, and any
tracked source or asset under engine/, scenarios/, scripts/ or tests/ (not data fixtures)
with a line longer than 1000 characters (no hand-written line is that long; a minified
bundle always has one).
"""
import os
import subprocess
import sys

LONG = 1000
CODE_SUFFIXES = (".js", ".mjs", ".cjs", ".css", ".html", ".c", ".h", ".lua", ".py", ".sh",
                 ".cmake")
CODE_DIRS = ("engine/", "scenarios/", "scripts/", "tests/", "examples/", "bench/")


def tracked(root):
    out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                         capture_output=True).stdout
    return [p for p in out.decode("utf-8", "replace").split("\0") if p]


def problems(root, paths):
    found = []
    for p in paths:
        name = os.path.basename(p).lower()
        if ".min." in name and name.endswith((".js", ".css", ".mjs")):
            found.append(f"{p}: a minified file (take it from its registry, pinned)")
            continue
        if "node_modules/" in p:
            found.append(f"{p}: node_modules is installed by npm ci, never committed")
            continue
        if not (p.startswith(CODE_DIRS) and name.endswith(CODE_SUFFIXES)):
            continue
        try:
            with open(os.path.join(root, p), "rb") as f:
                for n, line in enumerate(f, 1):
                    if len(line) > LONG:
                        found.append(f"{p}:{n}: a {len(line)}-character line "
                                     "(minified or generated code?)")
                        break
        except OSError:
            continue  # deleted in the work tree, not yet in the index
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    if not os.path.exists(os.path.join(root, ".git")):
        print(f"SKIP: {root} is not a git work tree")
        return 77
    found = problems(root, tracked(root))
    for f in found:
        print(f"third-party code in the repository: {f}", file=sys.stderr)
    print(f"{len(tracked(root))} tracked files checked: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
