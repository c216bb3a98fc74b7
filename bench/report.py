#!/usr/bin/env python3
"""bench/report.py: reads the load generators' outputs and prints the benchmark tables.

  report.py record --case C --tool T --round N --kind KIND --out FILE --time FILE ...
      one JSON line (req/s, p50, p99, CPU, RSS, ...) from one run's output
  report.py brief                   < one JSON line: a short progress line
  report.py table RESULTS.jsonl [--ref tide] [--goal SPEC]...
      medians of rounds per (case, tool), ratio of the reference tool to each peer, goals
  report.py memtable RESULTS.jsonl  KB per VU (memory.sh)
  report.py opentable RESULTS.jsonl achieved vs target rate (openmodel.sh)

A goal SPEC is  "TEXT|CASE_A/TOOL_A|CASE_B/TOOL_B|FACTOR[|METRIC]": it holds when the median
METRIC (default rps) of A >= FACTOR x the median METRIC of B.
Only the standard library is used.
"""
import argparse
import csv
import json
import re
import statistics
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(text):
    """'9.58ms' / '850.47us' / '1.02s' -> milliseconds"""
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    if not m:
        return None
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(path):
    txt = open(path, errors="replace").read()
    r = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", txt)
    r["rps"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+)", txt)
    if m:
        r["requests"] = int(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(r"^\s+%s(?:\.0+)?%%\s+(\S+)" % pct, txt, re.M)  # wrk2 prints 50.000%
        r[key] = ms(m.group(1)) if m else None
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", txt)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", txt)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"^check_failures:\s+(\d+)", txt, re.M)  # printed by bench/wrk/flow.lua
    if m:
        errors += int(m.group(1))
    r["errors"] = errors
    return r


def parse_ab(path):
    txt = open(path, errors="replace").read()
    r = {}
    m = re.search(r"Requests per second:\s+([\d.]+)", txt)
    r["rps"] = float(m.group(1)) if m else None
    m = re.search(r"Complete requests:\s+(\d+)", txt)
    if m:
        r["requests"] = int(m.group(1))
    # ab prints whole milliseconds only
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(r"^\s+%s%%\s+(\d+)" % pct, txt, re.M)
        r[key] = float(m.group(1)) if m else None
    errors = 0
    m = re.search(r"Failed requests:\s+(\d+)", txt)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Non-2xx responses:\s+(\d+)", txt)
    if m:
        errors += int(m.group(1))
    r["errors"] = errors
    return r


def parse_autocannon(path):
    txt = open(path, errors="replace").read()
    j = json.loads(txt[txt.index("{"):])
    dur = float(j.get("duration") or 0)
    total = j["requests"]["total"]
    return {
        "rps": total / dur if dur else None,
        "requests": total,
        "p50": j["latency"].get("p50"),
        "p99": j["latency"].get("p99"),
        "errors": int(j.get("errors", 0)) + int(j.get("timeouts", 0)) + int(j.get("non2xx", 0)),
    }


def parse_curlfloor(path):
    m = re.search(r"requests (\d+) seconds ([\d.]+) req/s (\d+) errors (\d+)", open(path).read())
    return {"rps": float(m.group(3)), "requests": int(m.group(1)), "errors": int(m.group(4))}


