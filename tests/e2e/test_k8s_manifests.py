"""examples/kubernetes, checked offline:

- every manifest validates against the Kubernetes schema (npm kubernetes-models 4.x, pinned in
  tests/k8s/package.json + lock, installed with `npm ci` when missing; tests/k8s/validate.js),
  and a broken Job does not (the validator is not a no-op);
- the Indexed Job is what docs/distributed.md promises: completionMode Indexed, parallelism =
  completions = the --segments N of its command, backoffLimit 0, restartPolicy Never; the
  merge Job merges exactly segment-0 .. segment-N-1; every Job mounts the scenario ConfigMap and
  the PVC that pvc.yaml defines;
- the Jobs' shell commands run as written (paths and the target's URL substituted, the
  scenario's 2 minutes at 300/s cut to 2 s at 20/s) against a local `tide target`: setup, the
  N segments with JOB_COMPLETION_INDEX, teardown and merge, which passes;
- the Containerfile's runtime stage installs the Debian package of every library the tide
  binary links.
Skips (77) when node/npm are missing.
"""
import json
import os
import re
import shutil
import subprocess

import tidetest as t

HERE = os.path.join(t.SRC, "tests", "k8s")
EXAMPLES = os.path.join(t.SRC, "examples", "kubernetes")

BROKEN_JOB = """apiVersion: batch/v1
kind: Job
metadata: { name: broken }
spec:
  completionMode: Indexed
  backoffLimit: "none"
  template:
    spec:
      restartPolicy: Never
      containers: [ { name: x, image: y } ]
"""


def npm_ready():
    if shutil.which("node") is None or shutil.which("npm") is None:
        t.skip("node and npm not found (apt-get install -y nodejs npm)")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "kubernetes-models")):
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=HERE, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            t.check(False, "npm ci in tests/k8s", r.stderr[-500:])
            t.done()


def validate(files):
    return subprocess.run(["node", os.path.join(HERE, "validate.js"), *files],
                          capture_output=True, text=True, timeout=120)


def job_script(doc):
    c = doc["spec"]["template"]["spec"]["containers"][0]
    return " ".join(c.get("args", [])), {e["name"]: e.get("value", "") for e in c.get("env", [])}


