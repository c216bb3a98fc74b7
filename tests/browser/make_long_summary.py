#!/usr/bin/env python3
"""make_long_summary.py FIXTURE OUT_JSON [SECONDS]: a synthetic long run's summary.json.

Takes the fixture summary (tests/fixtures/summary.json, written by the engine's own summary
code) and replaces its history with SECONDS (default 28 800 = 8 hours) one-second rows of the
same shape, with 8 endpoints, a daily-ish wave in the load, and one marked spike at
second 18 000 (rps 9999, p95 4321 ms) that the report's charts must still show after
downsampling. Deterministic: the same arguments give the same file.
"""
import copy
import datetime
import json
import math
import random
import sys

PCTS = ["50", "66", "75", "80", "90", "95", "98", "99", "99.9", "99.99", "100"]
SPIKE_AT = 18000
SPIKE_RPS = 9999
SPIKE_P95 = 4321.0


def main():
    fixture, out = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 28800
    s = json.load(open(fixture))
    rnd = random.Random(17)
    start = datetime.datetime(2026, 11, 25, 8, 0, 0, tzinfo=datetime.timezone.utc)
    names = [f"GET /api/items/{i}" for i in range(6)] + ["POST /api/orders", "GET /health"]
    history = []
    total = 0
    for t in range(seconds):
        wave = 1 + 0.5 * math.sin(t / 1800.0)
        rps = round(200 * wave + rnd.uniform(-20, 20))
        p50 = 20 * wave + rnd.uniform(0, 5)
        pct = {k: round(p50 * (1 + i * 0.25), 3) for i, k in enumerate(PCTS)}
        if t == SPIKE_AT:
            rps = SPIKE_RPS
            pct["95"] = SPIKE_P95
        total += rps
        eps = {}
        for j, n in enumerate(names):
            r = max(1, rps // (j + 2))
            eps[n] = {"reqs": r, "fails": 0, "p50": round(p50 * (1 + j / 10), 3),
                      "p95": round(p50 * (2 + j / 10), 3), "p99": round(p50 * (3 + j / 10), 3)}
        history.append({
            "time": (start + datetime.timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "elapsed_s": t, "vus": 100, "reqs": rps, "fails": 0, "rps": rps, "fps": 0,
            "iterations": rps // 4, "bytes_received": rps * 1500, "bytes_sent": rps * 200,
            "percentiles": pct, "endpoints": eps,
            "total": {"reqs": total, "fails": 0, "med": round(p50, 3), "avg": round(p50 * 1.2, 3),
                      "min": 1.0, "max": 900.0, "avg_content_size": 1500.0}})
    s["history"] = history
    # the six request phases (k6's names), as the engine's summary has them
    for i, phase in enumerate(["blocked", "connecting", "tls_handshaking", "sending", "waiting",
                               "receiving"]):
        avg = [0.4, 0.3, 1.2, 0.05, 18.0, 0.6][i]
        s["metrics"]["http_req_" + phase] = {
            "type": "trend", "contains": "time", "count": total, "avg": avg, "min": 0,
            "med": avg * 0.8, "max": avg * 20, "p90": avg * 1.5, "p95": avg * 2,
            "p99": avg * 4, "p99.9": avg * 10}
    run = s.setdefault("run", {})
    run["start"] = history[0]["time"]
    run["end"] = (start + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    run["duration_s"] = seconds
    with open(out, "w") as f:
        json.dump(s, f)


if __name__ == "__main__":
    main()
