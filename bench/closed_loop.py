#!/usr/bin/env python3
"""Independent closed-loop HTTP/1.1 load client, to cross-check wrk's latency figures.

    python3 bench/closed_loop.py URL TOKEN --mode post|get --conns 16 --secs 20

Each connection (keep-alive) sends one request, waits for the whole answer,
then sends the next, like wrk without pipelining. Every latency is kept, so
the percentiles are exact, and Little's law (mean latency x throughput =
connections) can be checked. Prints one line in the same format as wrk.lua's
BENCH line, plus `pending=` (POST answers that did not wait for the
processors) and `littles_law_conns=` (mean latency x req/s; equals --conns
when the figures are consistent). Standard library only, so it tops out at a
few thousand requests per second on one core: use it at low concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import urllib.parse

MERCHANTS = ["Swiggy", "Zomato", "Uber", "BigBasket", "Amazon", "Shell", "Apollo Pharmacy", "Netflix", "Starbucks"]


async def worker(host, port, path, token, mode, deadline, lat, stats, rng):
    reader, writer = await asyncio.open_connection(host, port)
    head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
    try:
        while time.monotonic() < deadline:
            if mode == "post":
                minor = rng.randint(2000, 500000)
                body = json.dumps({"amount": f"{minor // 100}.{minor % 100:02d}", "merchant": rng.choice(MERCHANTS),
                                   "occurred_at": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"}).encode()
                req = (f"POST /v1/expenses HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            else:
                req = f"GET {path} HTTP/1.1\r\n{head}\r\n".encode()
            t0 = time.perf_counter()
            writer.write(req)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            resp = await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            code = int(status_line.split()[1])
            stats[code] = stats.get(code, 0) + 1
            if b'"status":"pending"' in resp:
                stats["pending"] = stats.get("pending", 0) + 1
    finally:
        writer.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("token")
    ap.add_argument("--mode", choices=["get", "post"], default="get")
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--secs", type=float, default=20)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    path = u.path + (("?" + u.query) if u.query else "") or "/"
    lat: list[float] = []
    stats: dict = {}
    t0 = time.monotonic()
    deadline = t0 + a.secs
    await asyncio.gather(*(worker(u.hostname, u.port, path, a.token, a.mode, deadline, lat, stats, random.Random(i))
                           for i in range(a.conns)))
    wall = time.monotonic() - t0
    lat.sort()
    n = len(lat)
    pct = lambda p: int(lat[min(n - 1, int(n * p / 100))] * 1e6)  # noqa: E731
    mean = sum(lat) / n
    non2xx = sum(v for k, v in stats.items() if isinstance(k, int) and not 200 <= k < 400)
    print(f"BENCH requests={n} duration_us={int(wall * 1e6)} rps={n / wall:.1f} p50_us={pct(50)} p90_us={pct(90)} "
          f"p99_us={pct(99)} max_us={int(lat[-1] * 1e6)} non2xx={non2xx} connect=0 read=0 write=0 timeout=0 "
          f"mean_us={int(mean * 1e6)} pending={stats.get('pending', 0)} littles_law_conns={mean * n / wall:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
