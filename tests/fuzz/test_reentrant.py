"""The fuzz is re-entrant (issue 20 item 3): its checks keep a run's state on objects built per
run (``checks.state.FuzzRun``), never in module globals, so two runs in one process give what
two processes give. Each run here is a real fuzz of the real sandbox over mTLS."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.config import load_config
from harness.events import Collect, Figures, RunFinished
from harness.fuzz.runner import run_fuzz
from harness.fuzz.settings import FuzzSettings
from harness.pki import DevPKI
from harness.sandbox.launch import start_with_plan

BUDGET = 60
SEED = 11
SERVICES = ("market_status", "auction")


def _settings(dev_pki: DevPKI, url: str, work: Path) -> FuzzSettings:
    cfg = load_config(
        env={}, overrides={"target": url, "sandbox_pki": dev_pki.directory, "reports_dir": work}
    )
    # the CLI's own path: defaults by judged target (a URL that proves it is a sandbox)
    settings = FuzzSettings.from_config(
        cfg, services=list(SERVICES), max_examples=3, seed=SEED, max_requests=BUDGET
    )
    ecal = dev_pki.identities["ecal"]
    settings.cert, settings.key, settings.ca = ecal.cert, ecal.key, dev_pki.ca_cert
    assert settings.target_kind == "sandbox"
    return settings


def _figures(report: dict[str, Any]) -> tuple[dict[str, int], str, str, str]:
    facts = report["sections"][0]["facts"]
    calls = {c["name"]: c["data"]["calls"] for c in report["cases"]}
    return calls, facts["request budget"], facts["stopped early"], report["verdict"]


def _in_process(dev_pki: DevPKI, work: Path, name: str) -> tuple[dict[str, int], str, str, str]:
    sandbox = start_with_plan(dev_pki, work / f"{name}.db")  # a fresh one, as a new process finds it
    try:
        seen = Collect()
        outcome = run_fuzz(_settings(dev_pki, sandbox.url, work / name), sandbox.url, emit=seen)
    finally:
        sandbox.stop()
    finished = [e for e in seen.events if isinstance(e, RunFinished)]
    assert len(finished) == 1 and finished[0].report is outcome.report
    assert any(isinstance(e, Figures) for e in seen.events)  # live figures from schemathesis' stream
    return _figures(json.loads(json.dumps(outcome.report.to_dict(), default=str)))


def test_two_runs_in_one_process_give_what_two_processes_give(dev_pki: DevPKI, tmp_path: Path) -> None:
    """One after the other, then two at once in threads: each run's budget, oracles and read-backs
    are its own (with module globals, two runs at once shared one budget and one read-back
    client, so each sent part of its budget and read back from the other's sandbox)."""
    in_process = [_in_process(dev_pki, tmp_path, "first"), _in_process(dev_pki, tmp_path, "second")]
    with ThreadPoolExecutor(2) as pool:
        in_process += list(pool.map(lambda name: _in_process(dev_pki, tmp_path, name), ["third", "fourth"]))
    sandbox = start_with_plan(dev_pki, tmp_path / "sub.db")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness",
                "fuzz",
                "--url",
                sandbox.url,
                "--pki",
                str(dev_pki.directory),
                *(arg for s in SERVICES for arg in ("--service", s)),
                "--max-examples",
                "3",
                "--seed",
                str(SEED),
                "--max-requests",
                str(BUDGET),
                "--json",
                "f.json",
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
    finally:
        sandbox.stop()
    assert done.returncode in (0, 6), done.stdout[-2000:] + done.stderr[-2000:]
    in_a_process = _figures(json.loads((tmp_path / "f.json").read_text()))
    assert in_a_process[1] == f"{BUDGET} of {BUDGET}"  # each run spends its own whole budget
    assert all(run == in_a_process for run in in_process), (in_process, in_a_process)
