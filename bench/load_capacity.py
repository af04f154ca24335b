"""Benchmark: how much participant-like load `crrsim load` drives from this machine, and what
the sandbox answers at that rate.

    .venv/bin/python bench/load_capacity.py [--seconds 20] [--users 40] [--processes 1,2]

Runs the real command (embedded sandbox, dev PKI in a throw-away folder) with a closed profile
of zero think time (every user sends its next request as soon as the last is answered: the
most one machine can ask of the sandbox), the Market Sim day's task mix, once per process
count. Reads the run's results and prints requests, requests/s, errors and the exact p50/p95/p99,
plus the merged p99 against the p99 of the raw latencies. The load generator and the sandbox
share the machine's cores, so the figure is the pair's, not the sandbox's alone (bench/README:
wrk is the sandbox-only driver). Writes bench/results/load_capacity-<UTC time>.md (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from sandbox_vs_prism import write_results  # noqa: E402

from harness.load.hdr import Recording  # noqa: E402
from harness.load.runner import percentile_of  # noqa: E402

PROFILE = """model: closed
think_time: [0, 0]
stages:
  - {duration: %(seconds)s, users: %(users)s, spawn_rate: %(users)s}
mix: {app_status: 2, market_status: 10, market_info: 4, portfolio_submit: 3, nomination_submit: 1,
      load_submission: 1, secondary_offer: 1, download: 2, messages: 2}
portfolio: {bids: [1, 50], points: [2, 5]}
"""
SLO = "slos:\n  - {name: every call, operation: '*', error_rate: 0.01, min_samples: 100}\n"


def main() -> None:
    ap = argparse.ArgumentParser(description="crrsim load capacity against the embedded sandbox")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--processes", default="1,2")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crrsim-load-bench-"))
    (work / "flat.yaml").write_text(PROFILE % {"seconds": a.seconds, "users": a.users})
    (work / "slo.yaml").write_text(SLO)
    lines = [
        f"# crrsim load, zero think time, {a.users} users, {a.seconds} s, embedded sandbox",
        "",
        "| processes | wall s | requests | req/s | errors | p50 ms | p95 ms | p99 ms | raw p99 ms | exit |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for processes in (int(p) for p in a.processes.split(",")):
        raw = work / f"raw{processes}"
        raw.mkdir()
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness",
                "load",
                "--pki",
                str(work / "pki"),
                "--profile",
                "flat.yaml",
                "--slo",
                "slo.yaml",
                "--processes",
                str(processes),
                "--raw-latencies",
                str(raw),
            ],
            capture_output=True,
            text=True,
            cwd=work,
        )
        wall = time.perf_counter() - started
        results = json.loads(sorted(work.glob("reports/load/*/results.json"))[-1].read_text())
        total = Recording.from_wire(results["recording"]).total()
        raw_values = [int(v) for f in raw.glob("raw-*.txt") for v in f.read_text().split()]
        duration = results["duration_s"]
        lines.append(
            f"| {processes} | {wall:.1f} | {total.count} | {total.count / duration:.0f} | {total.errors} | "
            f"{total.percentile_ms(50):.1f} | {total.percentile_ms(95):.1f} | {total.percentile_ms(99):.1f} | "
            f"{percentile_of(raw_values, 99):.1f} | {done.returncode} |"
        )
        print(lines[-1], flush=True)
        time.sleep(1)  # the next run's report folder gets a new second
    write_results("load_capacity", lines)


if __name__ == "__main__":
    main()
