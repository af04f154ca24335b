"""A rehearsal's verdict never depends on what else the machine is doing: a latency breach on a
sandbox of this machine that the missing CPU accounts for is not judged (INCOMPLETE, with why),
one it does not account for still fails, and a shared environment's SLOs keep their force."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

from harness.config import CrrsimConfig
from harness.load.contention import CoreShares, core_share
from harness.load.hdr import Recording
from harness.load.profiles import load_profile
from harness.load.runner import build_report
from harness.load.settings import LoadSettings
from harness.load.slo import evaluate, parse_slos
from harness.reports.model import CaseStatus

SLOS = parse_slos(
    {
        "slos": [
            {"name": "polling", "operation": "market_status.*", "p95_ms": 500},
            {"name": "errors", "operation": "*", "error_rate": 0.01},
        ]
    },
    "slo.yaml",
)


def _report(kind: str, shares: CoreShares, ms: float, errors: int = 0):  # noqa: ANN202 - a RunReport
    recording = Recording()
    for n in range(200):
        recording.add("market_status.getMarketStatus", 0, ms / 1000, error="HTTP 503" if n < errors else None)
    verdicts = evaluate(SLOS, recording, duration_s=10)
    profile = load_profile("steady").scaled(None, None, None, 10)
    settings = LoadSettings(cfg=CrrsimConfig(), kind=kind)  # type: ignore[arg-type]
    results = {"duration_s": 10, "interval_s": 1, "processes": 1}
    return build_report(
        settings, "https://127.0.0.1:1/crr", profile, recording, verdicts, results, datetime.now(UTC), shares
    )


def _slo(report, name: str):  # noqa: ANN001, ANN202
    return next(c for c in report.cases if c.group == "slo" and c.name == name)


def test_a_breach_the_busy_machine_accounts_for_is_not_judged_on_the_sandbox() -> None:
    busy = CoreShares([0.4, 0.42, 0.38])
    report = _report("sandbox", busy, ms=800)  # 800 ms x 40% = 320 ms: within 500 ms with a whole core
    assert report.verdict == "INCOMPLETE" and _slo(report, "polling").status is CaseStatus.WARNING
    assert "this machine was busy: a process got 40% of a core" in _slo(report, "polling").message
    assert any("not judged: polling" in g.what for g in report.gaps)
    assert report.sections[0].facts["CPU to spare on this machine"].startswith("40% of a core")


def test_a_breach_the_machine_does_not_account_for_still_fails() -> None:
    busy = CoreShares([0.4])
    assert _report("sandbox", busy, ms=2000).verdict == "FAILED"  # 2,000 ms x 40% = 800 ms: still too slow
    assert _report("sandbox", busy, ms=10, errors=100).verdict == "FAILED"  # errors are never the machine's
    assert _report("sandbox", CoreShares([1.0, 0.97]), ms=800).verdict == "FAILED"  # a quiet machine
    assert _report("shared", busy, ms=800).verdict == "FAILED"  # Map-Stage's latency is not this machine's
    assert _report("sandbox", busy, ms=100).verdict == "PASSED"  # no breach, nothing to excuse


def test_the_share_of_a_core_sees_other_processes() -> None:
    """The measurement itself, against real contention: more busy processes than cores."""
    import os

    cores = os.cpu_count() or 1
    hogs = [
        subprocess.Popen(
            [sys.executable, "-c", "import time\nend = time.time() + 20\nwhile time.time() < end: pass"]
        )
        for _ in range(cores * 3)
    ]
    try:
        time.sleep(0.5)
        busy = sorted(core_share() for _ in range(15))[7]
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert busy < 0.6, busy  # 3 runnable processes per core: a third of one each, give or take
    assert 0.0 < core_share() <= 1.0
