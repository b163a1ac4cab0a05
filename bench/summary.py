#!/usr/bin/env python3
"""Renders bench/RESULTS.md from one run's directory (written by bench/run.sh).

    python3 bench/summary.py RUN_DIR REPO_ROOT > RESULTS.md
"""

from __future__ import annotations

import datetime as dt
import pathlib
import platform
import subprocess
import sys

# label -> (what, target text, check(fields) -> bool)
WRK_TARGETS = {
    "A.report_month_c64": ("monthly report, 100k entries", "p99 < 10 ms", lambda f: f["p99_ms"] < 10),
    "A.list_c64": ("list (limit 50), 100k entries", "p99 < 10 ms", lambda f: f["p99_ms"] < 10),
    "A.post_c64": ("POST /v1/expenses", ">= 5,000/s, p99 < 20 ms", lambda f: f["rps"] >= 5000 and f["p99_ms"] < 20),
    "A.post_c16": ("POST /v1/expenses", ">= 5,000/s, p99 < 20 ms", lambda f: f["rps"] >= 5000 and f["p99_ms"] < 20),
    "A.post_c16_pyclient": ("POST /v1/expenses, bench/closed_loop.py (cross-check of wrk's latency)", "p99 < 20 ms", lambda f: f["p99_ms"] < 20),
    "A.post_rate5000_c64": ("POST /v1/expenses at a fixed 5,000/s offered (hey -q), every latency kept", ">= 5,000/s, p99 < 20 ms", lambda f: f["rps"] >= 4900 and f["p99_ms"] < 20),
    "B.report_year_c64": ("yearly report, 1M entries", "p99 < 5 ms", lambda f: f["p99_ms"] < 5),
    "A.report_month_nocache_c64": ("monthly report, 100k entries, report cache off", "-", None),
    "B.report_year_nocache_c64": ("yearly report, 1M entries, report cache off", "-", None),
    "A.report_month_c1": ("monthly report, 100k entries, unloaded (1 connection)", "-", None),
    "A.list_c1": ("list (limit 50), 100k entries, unloaded (1 connection)", "-", None),
    "B.report_year_c1": ("yearly report, 1M entries, unloaded (1 connection)", "-", None),
}
METRIC_TARGETS = {
    "B.sigterm_restart_ready_secs": ("restart after SIGTERM, 1M entries: start -> listening", "< 5 s", lambda v: v < 5),
    "B.sigkill_restart_ready_secs": ("restart after SIGKILL, 1M entries + unsnapshotted tail: start -> listening", "< 5 s", lambda v: v < 5),
    "C.alert_p99_ms": ("alert visible after its entry was sent, p99", "< 1000 ms", lambda v: v < 1000),
}
METRIC_TEXT = {
    "A.import_secs": "A: `spendstream import` of {A} rows (s)",
    "A.loaded_secs": "A: import start -> all entries counted in reports (s)",
    "A.vmhwm_kib": "A: server peak RSS (VmHWM) after the runs",
    "A.sigterm_stop_secs": "A: SIGTERM -> process gone (s)",
    "B.import_secs": "B: `spendstream import` of {B} rows (s)",
    "B.loaded_secs": "B: import start -> all entries counted in reports (s)",
    "B.vmhwm_kib_after_load": "B: server peak RSS (VmHWM) after loading {B}",
    "B.vmrss_kib_after_load": "B: server RSS (VmRSS) after loading {B}",
    "B.vmhwm_kib_after_wrk": "B: server peak RSS (VmHWM) after the yearly-report run",
    "B.sigterm_stop_secs": "B: SIGTERM -> process gone, snapshot written (s)",
    "B.sigterm_restart_ready_secs": "B: start after SIGTERM -> listening (s)",
    "B.vmhwm_kib_after_restart": "B: peak RSS (VmHWM) of the restarted server",
    "B.sigkill_restart_ready_secs": "B: start after SIGKILL -> listening, {T}-event tail replayed (s)",
    "B.vmhwm_kib_after_crash_restart": "B: peak RSS (VmHWM) of the server restarted after SIGKILL",
    "C.alert_probes": "C: alert probes (one new-merchant alert each) under the background POST load",
    "C.alert_p50_ms": "C: entry sent -> its alert at GET /v1/alerts, p50 (ms)",
    "C.alert_p99_ms": "C: entry sent -> its alert at GET /v1/alerts, p99 (ms)",
    "C.alert_max_ms": "C: entry sent -> its alert at GET /v1/alerts, max (ms)",
    "C.background_posts_per_sec": "C: background POST /v1/expenses load during the probes (req/s)",
    "total_run_secs": "whole run (s)",
}


def sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as e:  # noqa: BLE001 - informative only
        return f"({e})"


def parse_bench(line: str) -> dict:
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    out = {k: float(v) for k, v in f.items() if k != "statuses"}
    out["p50_ms"] = out["p50_us"] / 1000
    out["p90_ms"] = out["p90_us"] / 1000
    out["p99_ms"] = out["p99_us"] / 1000
    out["max_ms"] = out["max_us"] / 1000
    out["errors"] = out["connect"] + out["read"] + out["write"] + out["timeout"]
    return out


def little(label: str, f: dict) -> str:
    """mean latency x req/s, which must equal the connection count in a closed loop."""
    mean = f.get("mean_us")
    if mean is None:
        mean = MEANS.get(label)
    return "-" if mean is None else f"{mean / 1e6 * f['rps']:.0f}"


MEANS: dict = {}


def wrk_mean_us(text: str):
    """The 'Latency  Avg' of wrk's thread stats, in microseconds."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "Latency" and parts[1][-1] == "s":
            v = parts[1]
            for unit, mult in (("us", 1), ("ms", 1e3), ("s", 1e6), ("m", 6e7)):
                if v.endswith(unit):
                    try:
                        return float(v[: -len(unit)]) * mult
                    except ValueError:
                        return None
    return None


def others(top: pathlib.Path) -> str:
    """Busy processes other than the server and the load generators, from a `top -b -n1` snapshot."""
    if not top.exists():
        return "-"
    found = []
    for line in top.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 12 and parts[0].isdigit():
            try:
                pcpu = float(parts[8])
            except ValueError:
                continue
            name = parts[11]
            if pcpu >= 10 and name not in ("spendstream", "wrk", "python3", "top"):
                found.append(f"{name} {pcpu:.0f}%")
    return ", ".join(found) or "none"


def fmt_value(key: str, v: str) -> str:
    if "_kib" in key:
        return f"{int(v) / 1024:.0f} MiB"
    return v


def main() -> None:
    run = pathlib.Path(sys.argv[1])
    root = pathlib.Path(sys.argv[2])
    rows = [line.rstrip("\n").split("\t") for line in (run / "results.tsv").read_text().splitlines() if line]
    wrk = [(r[1], int(r[2]), parse_bench(r[3]), r[4] if len(r) > 4 else "") for r in rows if r[0] == "wrk"]
    metrics = {r[1]: r[2] for r in rows if r[0] == "metric"}
    notes = [(r[1], r[2]) for r in rows if r[0] == "note"]
    loads = {r[1]: r[2] for r in rows if r[0] == "load"}

    for label, _c, _f, _cpu in wrk:
        path = run / f"{label}.wrk"
        if path.exists():
            MEANS[label] = wrk_mean_us(path.read_text())
    o = []
    w = o.append
    w("# spendstream benchmark results\n")
    w(f"Run {run.name} (UTC), finished {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC. "
      f"Commit `{sh(f'git -C {root} rev-parse --short HEAD')}`"
      f"{' (work tree had uncommitted changes)' if sh(f'git -C {root} status --porcelain --untracked-files=no') else ''}. "
      f"Raw logs: `{run}`.\n")
    dirty = sh(f"git -C {root} status --porcelain --untracked-files=no | cut -c4- | paste -sd' '")
    w(f"Binary built {metrics.get('binary_built', '?')} from the work tree"
      + (f"; files modified against the commit: {dirty}." if dirty else ".") + "\n")
    w("Written by `bash bench/run.sh`; see bench/README.md for what each figure means.\n")

    w("## Summary\n")
    w("| scenario | run | conns | req/s | p50 | p90 | p99 | max | non-2xx | socket errors | Little's law | target | verdict |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for label, conns, f, _cpu in wrk:
        what, target, ok = WRK_TARGETS.get(label, (label, "-", None))
        size = metrics.get(label.split(".")[0] + ".entries")
        if size and int(size) not in (100_000, 1_000_000):
            what += f" (run with {int(size):,} entries)"
        verdict = "-" if ok is None else ("PASS" if ok(f) and f["non2xx"] == 0 and f["errors"] == 0 else "MISS")
        w(f"| {label.split('.')[0]} | {what} | {conns} | {f['rps']:,.0f} | {f['p50_ms']:.2f} ms | {f['p90_ms']:.2f} ms | "
          f"{f['p99_ms']:.2f} ms | {f['max_ms']:.1f} ms | {int(f['non2xx'])} | {int(f['errors'])} | {little(label, f)} | {target} | {verdict} |")
    w("")
    w("| figure | value | target | verdict |")
    w("|---|---:|---|---|")
    sizes = {k: f"{int(metrics.get(k + '.entries', 0)):,}" for k in "AB"}
    sizes["T"] = f"{int(metrics.get('B.tail', 0)):,}"
    for key, text in METRIC_TEXT.items():
        if key not in metrics:
            continue
        text = text.format(**sizes)
        target, verdict = "-", "-"
        if key in METRIC_TARGETS:
            _, target, ok = METRIC_TARGETS[key]
            verdict = "PASS" if ok(float(metrics[key])) else "MISS"
        w(f"| {text} | {fmt_value(key, metrics[key])} | {target} | {verdict} |")
    w("")
    if notes:
        w("Notes:\n")
        for k, v in notes:
            w(f"- {k}: {v}")
        w("")

    w("## Server CPU during each measured run\n")
    w("Cores used by the server (CPU seconds per wall second, per thread name; the machine has "
      f"{sh('nproc')} cores shared with wrk), and the 1-minute load average when the run started.\n")
    w("| run | load avg | server cores by thread | other processes >= 10% CPU at mid-run (top) |")
    w("|---|---:|---|---|")
    for label, _c, _f, cpu in wrk:
        w(f"| {label} | {loads.get(label, '-')} | {cpu.replace(' ', ', ')} | {others(run / (label + '.top'))} |")
    w("")

    w("## Machine\n")
    w("```")
    w(f"$ nproc\n{sh('nproc')}")
    w(f"$ free -h\n{sh('free -h')}")
    model = sh("lscpu | grep 'Model name'")
    w(f"$ lscpu | grep 'Model name'\n{model}")
    w(f"$ uname -sr\n{platform.system()} {platform.release()}")
    w(f"$ wrk --version\n{sh('wrk --version 2>&1 | head -1')}")
    w(f"$ rustc --version\n{sh('rustc --version')}")
    w("```\n")

    w("## Commands, in order\n")
    w("`$TOKEN` is the access token from the sign-up; `127.0.0.1:0` makes the server pick a free port, "
      "which the URLs then use.\n")
    w("```")
    w((run / "commands.txt").read_text().rstrip())
    w("```\n")

    w("## wrk output\n")
    for label, _c, _f, _cpu in wrk:
        text = (run / f"{label}.wrk").read_text().rstrip()
        w(f"### {label}\n\n```\n{text}\n```\n")
        status = run / f"{label}.status.wrk"
        if status.exists():
            w(f"Diagnostic run counting statuses:\n\n```\n{status.read_text().rstrip()}\n```\n")
    ready = run / "B3.ready.txt"
    if ready.exists() and ready.read_text().strip():
        w("## Server log around the crash restart\n\n```\n" + ready.read_text().rstrip() + "\n```\n")
    print("\n".join(o))


if __name__ == "__main__":
    main()
