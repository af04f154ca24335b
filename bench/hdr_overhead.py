"""Benchmark: what recording exact latencies costs the load generator, and how many arrivals of
an arrival profile leave late at the start (issue 18, item 11).

    .venv/bin/python bench/hdr_overhead.py [--samples 50000] [--rate 150] [--seconds 20] [--users 300]

1. Recording cost, in-process: microseconds per request to record one sample into the per-request
   and per-interval tallies, as ``Recording.add`` does now (a Tally made only for a new key) and
   as it did before (``dict.setdefault(key, Tally())``, which built and threw away two HDR
   histograms on every call).
2. The generator's own CPU per request: a real ``crrsim load`` (locust, window-close profile at a
   fixed ``--rate`` arrivals/s) against a sandbox started separately (``crrsim sandbox serve``),
   the CPU time of the load command's process tree over the requests it sent. The recording
   share is (1)'s cost over (2): the goal is 5% or less.
3. Arrivals late at the start: of the same run, arrivals sent more than 100 ms after their
   intended time in the first two seconds of the schedule, and in all, and when the arrival clock
   started (it waits until the pool is up).

Writes bench/results/hdr_overhead-<UTC time>.md (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import resource
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

from harness.load.hdr import Recording, Tally  # noqa: E402

NAMES = (
    "market_status.getMarketStatus",
    "auction.portfolioCreation",
    "app_status.get-status",
    "market_data.getPublicMarketData",
    "messages.publicMessages",
)
SLO = "slos:\n  - {name: anything, operation: '*', p99_ms: 600000, min_samples: 1}\n"
PROFILE = """model: arrival
stages:
  - {duration: %(seconds)s, rate: %(rate)s}
pool: %(users)s
mix: {app_status: 2, market_status: 10, market_info: 4, download: 1, messages: 2}
"""


def per_sample_us(samples: int, old: bool) -> float:
    recording = Recording()
    started = time.perf_counter()
    for i in range(samples):
        name, bucket, seconds = NAMES[i % len(NAMES)], i // 1000, 0.002 + (i % 97) / 10000
        if old:
            recording.ops.setdefault(name, Tally()).add_sample(seconds)
            recording.buckets.setdefault(bucket, Tally()).add_sample(seconds)
        else:
            recording.add(name, bucket, seconds)
    return (time.perf_counter() - started) / samples * 1e6


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(
    work: Path, url: str, pki: Path, rate: float, seconds: int, users: int
) -> tuple[float, Recording, dict, int]:
    """One `crrsim load` at ``rate`` arrivals/s: (CPU seconds of its process tree, its recording,
    its results, its exit code)."""
    (work / "arrivals.yaml").write_text(PROFILE % {"seconds": seconds, "rate": rate, "users": users})
    before = children_cpu()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "load",
            "--url",
            url,
            "--pki",
            str(pki),
            "--profile",
            "arrivals.yaml",
            "--slo",
            "slo.yaml",
        ],
        capture_output=True,
        text=True,
        cwd=work,
    )
    cpu = children_cpu() - before  # the load command and locust: the sandbox is not reaped yet
    results = json.loads(sorted(work.glob("reports/load/*/results.json"))[-1].read_text())
    time.sleep(1)  # the next run's report folder gets a new second
    return cpu, Recording.from_wire(results["recording"]), results, done.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description="HDR recording overhead and arrivals late at start")
    ap.add_argument("--samples", type=int, default=50_000)
    ap.add_argument("--rate", type=float, default=150.0)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--users", type=int, default=300)
    a = ap.parse_args()
    new_us, old_us = per_sample_us(a.samples, old=False), per_sample_us(a.samples, old=True)

    work = Path(tempfile.mkdtemp(prefix="crrsim-hdr-bench-"))
    (work / "slo.yaml").write_text(SLO)
    from harness.pki import ensure_dev_pki
    from harness.sandbox.launch import start_with_plan

    pki = ensure_dev_pki(work / "pki")
    sandbox = start_with_plan(pki, work / "sandbox.db")
    runs = []
    try:
        # a short and a long run: their difference is the steady cost per request, without the
        # start-up (imports, certificates, the pool's handshakes) both pay alike
        for seconds in (a.seconds // 2, a.seconds):
            runs.append(_run(work, sandbox.url, pki.directory, a.rate, seconds, a.users))
    finally:
        sandbox.stop()
    (short_cpu, short_rec, _, _), (long_cpu, recording, results, code) = runs
    total = recording.total()
    cpu_per_request_us = (long_cpu - short_cpu) / max(1, total.count - short_rec.total().count) * 1e6
    buckets = sorted(recording.buckets.items())
    interval = float(results["interval_s"])
    setup = float(results.get("setup_s") or 0.0)
    # the schedule's first two seconds, on the run's own clock (the arrival clock starts at setup_s)
    start_late = sum(t.late for i, t in buckets if setup <= i * interval < setup + 2.0)
    late, sent = sum(t.late for _, t in buckets), sum(t.arrivals for _, t in buckets)
    lines = [
        f"# Recording cost and arrivals late at start ({a.rate:g} arrivals/s, {a.seconds} s, pool {a.users})",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| recording cost per request, now (Tally on first use) | {new_us:.1f} us |",
        f"| recording cost per request, before (setdefault(key, Tally())) | {old_us:.1f} us |",
        f"| generator CPU per request, steady (the {a.seconds} s run less the {a.seconds // 2} s one) | "
        f"{cpu_per_request_us:.0f} us |",
        f"| recording share of the generator's CPU, now | {new_us / cpu_per_request_us:.1%} |",
        f"| recording share of the generator's CPU, before | {old_us / cpu_per_request_us:.1%} |",
        f"| requests | {total.count} ({total.errors} errors), p99 {total.percentile_ms(99):.1f} ms |",
        f"| arrivals sent | {sent} |",
        f"| arrivals late (> 100 ms), first 2 s of the schedule | {start_late} |",
        f"| arrivals late (> 100 ms), whole run | {late} |",
        f"| arrival clock started | {setup:.2f} s into the run |",
        f"| exit | {code} |",
    ]
    write_results("hdr_overhead", lines)


if __name__ == "__main__":
    main()
