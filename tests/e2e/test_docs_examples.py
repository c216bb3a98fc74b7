"""Every `tide` command shown in README.md and docs/*.md runs, so the docs cannot rot.

Commands are taken from the fenced code blocks. Each runs in a scratch folder that has the
repository's scenarios/, examples/ and plugins/ and a build/tide, against the built-in API started by
this test on a free loopback port. Only what a machine here cannot do as printed is changed,
and always the same way:
  - hosts (localhost:5000, 127.0.0.1:8080, staging.example.com) become the local target,
    and a `tide run` that names no host gets --target;
  - run lengths (--duration, --run-time/-t, --stage) are cut to about a second, since the
    docs show realistic tests and this one must stay short; a run that still goes on after
    RUN_SECONDS (its script sets a long duration) gets Ctrl-C and must then exit 130 with its
    report written;
  - "your server" (https://staging.example.com) is the local API, or, where the docs pass
    TIDE_PASSWORD=secret, a second one whose demo user has that password;
  - `tide compare` may exit 0 or 99: its verdict on two short runs is the data's;
  - a script the docs name but do not ship (example.lua) is the Lua block shown above the
    command in the same page.
A block of '$ ' lines is a terminal transcript: every command in it runs (sed, cp too), in
order, and the lines after a command are its output, each of which must appear in what it
prints ('echo $?' compares the previous exit code). Commands that start servers or other long jobs (make, tide demo, tide
target) are run by their own tests (test_demo, the unit and e2e target tests) and skipped here
by name, so each skip is visible in this file.
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys

import tidetest as t

TIDE_CMD = r"^([A-Z_]+=\S+ )*(build/)?tide ([a-z][a-z0-9-]*|-f)\b"  # every tide command
RUN_SECONDS = 4  # then Ctrl-C: the docs show full-length tests
SKIP_PREFIXES = ("make ", "tide demo", "tide target")
# Commands that need a service this test does not start (an IPFS node, an S3 server...): each
# names the test that runs it as printed, so the skip is visible and the command still runs.
OWN_TEST = {
    "tide export runs/smoke --ipfs": "e2e.test_export_ipfs",
    "tide run scenarios/dweb.lua": "e2e.test_scenarios_dweb",
    "tide run scenarios/hello.lua --vus 5 --duration 30s --stream prometheus=":
        "e2e.test_stream_prometheus",  # needs a Prometheus with its remote-write receiver
    # docs/export-s3.md: an S3-compatible server, and keys made by the page's own keygen
    "tide export report/checkout --s3": "e2e.test_export_s3",
    "tide keygen --out team.key": "e2e.test_export_s3",
    "tide encrypt report/checkout/summary.json": "e2e.test_export_s3",
    "tide decrypt summary.json.age": "e2e.test_export_s3",
    "tide decrypt checkout-summary.json.age": "e2e.test_export_s3",
}
# Placeholder hosts in the docs and the folder every README/docs command assumes.
HOST_RE = re.compile(r"https?://(localhost:5000|127\.0\.0\.1:8080)")
# "Your server" in the docs: a second local API where demo's password is the docs' "secret".
STAGING_RE = re.compile(r"https://staging\.example\.com")


def blocks(text):
    """(language, body, start line) of each fenced block."""
    out, lang, body, start = [], None, [], 0
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if lang is None:
                lang, body, start = line[3:].strip(), [], n
            else:
                out.append((lang, body, start))
                lang = None
        elif lang is not None:
            body.append(line)
    return out


def commands(path):
    """(command, expected output lines, lua block above it, line, shown) for each command:
    every tide command, and in '$ ' transcripts every command (sed, echo $? ...)."""
    text = open(path).read()
    lua, found = None, []
    for lang, body, start in blocks(text):
        if lang == "lua":
            lua = "\n".join(body) + "\n"
            continue
        if lang not in ("", "sh", "bash", "console"):
            continue
        i = 0
        while i < len(body):
            line = body[i]
            shown = line.startswith("$ ")
            cmd = line[2:] if shown else line
            while cmd.endswith("\\") and i + 1 < len(body):  # continued line
                i += 1
                cmd = cmd[:-1] + " " + body[i].strip()
            expect = []
            if shown:
                while i + 1 < len(body) and not body[i + 1].startswith("$ ") and body[i + 1]:
                    i += 1
                    expect.append(body[i])
            i += 1
            words = cmd.split(" #")[0].strip()
            if shown or re.match(TIDE_CMD, words) or words.startswith("make "):
                found.append((words, expect, lua, start + i, shown))
    return found


def shorten(argv):
    """Cuts run lengths to about a second (see the module comment)."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a in ("--duration", "--run-time", "-t") and i + 1 < len(argv):
            out += [a, "1s"]
            i += 2
            continue
        if a == "--stage" and i + 1 < len(argv):
            target = argv[i + 1].split(":")[-1]
            out += [a, "1s:" + target]
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def prepare(scratch):
    os.makedirs(os.path.join(scratch, "build"), exist_ok=True)
    os.symlink(os.path.abspath(t.TIDE), os.path.join(scratch, "build", "tide"))
    # real folders of links: a file the test writes stays in the scratch folder
    for d in ("scenarios", "examples", "plugins"):
        for root, dirs, files in os.walk(os.path.join(t.SRC, d)):
            rel = os.path.relpath(root, t.SRC)
            os.makedirs(os.path.join(scratch, rel), exist_ok=True)
            for f in files:
                os.symlink(os.path.join(root, f), os.path.join(scratch, rel, f))


