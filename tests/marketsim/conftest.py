"""One real rehearsal (`crrsim marketsim` against the embedded sandbox) shared by the tests that
read its report, run once per test session even when pytest-xdist spreads the tests over
workers: the first worker to take the lock runs it, the others read what it wrote."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# The rehearsal shares two cores with the rest of the suite, where the default SLOs' 500 ms p95
# for status polling was seen breached (519 ms) while a plain run answers in 4 ms: the gate is
# the load tests' subject; here the burst must run, be judged and pass, so its limits are wide.
REHEARSAL_SLO = """slos:
  - name: rehearsal every call
    operation: "*"
    p99_ms: 60000
    error_rate: 0.01
    min_samples: 10
"""


@dataclass(frozen=True)
class Rehearsal:
    out: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def index(self) -> Path:
        return self.out / "index.html"


@pytest.fixture(scope="session")
def rehearsal(dev_pki, tmp_path_factory: pytest.TempPathFactory) -> Rehearsal:
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's basetemp sits in the session's own folder; alone, it is that folder
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "marketsim-rehearsal"
    shared.mkdir(exist_ok=True)
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "run.json"
        if not done.is_file():
            out = shared / "out"
            (shared / "slo.yaml").write_text(REHEARSAL_SLO)
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "harness",
                    "marketsim",
                    "--pki",
                    str(dev_pki.directory),
                    "--out",
                    str(out),
                    "--slo",
                    "slo.yaml",
                ],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=shared,
            )
            done.write_text(
                json.dumps(
                    {
                        "out": str(out),
                        "returncode": run.returncode,
                        "stdout": run.stdout,
                        "stderr": run.stderr,
                    }
                )
            )
        recorded = json.loads(done.read_text())
        return Rehearsal(**{**recorded, "out": Path(recorded["out"])})
