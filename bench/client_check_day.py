"""How long `crrsim client-check` takes for one typical Market Sim day, per reference client.

Runs the command as a participant does (its own process, `--until-idle`), a reference client
(tests/clientcheck/refclients.py) at the URL it prints, and times the phases: the judging
sandbox ready, the client's day, the scorecard after the client went quiet. Prints a table and
the scorecard's tally per client.

    .venv/bin/python bench/client_check_day.py [--runs 2] [--idle 5] [--clients good,naive,strict]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one(kind: str, idle: float, pki: Path, out: Path) -> dict[str, float | str]:
    start = time.monotonic()
    check = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "client-check",
            "--pki",
            str(pki),
            "--out",
            str(out),
            "--until-idle",
            str(idle),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert check.stdout is not None
    url = ""
    for text in check.stdout:
        if text.startswith("CRRSIM_CLIENT_CHECK_READY"):
            url = text.split("url=", 1)[1].split()[0]
            break
    ready = time.monotonic()
    files = pki / "clients"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.clientcheck.refclients",
            kind,
            url,
            str(pki / "ca.pem"),
            str(files / "ecal.pem"),
            str(files / "ecal.key"),
        ],
        cwd=REPO,
        check=True,
    )
    day = time.monotonic()
    check.communicate()
    done = time.monotonic()
    card = json.loads((out / "scorecard.json").read_text())
    tally = {
        o: sum(1 for c in card["cases"] if c["data"]["outcome"] == o)
        for o in ("PASS", "FAIL", "NOT EXERCISED")
    }
    return {
        "ready_s": ready - start,
        "day_s": day - ready,
        "scorecard_s": done - day,
        "total_s": done - start,
        "tally": f"{tally['PASS']} PASS, {tally['FAIL']} FAIL, {tally['NOT EXERCISED']} NOT EXERCISED",
        "exit": str(check.returncode),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--clients", default="good,naive,strict")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crrsim-bench-cc-") as tmp:
        pki = Path(tmp) / "pki"
        subprocess.run(
            [sys.executable, "-m", "harness", "certs", "init", "--dir", str(pki)],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        print(
            f"| client | ready (s) | client's day (s) | scorecard after the day (s, idle {args.idle:g}) | total (s) | scorecard | exit |"
        )
        print("|---|---|---|---|---|---|---|")
        for kind in args.clients.split(","):
            runs = [one(kind, args.idle, pki, Path(tmp) / f"{kind}-{i}") for i in range(args.runs)]

            def med(key: str, runs: list[dict[str, float | str]] = runs) -> str:
                return f"{statistics.median(float(r[key]) for r in runs):.1f}"

            print(
                f"| {kind} | {med('ready_s')} | {med('day_s')} | {med('scorecard_s')} | {med('total_s')} | {runs[0]['tally']} | {runs[0]['exit']} |"
            )


if __name__ == "__main__":
    main()
