"""Shared by the one-probe-at-a-time benchmarks (freshness.py, cold_read.py,
alert_freshness.py): percentiles and a connection to the API. Standard
library only; the scripts run as `python3 bench/<script>.py`, which puts this
directory on the import path.
"""

from __future__ import annotations

import http.client
import urllib.parse


def percentile(sorted_values, q):
    """The value at quantile `q` (0..1) of already sorted values, nearest rank; NaN if empty."""
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[i]


def connect(url: str, token: str) -> tuple[http.client.HTTPConnection, dict[str, str]]:
    """A kept-alive connection to the API at `url` and the headers of a JSON request as `token`'s user."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    return conn, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
