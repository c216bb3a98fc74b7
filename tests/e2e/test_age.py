"""age interop, both ways, with Debian's age tool (age, age-keygen): a file `tide encrypt`
writes opens with `age -d -i KEY`, a file `age -r` writes opens with `tide decrypt`, at sizes
around the 64 KiB chunk; a key from `tide keygen` works with age; the wrong key, a flipped byte
and a truncated file fail cleanly (one line, exit 99, no output file left); bad usage exits 2."""
import os
import shutil
import subprocess

import tidetest as t

if not shutil.which("age") or not shutil.which("age-keygen"):
    t.skip("Debian's age is not installed (apt-get install age)")

d = t.tmpdir("tide-age-")


def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, timeout=60, **kw)


def path(name):
    return os.path.join(d, name)


sh("age-keygen", "-o", path("age.key"))
age_recipient = sh("age-keygen", "-y", path("age.key")).stdout.decode().strip()
t.check(age_recipient.startswith("age1"), "age-keygen gives a recipient", age_recipient)

# tide keygen: a 0600 identity file; its printed recipient is what age derives from it.
r = t.run(["keygen", "--out", path("tide.key")])
t.check_eq(r.returncode, 0, "tide keygen exit code")
tide_recipient = r.stdout.strip()
t.check_eq(oct(os.stat(path("tide.key")).st_mode & 0o777), "0o600", "identity file mode")
t.check_eq(sh("age-keygen", "-y", path("tide.key")).stdout.decode().strip(), tide_recipient,
           "age derives the recipient tide printed")
r = t.run(["keygen", "--out", path("tide.key")])
t.check(r.returncode == 2 and "cannot create" in r.stderr, "keygen never replaces a key", r.stderr)

for size in (0, 1, 65535, 65536, 65537, 300000):
    plain = path("plain-%d" % size)
    with open(plain, "wb") as f:
        f.write(os.urandom(size))
    want = open(plain, "rb").read()
    # tide -> age, two recipients: each identity opens it.
    r = t.run(["encrypt", plain, "--to", age_recipient, "--to", tide_recipient])
    t.check_eq(r.returncode, 0, "tide encrypt %d bytes" % size)
    for key in ("age.key", "tide.key"):
        p = sh("age", "-d", "-i", path(key), plain + ".age")
        t.check(p.returncode == 0 and p.stdout == want, "age -d opens tide's %d bytes (%s)"
                % (size, key), p.stderr.decode())
    # age -> tide.
    sh("age", "-r", tide_recipient, "-o", plain + ".by-age", plain)
    out = plain + ".opened"
    r = t.run(["decrypt", plain + ".by-age", "--identity", path("tide.key"), "--out", out])
    t.check(r.returncode == 0 and open(out, "rb").read() == want,
            "tide decrypt opens age's %d bytes" % size, r.stderr)

# The default output name: FILE.age -> FILE.
src = path("report.txt")
with open(src, "w") as f:
    f.write("p95 = 12 ms\n")
sh("age", "-r", age_recipient, "-o", src + ".age", src)
os.remove(src)
r = t.run(["decrypt", src + ".age", "--identity", path("age.key")])
t.check(r.returncode == 0 and open(src).read() == "p95 = 12 ms\n", "decrypt FILE.age -> FILE",
        r.stderr)

# Failures: one line on stderr, exit 99, no output file.
big = path("plain-300000")
sh("age", "-r", age_recipient, "-o", big + ".x.age", big)
r = t.run(["decrypt", big + ".x.age", "--identity", path("tide.key"), "--out", path("wrong")])
t.check(r.returncode == 99 and "no identity matches" in r.stderr, "wrong key: exit 99", r.stderr)
t.check(not os.path.exists(path("wrong")), "wrong key: no output file")
t.check_eq(len(r.stderr.strip().splitlines()), 1, "wrong key: one line")
data = bytearray(open(big + ".x.age", "rb").read())
for where, offset in (("payload", len(data) - 1000), ("header", 40)):
    flipped = bytearray(data)
    flipped[offset] ^= 1
    with open(path("flipped.age"), "wb") as f:
        f.write(flipped)
    out = path("flipped-out")
    r = t.run(["decrypt", path("flipped.age"), "--identity", path("age.key"), "--out", out])
    t.check(r.returncode == 99 and r.stderr.startswith("tide: decrypt"),
            "a flipped byte in the %s: exit 99" % where, r.stderr)
    t.check(not os.path.exists(out), "a flipped byte in the %s: no output file" % where)
with open(path("cut.age"), "wb") as f:
    f.write(data[:65536 + 300])
r = t.run(["decrypt", path("cut.age"), "--identity", path("age.key"), "--out", path("cut")])
t.check(r.returncode == 99 and not os.path.exists(path("cut")), "truncated: exit 99", r.stderr)
# And age agrees that tide's flipped file is broken (the test's own bytes are right).
flipped = bytearray(open(path("plain-65537.age"), "rb").read())
flipped[-5] ^= 1
with open(path("flipped2.age"), "wb") as f:
    f.write(flipped)
t.check(sh("age", "-d", "-i", path("age.key"), path("flipped2.age")).returncode != 0,
        "age refuses a flipped byte in tide's file")

# Bad usage and bad input: exit 2, one line.
for args, what in ((["decrypt", big + ".x.age"], "no --identity"),
                   (["decrypt", big + ".x.age", "--identity", src, "--out", path("o")],
                    "not an identity file"),
                   (["encrypt", src, "--to", "age1notakey"], "bad recipient"),
                   (["encrypt", src], "no recipient"),
                   (["decrypt", path("plain-1"), "--identity", path("age.key")], "no .age name")):
    r = t.run(args)
    t.check(r.returncode == 2 and r.stderr.startswith("tide: "), what, r.stderr)
r = t.run(["decrypt", path("plain-1"), "--identity", path("age.key"), "--out", path("o2")])
t.check(r.returncode == 99 and "not an age file" in r.stderr, "not an age file", r.stderr)
# The identity's secret never appears in an error.
secret = [l for l in open(path("tide.key")).read().splitlines() if l.startswith("AGE-SECRET")][0]
with open(path("bad.key"), "w") as f:
    f.write(secret[:-1] + ("A" if secret[-1] != "A" else "B") + "\n")
r = t.run(["decrypt", big + ".x.age", "--identity", path("bad.key"), "--out", path("o3")])
t.check(r.returncode == 2 and secret[16:40] not in r.stderr, "a bad key is not printed", r.stderr)

shutil.rmtree(d)
t.done()
