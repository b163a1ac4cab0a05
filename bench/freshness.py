#!/usr/bin/env python3
"""Freshness: from sending an entry to seeing it counted in the monthly report.

    python3 bench/freshness.py URL TOKEN --probes 200 --date 2026-11-24

One probe at a time for the user of TOKEN (who gets no other writes): read
the month's report count n, POST an expense dated --date, then poll
GET /v1/reports?period=month until the count is n + 1. The time counted runs
from just before the POST is sent to the poll answer that shows the entry.
Prints one line: BENCH probes=... p50_ms=... p90_ms=... p99_ms=... max_ms=...
missing=... (entries not seen within 10 s). Standard library only; run the
background load beside it.
"""

from __future__ import annotations

import argparse
import json
import time

from probe import connect, percentile


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("token")
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--date", required=True, help="YYYY-MM-DD of the probe entries and the report")
    ap.add_argument("--gap-ms", type=float, default=20.0, help="pause between probes")
    args = ap.parse_args()
    conn, head = connect(args.url, args.token)
    report = f"/v1/reports?period=month&date={args.date}"

    def count() -> int:
        conn.request("GET", report, headers=head)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"GET {report}: {r.status} {body[:200]!r}")
        return json.loads(body)["count"]

    lat, missing = [], 0
    for i in range(args.probes):
        n = count()
        body = json.dumps({"amount": "12.34", "merchant": f"Probe {i}", "occurred_at": f"{args.date}T06:00:00Z"})
        t0 = time.perf_counter()
        conn.request("POST", "/v1/expenses", body=body, headers=head)
        r = conn.getresponse()
        answer = r.read()
        if r.status != 201:
            raise SystemExit(f"POST /v1/expenses: {r.status} {answer[:200]!r}")
        seen = False
        while time.perf_counter() - t0 < 10:
            if count() >= n + 1:
                lat.append((time.perf_counter() - t0) * 1000)
                seen = True
                break
            time.sleep(0.002)
        missing += not seen
        time.sleep(args.gap_ms / 1000)
    lat.sort()
    print(
        f"BENCH probes={args.probes} p50_ms={percentile(lat, 0.5):.2f} p90_ms={percentile(lat, 0.9):.2f} "
        f"p99_ms={percentile(lat, 0.99):.2f} max_ms={(lat[-1] if lat else float('nan')):.2f} missing={missing}"
    )


if __name__ == "__main__":
    main()
