#!/usr/bin/env python3
"""Alert freshness: from sending an entry that must raise an alert to seeing
that alert at GET /v1/alerts, under background load.

    python3 bench/alert_freshness.py URL TOKEN... --probes 400 --rate 20

Each token is a user. Every probe POSTs a large expense at a merchant the
user never paid before (the `new_merchant_large` rule fires for each), then
polls GET /v1/alerts on its own connection until an alert whose entry_id is
that entry shows up. The time counted runs from just before the POST is sent
(the entry cannot be accepted earlier) to the poll answer that shows the
alert. Probes start at a fixed rate from several threads, so a slow one does
not delay the next. Prints one line: probes, p50, p90, p99, max in ms,
missing (alerts never seen within 10 s).

Standard library only; run the background load (hey) beside it.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid

from probe import connect, percentile


def probe(url, token, results, lock, amount):
    conn, head = connect(url, token)
    merchant = f"Probe Jeweller {uuid.uuid4().hex[:10]}"
    body = json.dumps({"amount": amount, "merchant": merchant})
    t0 = time.perf_counter()
    conn.request("POST", "/v1/expenses", body=body, headers=head)
    resp = conn.getresponse()
    created = json.loads(resp.read() or b"{}")
    if resp.status != 201:
        with lock:
            results.append(("error", resp.status))
        return
    entry = created["id"]
    deadline = t0 + 10
    while time.perf_counter() < deadline:
        conn.request("GET", "/v1/alerts?limit=500", headers=head)
        r = conn.getresponse()
        alerts = json.loads(r.read() or b"[]")
        if r.status == 200 and any(a.get("entry_id") == entry for a in alerts):
            with lock:
                results.append(("ok", (time.perf_counter() - t0) * 1000))
            conn.close()
            return
        time.sleep(0.002)
    with lock:
        results.append(("missing", None))
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("tokens", nargs="+")
    ap.add_argument("--probes", type=int, default=400)
    ap.add_argument("--rate", type=float, default=20.0, help="probes started per second")
    ap.add_argument("--amount", default="60000", help="above alerts.new_merchant_large for the user's currency")
    a = ap.parse_args()
    results, lock, threads = [], threading.Lock(), []
    start = time.perf_counter()
    for i in range(a.probes):
        due = start + i / a.rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=probe, args=(a.url, a.tokens[i % len(a.tokens)], results, lock, a.amount))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    ok = sorted(v for k, v in results if k == "ok")
    missing = sum(1 for k, _ in results if k == "missing")
    errors = [v for k, v in results if k == "error"]
    print(
        f"ALERTS probes={len(ok)} p50_ms={percentile(ok, 0.5):.2f} p90_ms={percentile(ok, 0.9):.2f} "
        f"p99_ms={percentile(ok, 0.99):.2f} max_ms={max(ok) if ok else float('nan'):.2f} "
        f"missing={missing} errors={len(errors)}"
    )
    if missing or errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
