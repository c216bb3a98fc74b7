"""The CI examples (examples/ci/*.yml) parse, say what docs/ci.md promises, and every `tide`
command line in them runs, so the examples cannot rot.

Each file is read as YAML (python3-yaml). The GitHub and GitLab examples must hold the whole
loop: lint with `tide inspect ... --strict`, a run against the service, `tide verify`, a
baseline kept from the main branch, a `tide compare` gate without `|| true`, the comparison
posted on the pull/merge request, and a Pages deployment. Their shell lines are split into
commands; each `tide X` must name a command `tide help` lists (`tide inspect` comes with the
plan work: until it is in this build, its lines are reported, not run), each `make` target and
each repository path must exist. Then every `tide` line of the two examples runs, in order,
in a scratch folder with the repository's scenarios, against a `tide target` this test starts
on a free loopback port (the examples' http://127.0.0.1:8080 is rewritten to it, --duration is
cut to 2 s, `tide target` itself is this test's), after a first run saved as `baseline/`, the
main branch's artifact. `tide compare` may exit 0 or 99 (the data's verdict); a run may exit
99 only when nothing but latency thresholds failed (a busy machine's verdict, not the
example's).
"""
import os
import re
import shlex
import subprocess
import sys

import tidetest as t

try:
    import yaml
except ImportError:
    t.skip("python3-yaml is not installed (make test-deps installs it)")

CI = os.path.join(t.SRC, "examples", "ci")
HOST = "http://127.0.0.1:8080"
TIMING = ("http_req_duration", "http_req_waiting", "http_req_connecting", "http_req_sending",
          "http_req_receiving", "http_req_blocked", "iteration_duration")


def load(name):
    with open(os.path.join(CI, name)) as f:
        return yaml.safe_load(f)


def shell_lines(text):
    """The commands of a shell snippet: continued lines joined, comments dropped, split on
    '&&', '||' and ';' (enough for the examples' one-command-a-line style)."""
    out = []
    for line in text.replace("\\\n", " ").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        for part in re.split(r"\s*(?:&&|\|\||;)\s*", line):
            part = part.strip()
            if part:
                out.append(part)
    return out


def github_scripts(doc):
    """(job, step name, shell text) for every 'run:' of a GitHub workflow."""
    for job, spec in doc["jobs"].items():
        for step in spec.get("steps", []):
            if "run" in step:
                yield job, step.get("name", ""), step["run"]


def gitlab_scripts(doc):
    for job, spec in doc.items():
        if not isinstance(spec, dict):
            continue
        for key in ("before_script", "script", "after_script"):
            for item in spec.get(key, []) or []:
                # GitLab refuses a script item that YAML read as a mapping ("a: b" unquoted)
                if t.check(isinstance(item, str), "gitlab: %s %s item is a string" % (job, key),
                           repr(item)):
                    yield job, key, item


def tide_commands(scripts):
    cmds = []
    for job, where, text in scripts:
        for c in shell_lines(text):
            if c.startswith("tide "):
                cmds.append((job, where, c))
    return cmds


def check_references(name, scripts, known):
    """tide commands tide knows, make targets the Makefile has, repository paths that exist."""
    makefile = open(os.path.join(t.SRC, "Makefile")).read()
    for job, where, text in scripts:
        for c in shell_lines(text):
            words = c.split()
            what = "%s: %s (%s): %s" % (name, job, where, c)
            if words[0] == "tide" and len(words) > 1:
                t.check(words[1] in known or words[1] == "inspect", what,
                        "tide has no command '%s'" % words[1])
            if words[0] == "make":
                for target in words[1:]:
                    t.check(re.search(r"^%s:" % re.escape(target), makefile, re.M) is not None,
                            what, "no make target '%s'" % target)
            for w in words:
                w = w.strip("\"'")
                if re.match(r"^(scenarios|examples|docs|scripts)/[\w./-]+$", w) and "*" not in w:
                    t.check(os.path.exists(os.path.join(t.SRC, w)), what, "%s does not exist" % w)


def check_github(doc, text):
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare 'on' key as true
    t.check("pull_request" in on and "main" in on["push"]["branches"],
            "github: runs on pull requests and on main", str(on))
    steps = [s for j in doc["jobs"].values() for s in j.get("steps", [])]
    uses = [s.get("uses", "") for s in steps]
    t.check(any(u.startswith("actions/upload-artifact@") for u in uses), "github: uploads the run")
    dl = [s for s in steps if s.get("uses", "").startswith("actions/download-artifact@")
          and "run-id" in s.get("with", {})]
    t.check(bool(dl) and dl[0]["with"]["name"] == "load-baseline",
            "github: downloads main's baseline artifact by run id")
    t.check("load-baseline" in text and "--branch main" in text,
            "github: the baseline comes from main")
    t.check(any(u.startswith("actions/deploy-pages@") for u in uses), "github: deploys Pages")
    t.check("gh pr comment" in text and "--body-file compare.md" in text,
            "github: posts the comparison on the pull request")
    comp = [s for s in steps if "tide compare" in s.get("run", "")]
    t.check(len(comp) == 1 and not comp[0].get("continue-on-error"),
            "github: one compare step, not allowed to fail silently")