def check_shipped(doc, lua, line):
    """A Lua block that opens with '-- scenarios/x.lua: ...' shows that shipped file, verbatim."""
    m = re.match(r"^-- ((?:scenarios|examples)/[\w/.-]+\.lua)", lua or "")
    if m:
        path = os.path.join(t.SRC, m.group(1))
        t.check(os.path.exists(path) and open(path).read() == lua,
                "%s:%d: the block shows %s" % (doc, line, m.group(1)),
                "the file differs from the block (or is missing)")


def run_one(doc, cmd, expect, lua, line, urls, scratch, last):
    """Runs one command; returns its exit code (for a following 'echo $?')."""
    where = "%s:%d: %s" % (doc, line, cmd)
    if cmd.startswith(SKIP_PREFIXES):
        print("skipped here (own test): " + where)
        return 0
    for prefix, test in OWN_TEST.items():
        if cmd.startswith(prefix):
            print("run by %s, not here: %s" % (test, where))
            return 0
    if cmd == "echo $?":
        t.check([str(last)] == expect, where, "exit code %d, the page shows %s" % (last, expect))
        return last
    if not re.match(TIDE_CMD, cmd):  # another command of a transcript (sed, cp...)
        p = subprocess.run(["bash", "-c", cmd], cwd=scratch, capture_output=True, text=True,
                           timeout=30)
        t.check(p.returncode == 0, where, p.stderr)
        return p.returncode
    url, staging = urls
    if "TIDE_PASSWORD=secret" not in cmd:
        staging = url  # the reader's server with the default password
    words = shlex.split(STAGING_RE.sub(staging, HOST_RE.sub(url, cmd)))
    env = {}
    while words and re.match(r"^[A-Z_]+=", words[0]):
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    argv = words[1:] if expect else shorten(words[1:])
    # a script the page names without shipping it: the Lua block shown above the command
    for a in argv:
        if a.endswith(".lua") and not os.path.exists(os.path.join(scratch, a)):
            t.check(lua is not None, where, "names %s, which neither exists nor is shown" % a)
            if lua is None:
                return 2
            t.write(scratch, a, lua)
    if "--host" not in argv and "-H" not in argv and "--target" not in argv and \
            argv[:1] == ["run"]:
        argv.append("--target")  # a run without a host: the docs' "against your server"
    rc, out = run_bounded(argv, scratch, env)
    if expect:
        for e in expect:
            e = HOST_RE.sub(url, e)
            t.check(e.strip() in out, where, "expected output line missing: %r\n--- got:\n%s"
                    % (e, out[-2000:]))
        return rc
    if rc == 130:
        t.check(os.path.exists(os.path.join(scratch, "report", "latest", "summary.json")),
                where, "interrupted after %d s, but no report written" % RUN_SECONDS)
        return rc
    ok = (0, 99) if argv[:1] == ["compare"] else (0,)  # compare's verdict depends on the data
    if rc == 99 and only_latency_failed(argv, scratch):
        print("latency thresholds missed on this machine (its verdict, not the docs'): " + where)
        return rc
    t.check(rc in ok, where, "exit %d\n%s" % (rc, out[-2000:]))
    return rc


TIMING = ("http_req_duration", "http_req_waiting", "http_req_connecting", "http_req_sending",
          "http_req_receiving", "http_req_blocked", "http_req_tls_handshaking",
          "iteration_duration", "group_duration")


def only_latency_failed(argv, scratch):
    """A run whose only failed thresholds are on timings: a busy machine may miss a latency
    goal the docs set for a real server, and no test here asserts a speed (bench/ does)."""
    out = argv[argv.index("--out") + 1] if "--out" in argv else os.path.join("report", "latest")
    try:
        s = t.load_json(os.path.join(scratch, out, "summary.json"))
    except (OSError, ValueError):
        return False
    failed = [x for x in s.get("thresholds") or [] if not x.get("ok")]
    verify = s.get("verify")
    return bool(failed) and all(x["metric"].split("{")[0] in TIMING for x in failed) and \
        (verify is None or verify.get("ok", True))


def run_bounded(argv, cwd, env):
    """Runs tide; a run still going after RUN_SECONDS gets Ctrl-C, as a user would."""
    e = dict(os.environ)
    e.update(env)
    p = subprocess.Popen([t.TIDE, *argv], cwd=cwd, env=e, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    try:
        out, _ = p.communicate(timeout=RUN_SECONDS)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        try:
            out, _ = p.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            return -1, out + "\n(did not stop 90 s after Ctrl-C)"
    return p.returncode, out


def main():
    scratch = t.tmpdir("tide-docs-")
    users = t.write(scratch, "staging-users.csv", "demo,secret\n")
    target, url = t.start_target()
    staging_target, staging = t.start_target("--users", users)
    docs = ["README.md"] + sorted(
        os.path.join("docs", f) for f in os.listdir(os.path.join(t.SRC, "docs"))
        if f.endswith(".md"))
    prepare(scratch)
    total = 0
    try:
        for doc in docs:
            last = 0
            for lang, body, start in blocks(open(os.path.join(t.SRC, doc)).read()):
                if lang == "lua":
                    check_shipped(doc, "\n".join(body) + "\n", start)
            for cmd, expect, lua, line, _ in commands(os.path.join(t.SRC, doc)):
                total += 1
                last = run_one(doc, cmd, expect, lua, line, (url, staging), scratch, last)
    finally:
        t.stop(target)
        t.stop(staging_target)
    t.check(total >= 30, "commands found in the docs", "only %d" % total)
    shutil.rmtree(scratch, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    sys.exit(main())
