#!/usr/bin/env python3
"""Reads right after a write: what a user sees after adding an expense.

    python3 bench/cold_read.py URL TOKEN --probes 200 --date 2026-11-24

One probe at a time for the user of TOKEN: POST an expense dated --date (the
API answers once it is processed), then GET the first page of the list
(limit 50) and the month's report. Every write moves the user's version, so
neither read can come from the cache: both are computed by the store. Checks
that the list's first entry is the one just posted (newest first) and that the
report counts one more entry than before.
The probes are dated --date from 00:00:00Z on, one second apart: the user
must have no other entry later than that (the bench's user has none after
2026-11-01), or the list check fails.
Prints one line: BENCH probes=... post_p50_ms=... post_p99_ms=...
list_p50_ms=... list_p99_ms=... report_p50_ms=... report_p99_ms=...
Standard library only.
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
    args = ap.parse_args()
    conn, head = connect(args.url, args.token)
    report = f"/v1/reports?period=month&date={args.date}"

    def call(method: str, path: str, body: str | None, want: int) -> tuple[float, dict]:
        t0 = time.perf_counter()
        conn.request(method, path, body=body, headers=head)
        r = conn.getresponse()
        data = r.read()
        took = (time.perf_counter() - t0) * 1000
        if r.status != want:
            raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
        return took, json.loads(data)

    posts, lists, reports = [], [], []
    _, before = call("GET", report, None, 200)
    count = before["count"]
    for i in range(args.probes):
        # Later probes later in the day, so that each is the newest entry.
        at = f"{args.date}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
        body = json.dumps({"amount": "12.34", "merchant": f"Cold probe {i}", "occurred_at": at})
        took, made = call("POST", "/v1/expenses", body, 201)
        posts.append(took)
        if made.get("status") == "pending":
            raise SystemExit("POST answered before the entry was processed (api.read_your_writes_ms ran out)")
        took, page = call("GET", "/v1/expenses?limit=50", None, 200)
        lists.append(took)
        first = page["entries"][0]["id"] if page["entries"] else None
        if first != made["id"]:
            raise SystemExit(
                f"probe {i}: the list starts with {first}, not the entry just posted ({made['id']}); "
                "does the user have entries later than the probes?"
            )
        took, rep = call("GET", report, None, 200)
        reports.append(took)
        if rep["count"] != count + 1:
            raise SystemExit(f"probe {i}: the report counts {rep['count']} entries, not {count + 1}")
        count += 1
    out = [f"probes={args.probes}"]
    for name, values in (("post", posts), ("list", lists), ("report", reports)):
        values.sort()
        out.append(f"{name}_p50_ms={percentile(values, 0.5):.2f} {name}_p99_ms={percentile(values, 0.99):.2f}")
    print("BENCH " + " ".join(out))


if __name__ == "__main__":
    main()