def parse_locust(prefix):
    with open(prefix + "_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    agg = [x for x in rows if x.get("Name") == "Aggregated"][-1]

    def num(k):
        v = agg.get(k)
        try:
            return float(v)
        except (TypeError, ValueError):
            return None

    return {
        "rps": num("Requests/s"),
        "requests": int(num("Request Count") or 0),
        "p50": num("50%"),
        "p99": num("99%"),
        "errors": int(num("Failure Count") or 0),
    }


def parse_tide(outdir):
    j = json.load(open(outdir + "/summary.json"))
    m = j["metrics"]
    d = m.get("http_req_duration", {})
    reqs = m.get("http_reqs", {})
    failed = m.get("http_req_failed", {})
    r = {
        "rps": reqs.get("rate"),
        "requests": reqs.get("count"),
        "p50": d.get("med"),
        "p99": d.get("p99"),
        # k6's convention: for http_req_failed, "passes" are failed requests
        "errors": int(failed.get("passes", 0) or 0),
        "iterations": m.get("iterations", {}).get("count"),
        "iter_rate": m.get("iterations", {}).get("rate"),
        # summary.json has no dropped_iterations when nothing was dropped
        "dropped": m.get("dropped_iterations", {}).get("count", 0),
        "generator_bound": j.get("run", {}).get("generator_bound"),
        "duration_s": j.get("run", {}).get("duration_s"),
        "tide_status": j.get("run", {}).get("status"),
    }
    fails = sum(c.get("fails", 0) for c in j.get("checks", []))
    r["errors"] += fails
    if "iteration_duration" in m:
        r["iter_p99"] = m["iteration_duration"].get("p99")
    return r


def cmd_record(a):
    kind, _, arg = a.kind.partition(":")
    parsers = {"wrk": parse_wrk, "ab": parse_ab, "autocannon": parse_autocannon,
               "curlfloor": parse_curlfloor}
    rec = {"case": a.case, "tool": a.tool, "round": a.round, "rc": a.rc}
    try:
        if kind in parsers:
            rec.update(parsers[kind](a.out))
        elif kind == "locust":
            rec.update(parse_locust(arg))
        elif kind == "tide":
            rec.update(parse_tide(arg))
        elif kind != "none":
            raise ValueError("unknown kind " + kind)
    except Exception as e:  # a failed run still gets a line, marked
        rec["parse_error"] = "%s: %s" % (type(e).__name__, e)
    try:
        el, us, sy, rss = open(a.time).read().split()[-4:]
        el, us, sy = float(el), float(us), float(sy)
        rec.update(elapsed_s=el, cpu_s=us + sy, cpu_pct=100 * (us + sy) / el if el else None,
                   rss_kb=int(rss))
        tck = float(a.clk_tck)
        rec["server_cpu_pct"] = 100 * a.server_ticks / tck / el if el else None
        foreign = a.busy_ticks / tck - (us + sy) - a.server_ticks / tck
        rec["noise_pct"] = max(0.0, 100 * foreign / el) if el else None
        rec["steal_pct"] = 100 * a.steal_ticks / tck / el if el else None
    except Exception as e:
        rec["time_error"] = str(e)
    if rec.get("rps") and rec.get("iter_rate") is None:
        rec["iter_rate"] = rec["rps"] / a.iter_reqs
    for kv in a.extra or []:
        k, _, v = kv.partition("=")
        try:
            rec[k] = float(v)
        except ValueError:
            rec[k] = v
    print(json.dumps(rec))


def f(v, fmt="%.0f", none="-"):
    return none if v is None else fmt % v


def cmd_brief(_a):
    for line in sys.stdin:
        r = json.loads(line)
        extra = ""
        if "parse_error" in r:
            extra = "  (no result: %s)" % r["parse_error"]
        print("  %-14s %-18s r%s  %9s req/s  p50 %s ms  p99 %s ms  cpu %s%%  srv %s%%  noise %s%%%s" % (
            r["case"], r["tool"], r["round"], f(r.get("rps")), f(r.get("p50"), "%.2f"),
            f(r.get("p99"), "%.2f"), f(r.get("cpu_pct")), f(r.get("server_cpu_pct")),
            f(r.get("noise_pct")), extra))


def load(path):
    rows = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def groups(rows):
    out = {}
    for r in rows:
        out.setdefault((r["case"], r["tool"]), []).append(r)
    return out


def med(rs, key):
    v = [r[key] for r in rs if r.get(key) is not None and "parse_error" not in r]
    return statistics.median(v) if v else None


def print_table(headers, body):
    w = [max(len(str(x)) for x in col) for col in zip(headers, *body)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w[i]) if i < 2 else str(c).rjust(w[i])
                                          for i, c in enumerate(cells)) + " |"
    print(line(headers))
    print("|" + "|".join(("-" * (x + 2)) if i < 2 else ("-" * (x + 1) + ":")
                         for i, x in enumerate(w)) + "|")
    for b in body:
        print(line(b))


def cmd_table(a):
    rows = load(a.results)
    g = groups(rows)
    ref = a.ref
    headers = ["case", "tool", "req/s (median)", "min-max", "iter/s", "p50 ms", "p99 ms", "CPU %",
               "peak RSS MB", "nginx CPU %", "noise %", "steal %", "errors", a.ref + " / tool"]
    body = []
    for (case, tool), rs in g.items():
        rps = med(rs, "rps")
        ok = [r["rps"] for r in rs if r.get("rps") is not None]
        ref_rps = med(g.get((case, ref), []), "rps")
        ratio = "-" if tool == ref or not rps or not ref_rps else "%.2fx" % (ref_rps / rps)
        rss = med(rs, "rss_kb")
        body.append([case, tool, f(rps), ("%.0f-%.0f" % (min(ok), max(ok))) if ok else "-",
                     f(med(rs, "iter_rate")),
                     f(med(rs, "p50"), "%.2f"), f(med(rs, "p99"), "%.2f"), f(med(rs, "cpu_pct")),
                     f(rss / 1024 if rss else None, "%.1f"), f(med(rs, "server_cpu_pct")),
                     f(med(rs, "noise_pct")), f(med(rs, "steal_pct")),
                     sum(int(r.get("errors") or 0) for r in rs), ratio])
    print_table(headers, body)
    n = max((len(v) for v in g.values()), default=0)
    print("\nmedians of %d round(s); 'noise' = CPU used by other processes on the machine during "
          "the run, 'steal' = CPU time the hypervisor gave to other guests (both %% of one "
          "core; '-' where not recorded); p50/p99 from each tool's own report (ab: whole ms)." % n)
    if a.goal:
        print("\nGoals (goals, not tests):")
        for spec in a.goal:
            parts = spec.split("|")
            text, A, B, factor = parts[:4]
            metric = parts[4] if len(parts) > 4 else "rps"
            ga = g.get(tuple(A.split("/", 1)), [])
            gb = g.get(tuple(B.split("/", 1)), [])
            va, vb = med(ga, metric), med(gb, metric)
            if va is None or vb is None:
                print("  [n/a ] %s: %s" % (text, "no result for " + (A if va is None else B)))
                continue
            ratio = va / vb if vb else float("inf")
            ok = ratio >= float(factor)
            print("  [%s] %s: %.0f vs %.0f = %.2fx (goal >= %sx)" % (
                "holds" if ok else "MISS ", text, va, vb, ratio, factor))


