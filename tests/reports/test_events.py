"""One event stream from every runner (issue 20 item 1): what the live displays, the NDJSON log
and the report files read, tested the way a user sees them: a real probe over mTLS writing
``--events``, and the live bar of a real load run on a terminal (tmux) moving as it goes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.events import CaseFinished, Collect, Note, RunFinished, Runner, RunStarted, Stream, in_part
from harness.pki import DevPKI
from harness.reports.handlers import LineDisplay
from harness.reports.model import CaseResult, CaseStatus, RunReport
from harness.sandbox.launch import RunningSandbox, start_with_plan
from tests.conftest import TEST_PFX_PASSWORD


def test_probe_events_arrive_in_order_and_the_last_one_is_the_report(
    dev_pki: DevPKI, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    events, report = tmp_path / "probe.ndjson", tmp_path / "probe.json"
    result = CliRunner().invoke(
        cli,
        [
            "probe",
            "--url",
            sandbox.url,
            "--pki",
            str(dev_pki.directory),
            "--participant",
            "ECAL",
            "--pfx",
            str(dev_pki.identities["ecal"].pfx),
            "--ca",
            str(dev_pki.ca_cert),
            "--events",
            str(events),
            "--json",
            str(report),
        ],
        env={"CRRSIM_PFX_PASSWORD": TEST_PFX_PASSWORD},
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    kinds = [line["event"] for line in lines]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished" and set(kinds[1:-1]) == {"CaseFinished"}
    assert lines[0]["runner"] == "probe" and lines[0]["total"] == 10 and lines[0]["unit"] == "services"
    done = [line["completed"] for line in lines if line["event"] == "CaseFinished"]
    assert done == sorted(done) and done[-1] == 10  # the bar counts services, one by one, up to all
    services = [
        line["case"]
        for line in lines
        if line["event"] == "CaseFinished" and line["case"]["group"] == "services"
    ]
    assert len(services) == 10 and all(c["status"] == "passed" for c in services)
    # the last event carries the report the --json file holds: one model, written from the stream
    written = json.loads(report.read_text())
    assert lines[-1]["report"]["verdict"] == written["verdict"] == "CERTIFIED"
    assert lines[-1]["report"]["cases"] == written["cases"] and "sandbox" in written["tested"]
    assert TEST_PFX_PASSWORD not in events.read_text()  # secrets never reach the stream


def test_parts_nest_and_the_line_display_names_each_by_its_key() -> None:
    """The main job files each runner's events under the part's key; a scorecard files each
    participant's probe under its SC ID inside that: handlers key on parts, never titles."""
    seen: list[str] = []
    collected = Collect()
    with Stream([LineDisplay(seen.append, every=0.0), collected]) as stream:
        part = in_part(in_part(stream, "connectivity"), "ECAL")
        part(RunStarted(runner=Runner.PROBE, title="probe ECAL", total=2, unit="services"))
        ok = CaseResult(group="services", name="auction", status=CaseStatus.PASSED)
        bad = CaseResult(group="services", name="nomination", status=CaseStatus.FAILED)
        part(CaseFinished(case=ok, completed=1))
        part(CaseFinished(case=bad, completed=2))
        stream(Note(text="sandbox stopped"))
        report = RunReport(
            runner="probe", title="t", target="u", verdict="NOT CERTIFIED", ok=False, cases=[ok, bad]
        )
        part(RunFinished(report=report, seconds=0.25))
    assert [e.part for e in collected.events] == ["connectivity/ECAL"] * 3 + ["", "connectivity/ECAL"]
    assert seen == [
        "connectivity/ECAL: started (2 services)",
        "connectivity/ECAL: 1/2 services; 1 passed",
        "connectivity/ECAL: failed services nomination",  # a failure is said when it happens
        "connectivity/ECAL: 2/2 services; 1 passed, 1 failed",
        "sandbox stopped",
        "connectivity/ECAL: NOT CERTIFIED (1 passed, 1 failed; 0.2 s)",
    ]


BUSY = """model: closed
think_time: [0.05, 0.2]
stages:
  - {duration: 8, users: 4, spawn_rate: 4}
mix: {market_status: 3, portfolio_submit: 1}
"""
LOOSE = "slos:\n  - name: anything goes\n    operation: '*'\n    p99_ms: 60000\n    error_rate: 0.5\n"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt install tmux)")
def test_the_live_bar_moves_on_a_terminal(dev_pki: DevPKI, tmp_path: Path) -> None:
    """`crrsim load` on a real terminal (a tmux pane): rich's bar shows the seconds done and the
    live figures, and they move while the run goes; the summary follows when it ends."""
    sandbox = start_with_plan(dev_pki, tmp_path / "live.db")
    try:
        _live_bar(dev_pki, sandbox, tmp_path)
    finally:
        sandbox.stop()


def _live_bar(dev_pki: DevPKI, sandbox: RunningSandbox, tmp_path: Path) -> None:
    (tmp_path / "busy.yaml").write_text(BUSY)
    (tmp_path / "loose.yaml").write_text(LOOSE)
    command = [
        sys.executable, "-m", "harness", "load", "--url", sandbox.url, "--pki", str(dev_pki.directory),
        "--allow-load", "--max-rps", "200", "--profile", "busy.yaml", "--slo", "loose.yaml",
    ]  # fmt: skip
    done = tmp_path / "exit-code"
    session = f"crrsim-live-{os.getpid()}"
    shell = f"cd {shlex.quote(str(tmp_path))} && {shlex.join(command)}; echo $? > {shlex.quote(str(done))}"
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "200",
            "-y",
            "50",
            "sh",
            "-c",
            shell + "; sleep 30",
        ],
        check=True,
        env=env,
    )
    seconds: list[float] = []
    screens: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while not done.exists() and time.monotonic() < deadline:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=True
            ).stdout
            screens.append(screen)
            for match in re.finditer(r"load\s.*?(\d+(?:\.\d+)?)/8 s\b.*?(\d+) req", screen):
                if not seconds or float(match.group(1)) != seconds[-1]:
                    seconds.append(float(match.group(1)))
            time.sleep(0.25)
        final = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", session, "-S", "-200"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert done.exists() and done.read_text().strip() == "0", final
    assert len(seconds) >= 3 and seconds == sorted(seconds) and seconds[-1] >= 4, (seconds, screens[-3:])
    assert "VERDICT" in final.upper() or "PASSED" in final, final