def exercise(docs, P, tmp):
    """Checks the shapes of one set of manifests (objects named P-...), then runs its Jobs'
    commands against a local target."""
    seg = docs.get(P + "-segments", {})
    spec = seg.get("spec", {})
    script, _ = job_script(seg) if seg else ("", {})
    m = re.search(r"--segments (\d+)", script)
    n = int(m.group(1)) if m else -1
    t.check_eq(spec.get("completionMode"), "Indexed", "segments: completionMode")
    t.check_eq(spec.get("completions"), n, "segments: completions = --segments N")
    t.check_eq(spec.get("parallelism"), n, "segments: parallelism = --segments N")
    t.check_eq(spec.get("backoffLimit"), 0, "segments: backoffLimit")
    for name, d in docs.items():
        if d["kind"] != "Job":
            continue
        pod = d["spec"]["template"]["spec"]
        t.check_eq(pod.get("restartPolicy"), "Never", name + ": restartPolicy")
        t.check_eq(d["spec"].get("backoffLimit"), 0, name + ": backoffLimit")
        vols = {v["name"]: v for v in pod.get("volumes", [])}
        t.check_eq(vols.get("results", {}).get("persistentVolumeClaim", {}).get("claimName"),
                   docs.get(P + "-results", {}).get("metadata", {}).get("name"),
                   name + ": mounts the PVC of pvc.yaml")
        t.check_eq(vols.get("scenario", {}).get("configMap", {}).get("name"), P + "-scenario",
                   name + ": mounts the scenario ConfigMap")
    merge_script, _ = job_script(docs[P + "-merge"])
    folders = re.findall(r"/results/segment-(\d+)", merge_script)
    t.check_eq(sorted(int(x) for x in folders), list(range(n)),
               "merge Job merges segment-0 .. segment-N-1")
    t.check("scenario.lua" in docs[P + "-scenario"]["data"], "ConfigMap holds scenario.lua")

    # the Jobs' commands, as written, against a local target
    target, url = t.start_target()
    scen = os.path.join(tmp, P, "scenario")
    results = os.path.join(tmp, P, "results")
    os.makedirs(scen)
    os.makedirs(results)
    lua = docs[P + "-scenario"]["data"]["scenario.lua"]
    lua = lua.replace('duration = "2m"', 'duration = "2s"').replace("rate = 300", "rate = 20")
    t.write(scen, "scenario.lua", lua)
    bindir = os.path.join(tmp, P, "bin")
    os.makedirs(bindir)
    os.symlink(os.path.abspath(t.TIDE), os.path.join(bindir, "tide"))

    def local_paths(text):
        text = text.replace("/scenario/scenario.lua", os.path.join(scen, "scenario.lua"))
        return text.replace("/results/", results + "/")

    def run_job(name, extra_env=None):
        text, env = job_script(docs[name])
        text = local_paths(text)
        e = dict(os.environ, **env)
        e["TARGET_URL"] = url
        e["PATH"] = bindir + os.pathsep + e["PATH"]
        e.update(extra_env or {})
        return subprocess.run(["/bin/sh", "-c", text], capture_output=True, text=True, env=e,
                              timeout=180)

    r = run_job(P + "-setup")
    t.check_eq(r.returncode, 0, "setup Job's command (%s)" % r.stderr.strip()[-300:])
    with open(os.path.join(results, "start-at"), "w") as f:
        f.write("%.3f\n" % (__import__("time").time() + 6))  # 60 s ahead is for a cluster
    procs = []
    for i in range(n):
        text, env = job_script(docs[P + "-segments"])
        text = local_paths(text)
        e = dict(os.environ)
        e.update(env)
        e.update(TARGET_URL=url, JOB_COMPLETION_INDEX=str(i))
        e["PATH"] = bindir + os.pathsep + e["PATH"]
        procs.append(subprocess.Popen(["/bin/sh", "-c", text + " --quiet"], env=e,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    for i, p in enumerate(procs):
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        t.check_eq(p.returncode, 0, "segment pod %d's command (%s)" % (i, err.strip()[-300:]))
    r = run_job(P + "-merge")
    t.check_eq(r.returncode, 0, "merge Job's command (%s)" % r.stderr.strip()[-300:])
    s = t.load_json(os.path.join(results, "merged", "summary.json"))
    stats = t.http_json(url + "/_stats")["requests"]
    t.check_eq(s["aggregated"]["requests"],
               stats.get("GET /api/projects", {}).get("200"),
               "merged requests = the target's GET /api/projects")
    t.check_eq(stats.get("POST /api/auth/login", {}).get("200"), 1, "setup() once (login)")
    t.check_eq(stats.get("POST /api/auth/logout", {}).get("204", 0) +
               stats.get("POST /api/auth/logout", {}).get("200", 0), 1, "teardown() once")
    t.stop(target)



def main():
    npm_ready()
    files = sorted(os.path.join(EXAMPLES, f) for f in os.listdir(EXAMPLES)
                   if f.endswith(".yaml"))
    t.check(len(files) >= 5, "example manifests found", files)
    r = validate(files)
    t.check_eq(r.returncode, 0, "manifests validate (%s)" % r.stderr.strip())
    docs = {d["doc"]["metadata"]["name"]: d["doc"] for d in json.loads(r.stdout or "[]")}

    tmp = t.tmpdir()
    broken = t.write(tmp, "broken.yaml", BROKEN_JOB)
    r = validate([broken])
    t.check(r.returncode != 0 and "backoffLimit" in r.stderr, "a broken Job fails validation",
            r.stderr)

    exercise(docs, "tide", tmp)

    # tide k8s manifest: the same shapes, generated for N = 4 and another name
    lua = docs["tide-scenario"]["data"]["scenario.lua"]
    scen_file = t.write(tmp, "generated.lua", lua)
    r = t.run(["k8s", "manifest", scen_file, "--segments", "4", "--image",
               "registry.example.com/tide:0.1", "--name", "gen", "--host",
               "http://svc.example:8080"])
    t.check_eq(r.returncode, 0, "tide k8s manifest exit code (%s)" % r.stderr.strip())
    gen = t.write(tmp, "generated.yaml", r.stdout)
    v = validate([gen])
    t.check_eq(v.returncode, 0, "generated manifests validate (%s)" % v.stderr.strip())
    gdocs = {d["doc"]["metadata"]["name"]: d["doc"] for d in json.loads(v.stdout or "[]")}
    t.check_eq(sorted(gdocs), ["gen-merge", "gen-results", "gen-scenario", "gen-segments",
                               "gen-setup"], "generated objects")
    t.check_eq(gdocs.get("gen-scenario", {}).get("data", {}).get("scenario.lua"), lua,
               "the generated ConfigMap holds the scenario verbatim")
    if len(gdocs) == 5:
        exercise(gdocs, "gen", tmp)
    for args, what in ((["--segments", "0", "--image", "x"], "--segments 0"),
                       (["--segments", "2", "--image", "x", "--name", "Bad_Name"], "a bad name"),
                       (["--segments", "2"], "no image")):
        r = t.run(["k8s", "manifest", scen_file, *args])
        t.check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and
                r.stdout == "", "tide k8s manifest refuses " + what, r.stderr)
    r = t.run(["k8s", "manifest", os.path.join(tmp, "missing.lua"), "--segments", "2",
               "--image", "x"])
    t.check_eq(r.returncode, 2, "tide k8s manifest: a missing scenario")

    # the CI matrix: one job per segment, all of them merged by the gating job
    ci = os.path.join(t.SRC, "examples", "ci", "github-actions-matrix.yml")
    r = subprocess.run(["node", "-e", "const fs=require('fs');process.stdout.write(JSON.stringify("
                        "require('yaml').parse(fs.readFileSync(process.argv[1],'utf8'))))", ci],
                       cwd=HERE, capture_output=True, text=True, timeout=60)
    t.check_eq(r.returncode, 0, "CI workflow parses (%s)" % r.stderr.strip())
    wf = json.loads(r.stdout or "{}")
    jobs = wf.get("jobs", {})
    matrix = jobs.get("segment", {}).get("strategy", {}).get("matrix", {}).get("segment", [])
    k = len(matrix)
    seg_run = " ".join(st.get("run", "") for st in jobs.get("segment", {}).get("steps", []))
    merge_run = " ".join(st.get("run", "") for st in jobs.get("merge", {}).get("steps", []))
    t.check(k >= 2 and matrix == list(range(1, k + 1)), "CI matrix lists segments 1..N", matrix)
    t.check("--segment ${{ matrix.segment }}/%d" % k in seg_run, "CI segment job runs I/N",
            seg_run)
    t.check(all("artifacts/segment-%d" % i in merge_run for i in matrix) and
            "tide merge" in merge_run, "CI merge job merges every segment", merge_run)
    t.check_eq(jobs.get("merge", {}).get("needs"), "segment", "CI merge waits for the segments")
    t.check("--phase setup" in " ".join(st.get("run", "") for st in
                                        jobs.get("setup", {}).get("steps", [])),
            "CI setup job runs setup() once")

    # the image's runtime packages provide every library tide links
    with open(os.path.join(EXAMPLES, "Containerfile")) as f:
        containerfile = f.read()
    runtime = containerfile.split("FROM ")[-1]
    if shutil.which("objdump") and shutil.which("dpkg"):
        od = subprocess.run(["objdump", "-p", t.TIDE], capture_output=True, text=True).stdout
        for lib in re.findall(r"NEEDED\s+(\S+)", od):
            if lib.startswith(("libc.so", "libm.so", "libasan", "libubsan", "libtsan")):
                continue
            path = subprocess.run(["sh", "-c", "ldconfig -p | grep -m1 '%s ' | sed 's/.*=> //'"
                                   % lib], capture_output=True, text=True).stdout.strip()
            pkg = ""
            for p in (path, os.path.realpath(path), "/usr" + path):
                out = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True).stdout
                if out:
                    pkg = out.split(":")[0]
                    break
            t.check(pkg != "" and re.search(r"\b%s\b" % re.escape(pkg), runtime) is not None,
                    "Containerfile runtime stage installs %s (for %s)" % (pkg, lib))
    t.done()


if __name__ == "__main__":
    main()
