"""Help that is complete (issue 16, item 7):
- every flag `tide run` parses (the string literals of engine/run/cli.c) appears in
  `tide run --help`, in `tide help`, in docs/cli.md, in the man page and in both completion
  scripts;
- every command listed by `tide help` answers `tide CMD --help` with its usage on stdout and
  exit 0, never taking --help as a file or folder name;
- a mistyped command or flag exits 2 naming the closest one;
- the generated bash completion loads (complete -p tide) and completes commands and flags;
  the zsh one parses (zsh -n, when zsh is installed); the man page renders without warnings
  (groff, when installed; else its roff structure is checked here)."""
import os
import re
import shutil
import subprocess
from tidetest import *

cli_c = open(os.path.join(SRC, "engine", "run", "cli.c")).read()
parsed = sorted(set(re.findall(r'"(--?[a-zA-Z][a-zA-Z0-9-]*)"', cli_c)))
parsed.remove("--help")  # handled in main.c before the parser (and listed in usage lines)
check(len(parsed) > 40, "flags found in cli.c", parsed)


def tokens(text):
    return set(re.findall(r"(?<![\w-])--?[a-zA-Z][\w-]*", text))


run_help = run(["run", "--help"])
check_eq(run_help.returncode, 0, "tide run --help exits 0")
check(run_help.stdout.startswith("usage: tide run"), "tide run --help is run's usage",
      run_help.stdout[:200])
full_help = run(["help"])
docs = open(os.path.join(SRC, "docs", "cli.md")).read()
bindir = os.path.dirname(os.path.abspath(TIDE))
man_path = os.path.join(bindir, "tide.1")
bash_path = os.path.join(bindir, "tide.bash")
zsh_path = os.path.join(bindir, "_tide")
for p in (man_path, bash_path, zsh_path):
    check(os.path.exists(p), "generated in the build: " + os.path.basename(p))
man = open(man_path).read() if os.path.exists(man_path) else ""
man_text = man.replace("\\-", "-")
bash_script = open(bash_path).read() if os.path.exists(bash_path) else ""
zsh_script = open(zsh_path).read() if os.path.exists(zsh_path) else ""
for name, text in (("tide run --help", run_help.stdout), ("tide help", full_help.stdout),
                   ("docs/cli.md", docs), ("tide.1", man_text),
                   ("tide.bash", bash_script), ("_tide", zsh_script)):
    missing = [f for f in parsed if f not in tokens(text)]
    check_eq(missing, [], "every parsed flag is in " + name)

# the generated files are what the commands print (built from the same text)
check_eq(run(["completion", "bash"]).stdout, bash_script, "tide completion bash = build/tide.bash")
check_eq(run(["completion", "zsh"]).stdout, zsh_script, "tide completion zsh = build/_tide")
check_eq(run(["help", "--man"]).stdout, man, "tide help --man = build/tide.1")
r = run(["completion", "fish"])
check(r.returncode == 2 and r.stderr.startswith("tide: completion: expected bash or zsh"),
      "another shell: exit 2 with one line", r.stderr)

# per-command help
commands = re.findall(r"^  tide ([a-z0-9-]+)", full_help.stdout, re.M)
commands += ["completion", "version", "help"]
m = re.search(r'local commands="([^"]*)"', bash_script)  # main.c's table of every command
check(m is not None and set(commands) <= set(m.group(1).split()),
      "every command of tide help is completed", m and m.group(1))
commands += m.group(1).split() if m else []
check(len(set(commands)) >= 15, "commands listed by tide help", commands)
cwd = tmpdir()
for c in sorted(set(commands)):
    r = run([c, "--help"], cwd=cwd, timeout=20)
    check_eq(r.returncode, 0, "tide %s --help exits 0" % c)
    check(r.stdout.strip() != "" and ("usage" in r.stdout.lower() or c == "version"),
          "tide %s --help prints its usage on stdout" % c, (r.stdout[:200], r.stderr[:200]))
check_eq(os.listdir(cwd), [], "no --help file or folder was made by any command")
r = run(["verify", "--help"])
check(r.stdout.startswith("usage: tide verify DIR"), "tide verify --help is verify's usage")

