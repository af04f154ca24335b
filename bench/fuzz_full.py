"""Benchmark: a full `crrsim fuzz` of all 69 operations with default settings against the sandbox.

    .venv/bin/python bench/fuzz_full.py [--runs 3] [--seed 1]

Runs the real command in a subprocess (embedded sandbox, dev PKI in a throw-away folder), reads
its JSON report, and prints per run: wall time (whole command, sandbox start included), the
engine's time, calls, calls per second, positive cases and the share of them that reached
business logic, and the verdict. Writes bench/results/fuzz_full-<UTC time>.md (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from sandbox_vs_prism import write_results  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description="full crrsim fuzz against the sandbox")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crrsim-fuzz-bench-"))
    rows = []
    for i in range(a.runs):
        out = work / f"run{i}.json"
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness",
                "fuzz",
                "--pki",
                str(work / "pki"),
                "--seed",
                str(a.seed + i),
                "--json",
                str(out),
            ],
            capture_output=True,
            text=True,
            cwd=work,
        )
        wall = time.perf_counter() - started
        data = json.loads(out.read_text())
        calls = data["meta"]["calls"]
        engine = data["meta"]["wall_s"]
        positive = sum(c["data"]["positive"] for c in data["cases"])
        reached = sum(c["data"]["positive_business"] for c in data["cases"])
        rows.append(
            (
                wall,
                engine,
                calls,
                calls / engine,
                positive,
                reached / positive if positive else 0.0,
                len(data["cases"]),
                data["verdict"],
                done.returncode,
            )
        )
        print(
            f"run {i}: {wall:.1f} s wall, {engine:.1f} s engine, {calls} calls, {calls / engine:.0f} calls/s, "
            f"{reached}/{positive} positive cases reached business logic, {data['verdict']}",
            flush=True,
        )
    lines = [
        "# crrsim fuzz, all operations, default settings, against the embedded sandbox",
        "",
        "| run | wall s | engine s | calls | calls/s | operations | positive cases | reached business logic | verdict |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for i, (wall, engine, calls, rps, positive, share, ops, verdict, _) in enumerate(rows):
        lines.append(
            f"| {i} | {wall:.1f} | {engine:.1f} | {calls} | {rps:.0f} | {ops} | {positive} | {share:.0%} | {verdict} |"
        )
    lines.append(
        f"| median | {statistics.median(r[0] for r in rows):.1f} | {statistics.median(r[1] for r in rows):.1f} | "
        f"{statistics.median(r[2] for r in rows):.0f} | {statistics.median(r[3] for r in rows):.0f} | | | | |"
    )
    write_results("fuzz_full", lines)


if __name__ == "__main__":
    main()