def cmd_memtable(a):
    rows = load(a.results)
    g = groups(rows)
    headers = ["tool", "state", "VUs", "RSS MB (median)", "baseline MB", "KB per VU",
               "peak RSS MB", "open fds", "requests", "noise %"]
    body = []
    verdicts = []
    for (case, tool), rs in g.items():
        state, _, n = case.rpartition("-")
        if n == "base":
            continue
        base = g.get(("%s-base" % state, tool), [])
        rss, brss = med(rs, "rss_sample_kb"), med(base, "rss_sample_kb")
        vus, bvus = med(rs, "vus"), med(base, "vus")
        per = (rss - brss) / (vus - bvus) if None not in (rss, brss, vus, bvus) else None
        body.append([tool, state, f(vus), f(rss / 1024 if rss else None, "%.1f"),
                     f(brss / 1024 if brss else None, "%.1f"), f(per, "%.2f"),
                     f((med(rs, "rss_kb") or 0) / 1024, "%.1f"), f(med(rs, "fds")),
                     f(med(rs, "requests")), f(med(rs, "noise_pct"))])
        if tool == "tide" and per is not None:
            limit = 8 if state == "keepalive" else 3  # issue 13's goals
            verdicts.append("  [%s] tide, %s VUs %s: %.2f KB per VU (goal <= %d KB)" % (
                "holds" if per <= limit else "MISS ", f(vus), state, per, limit))
    print_table(headers, body)
    print("\nKB per VU = (RSS with N VUs - RSS of the same scenario with the baseline VUs) / "
          "(N - baseline), RSS sampled from /proc/PID/status once all VUs are up; medians of "
          "rounds.")
    if verdicts:
        print("\nGoals (goals, not tests):")
        print("\n".join(verdicts))


def cmd_opentable(a):
    rows = load(a.results)
    g = groups(rows)
    headers = ["tool", "target /s", "achieved iter/s", "achieved / target",
               "dropped_iterations", "not started", "p50 ms", "p99 ms", "CPU %",
               "generator_bound", "noise %", "errors"]
    body = []
    for (case, tool), rs in g.items():
        target = float(case.rsplit("-", 1)[-1])
        ach = med(rs, "iter_rate")
        missing = [target * r["duration_s"] - r["iterations"] for r in rs
                   if r.get("duration_s") and r.get("iterations") is not None]
        bound = [r.get("generator_bound") for r in rs if r.get("generator_bound") is not None]
        body.append([tool, f(target), f(ach), f(ach / target if ach else None, "%.3f"),
                     f(statistics.median([r.get("dropped") or 0 for r in rs])),
                     f(statistics.median(missing) if missing else None),
                     f(med(rs, "p50"), "%.2f"), f(med(rs, "p99"), "%.2f"),
                     f(med(rs, "cpu_pct")),
                     "%d/%d" % (sum(1 for b in bound if b), len(bound)) if bound else "-",
                     f(med(rs, "noise_pct")), sum(int(r.get("errors") or 0) for r in rs)])
    print_table(headers, body)
    print("\nmedians of rounds. 'not started' = target x measured duration - iterations run "
          "(what an open model owes: each should appear as started or as dropped_iterations; "
          "no dropped_iterations in summary.json counts as 0); generator_bound = runs "
          "that tide flagged as limited by itself. Latency is measured from each iteration's "
          "scheduled start (coordinated-omission safe).")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    for k in ("case", "tool", "kind", "out", "time"):
        r.add_argument("--" + k, required=True)
    r.add_argument("--round", type=int, default=1)
    r.add_argument("--rc", type=int, default=0)
    r.add_argument("--busy-ticks", type=int, default=0)
    r.add_argument("--server-ticks", type=int, default=0)
    r.add_argument("--steal-ticks", type=int, default=0)
    r.add_argument("--clk-tck", type=int, default=100)
    r.add_argument("--iter-reqs", type=int, default=1)
    r.add_argument("--extra", action="append")
    sub.add_parser("brief")
    t = sub.add_parser("table")
    t.add_argument("results")
    t.add_argument("--ref", default="tide")
    t.add_argument("--goal", action="append")
    m = sub.add_parser("memtable")
    m.add_argument("results")
    o = sub.add_parser("opentable")
    o.add_argument("results")
    a = p.parse_args()
    {"record": cmd_record, "brief": cmd_brief, "table": cmd_table, "memtable": cmd_memtable,
     "opentable": cmd_opentable}[a.cmd](a)


if __name__ == "__main__":
    main()