# did you mean
r = run(["verfy", "x"])
check(r.returncode == 2 and "did you mean 'verify'?" in r.stderr, "tide verfy -> verify, exit 2",
      r.stderr)
r = run(["frobnicate"])
check(r.returncode == 2 and "unknown command \"frobnicate\"" in r.stderr and "did you" not in
      r.stderr, "an unknown command far from any: exit 2, no suggestion", r.stderr)
script = write(tmpdir(), "s.lua", "function run() end\n")
r = run(["run", script, "--durtion", "5s"])
check(r.returncode == 2 and "unknown option --durtion (did you mean --duration?" in r.stderr,
      "--durtion -> --duration, exit 2", r.stderr)
wrong = []
for f in [f for f in parsed if f.startswith("--")]:
    body = f[2:]
    typo = "--" + body[:1] + body[2] + body[1] + body[3:] if len(body) > 3 else "--" + body + "x"
    if typo in parsed:
        continue
    r = run(["run", script, typo, "1"])
    if r.returncode != 2 or ("did you mean %s?" % f) not in r.stderr:
        wrong.append((typo, r.returncode, r.stderr.strip()))
check_eq(wrong, [], "every long flag is suggested for a typo of it")

# bash completion: loads, completes commands and flags
if shutil.which("bash"):
    def complete(*words):
        cw = " ".join("'%s'" % w for w in words)
        r = subprocess.run(["bash", "--norc", "-c", "source '%s' && complete -p tide && "
                            "COMP_WORDS=(%s) && COMP_CWORD=%d && _tide && "
                            "printf '%%s\\n' \"${COMPREPLY[@]}\"" % (bash_path, cw, len(words) - 1)],
                           capture_output=True, text=True, timeout=20, cwd=tmpdir())
        return r.returncode, r.stdout.split("\n")
    rc, out = complete("tide", "ver")
    check(rc == 0 and out[0].startswith("complete ") and "_tide" in out[0], "complete -p tide", out)
    check({"verify", "verify-receipt", "version"} <= set(out), "commands complete", out)
    rc, out = complete("tide", "run", "x.lua", "--")
    check_eq([f for f in parsed if f.startswith("--") and f not in out], [],
             "bash completes every long flag after tide run")
    rc, out = complete("tide", "run", "x.lua", "--dur")
    check_eq(out[1:-1], ["--duration"], "bash completes --dur to --duration")

if shutil.which("zsh"):
    r = subprocess.run(["zsh", "-n", zsh_path], capture_output=True, text=True, timeout=20)
    check_eq((r.returncode, r.stderr), (0, ""), "zsh -n parses _tide")
    r = subprocess.run(["zsh", "-f", "-c", "autoload -U compinit && compinit -u -d %s/zcd && "
                        "source %s && print ${_comps[tide]}" % (tmpdir(), zsh_path)],
                       capture_output=True, text=True, timeout=30)
    check_eq(r.stdout.strip(), "_tide", "sourced after compinit, _tide completes tide")
else:
    print("SKIP (sub-check): zsh not installed, _tide not parsed by zsh -n")
check(zsh_script.startswith("#compdef tide\n"), "_tide is a zsh completion function file")

# man page
check(man.startswith(".TH TIDE 1 "), "man page header")
for sec in ("NAME", "SYNOPSIS", "COMMANDS", "RUN OPTIONS", "EXIT STATUS"):
    check(".SH " + sec + "\n" in man, "man page section " + sec)
bad = [l for l in man.split("\n") if l.startswith(".") and
       not re.match(r"^\.(TH|SH|TP|PP|B|BR|I|br|nf|fi) ?", l)]
check_eq(bad, [], "only known man macros start a line (text lines are escaped)")
if shutil.which("groff"):
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man_path], capture_output=True,
                       text=True, timeout=30)
    check_eq((r.returncode, r.stderr), (0, ""), "groff renders tide.1 without warnings")
    r = subprocess.run(["groff", "-man", "-Tutf8", man_path], capture_output=True, text=True,
                       timeout=30)
    shown = re.sub(r".\x08", "", r.stdout).replace("\u2010", "-").replace("\u2212", "-")
    check_eq([f for f in parsed if f not in tokens(shown)], [], "every flag in the rendered page")
else:
    print("SKIP (sub-check): groff not installed, tide.1 checked as text only")
done()