def check_gitlab(doc, text):
    job = doc["load-test"]
    t.check(any("merge_request_event" in r.get("if", "") for r in job["rules"]),
            "gitlab: runs on merge requests")
    t.check("jobs/artifacts/$CI_DEFAULT_BRANCH/download?job=load-test" in text,
            "gitlab: the baseline is the default branch's artifact")
    t.check("merge_requests/$CI_MERGE_REQUEST_IID/notes" in text and
            any("notes" in x for x in job["after_script"]),
            "gitlab: posts a merge-request note, also after a failed gate")
    t.check("load-report/" in job["artifacts"]["paths"] and job["artifacts"]["when"] == "always",
            "gitlab: keeps the run as an artifact")
    t.check(doc["pages"]["artifacts"]["paths"] == ["public"], "gitlab: a pages job")


def only_latency_failed(summary_path):
    try:
        s = t.load_json(summary_path)
    except (OSError, ValueError):
        return False
    failed = [x for x in s.get("thresholds") or [] if not x.get("ok")]
    return bool(failed) and all(x["metric"].split("{")[0] in TIMING for x in failed)


def argv_of(cmd, url):
    argv = shlex.split(cmd.replace(HOST, url))[1:]
    if "--duration" in argv:
        argv[argv.index("--duration") + 1] = "2s"
    return argv


def run_commands(name, cmds, url, scratch, known):
    ran = 0
    for job, where, cmd in cmds:
        what = "%s: %s (%s): %s" % (name, job, where, cmd)
        argv = argv_of(cmd, url)
        if argv[0] == "target":
            print("this test's own target replaces: " + what)
            continue
        if argv[0] not in known:
            print("not in this build yet, not run: " + what)
            continue
        r = t.run(argv, cwd=scratch, timeout=120)
        ran += 1
        ok = r.returncode == 0
        if argv[0] == "compare":
            ok = r.returncode in (0, 99) and os.path.exists(os.path.join(scratch, "compare.md"))
        elif argv[0] == "run" and r.returncode == 99:
            out = argv[argv.index("--out") + 1]
            ok = only_latency_failed(os.path.join(scratch, out, "summary.json"))
        t.check(ok, what, "exit %d\n%s%s" % (r.returncode, r.stdout[-1500:], r.stderr[-1500:]))
    return ran


def main():
    for f in sorted(os.listdir(CI)):
        if f.endswith((".yml", ".yaml")):
            try:
                load(f)
                t.check(True, "%s parses" % f)
            except yaml.YAMLError as e:
                t.check(False, "%s parses" % f, str(e))
    help_text = t.run(["help"]).stdout
    known = set(re.findall(r"^\s+tide ([a-z][a-z0-9-]*)", help_text, re.M))
    t.check({"run", "verify", "compare", "target"} <= known, "tide help lists its commands",
            str(sorted(known)))

    examples = {}
    for name, reader, checker in (("github-actions.yml", github_scripts, check_github),
                                  ("gitlab-ci.yml", gitlab_scripts, check_gitlab)):
        text = open(os.path.join(CI, name)).read()
        doc = load(name)
        scripts = list(reader(doc))
        checker(doc, text)
        check_references(name, scripts, known)
        gate = [line for _, _, x in scripts for line in x.replace("\\\n", " ").splitlines()
                if "tide compare" in line]
        t.check(len(gate) == 1 and "||" not in gate[0] and "true" not in gate[0],
                "%s: compare is a gate" % name, str(gate))
        cmds = tide_commands(scripts)
        verbs = [shlex.split(c)[1] for _, _, c in cmds]
        t.check(["inspect", "target", "run", "verify", "compare"] ==
                [v for v in verbs if v in ("inspect", "target", "run", "verify", "compare")],
                "%s: lint, service, run, verify, compare, in that order" % name, str(verbs))
        t.check(any(re.search(r"^tide inspect \S+ --strict$", c) for _, _, c in cmds),
                "%s: lints with tide inspect --strict" % name)
        examples[name] = cmds

    target, url = t.start_target()
    total = 0
    try:
        for name, cmds in examples.items():
            scratch = t.tmpdir("tide-ci-")
            os.symlink(os.path.join(t.SRC, "scenarios"), os.path.join(scratch, "scenarios"))
            # the main branch's artifact: the example's own run, saved as baseline/
            run = [c for c in cmds if shlex.split(c[2])[1] == "run"][0]
            argv = argv_of(run[2], url)
            argv[argv.index("--out") + 1] = "baseline"
            r = t.run(argv, cwd=scratch, timeout=120)
            t.check(os.path.exists(os.path.join(scratch, "baseline", "summary.json")),
                    "%s: a baseline run" % name, r.stderr[-1500:])
            total += run_commands(name, cmds, url, scratch, known)
    finally:
        t.stop(target)
    t.check(total >= 8, "tide lines run from the examples", "only %d" % total)
    t.done()


if __name__ == "__main__":
    sys.exit(main())
