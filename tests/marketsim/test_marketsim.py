"""The main job (issue 9 item 11): the merged report, and `crrsim marketsim` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from harness.cli import cli
from harness.marketsim.merge import merge_reports
from harness.reports import CaseResult, CaseStatus, RunReport
from harness.reports.handlers import render_text


def _report(runner: str, ok: bool) -> RunReport:
    status = CaseStatus.PASSED if ok else CaseStatus.FAILED
    return RunReport(runner=runner, title=runner, target="https://127.0.0.1:1/crr",
                     verdict="PASSED" if ok else "FAILED", ok=ok,
                     cases=[CaseResult(group="services", name="auction", status=status)])


def test_notes_are_whole_sentences_in_every_rendering() -> None:
    note = "The structured plan was not run (--no-scenarios)."
    merged = merge_reports("https://127.0.0.1:1/crr", {"ECAL": _report("probe", True)}, None,
                           datetime.now(UTC), [note])
    phases = merged.sections[0]
    assert phases.text == [note]
    text = render_text(merged)
    assert f"  - {note}" in text
    assert "\n  - T\n" not in text  # the old bug: one character per line


def test_merge_prefixes_groups_and_judges_every_phase() -> None:
    merged = merge_reports("u", {"ECAL": _report("probe", True), "WCAL": _report("probe", True)},
                           _report("scenarios", False), datetime.now(UTC), [])
    assert {c.group for c in merged.cases} == {"connectivity ECAL / services", "connectivity WCAL / services",
                                                "scenarios / services"}
    assert not merged.ok and merged.verdict == "FAILED"
    assert [r["phase"] for r in merged.sections[0].rows] == ["connectivity ECAL", "connectivity WCAL",
                                                              "structured plan"]
    assert merge_reports("u", {}, None, datetime.now(UTC), []).ok is False  # nothing probed: not a pass


SKIPPED = ["The structured plan was not run (skipped).", "The fuzz was not run (skipped).",
           "The load burst was not run (skipped)."]


def test_marketsim_connectivity_only_end_to_end(dev_pki, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["marketsim", "--no-scenarios", "--skip", "fuzz,load", "--pki",
                                      str(dev_pki.directory), "--out", str(out), "--timeout", "30"])
    assert result.exit_code == 0, result.output
    assert f"  - {SKIPPED[0]}" in result.stdout
    data = json.loads((out / "marketsim.json").read_text())
    assert data["ok"] is True and data["meta"]["participants"] == ["ECAL", "WCAL"]
    assert data["sections"][0]["text"] == SKIPPED
    html = (out / "marketsim.html").read_text()
    assert "The structured plan was not run" in html
    assert dev_pki.password() not in html + result.output


def test_the_whole_rehearsal_runs_every_part_and_files_no_secret(dev_pki, tmp_path: Path) -> None:
    """Probe for each participant, the structured plan, a short fuzz of every service, a
    window-close load burst with its SLOs and integrity check: one report, no secret in it.
    A subprocess: the fuzz registers schemathesis checks and the load starts locust."""
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "harness", "marketsim", "--pki", str(dev_pki.directory), "--out",
                          str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    data = json.loads((out / "marketsim.json").read_text())
    assert [r["phase"] for r in data["sections"][0]["rows"]] == [
        "connectivity ECAL", "connectivity WCAL", "structured plan", "fuzz", "load"]
    groups = {c["group"].split(" / ")[0] for c in data["cases"]}
    assert {"fuzz", "load"} <= groups
    assert any(c["name"] == "acknowledged writes read back" and c["status"] == "passed" for c in data["cases"])
    secret = dev_pki.password()
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml", ".csv", ".log", ".txt"):
            assert secret not in path.read_text(errors="replace"), path


def test_parts_are_named_or_refused(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "harness", "marketsim", "--skip", "chaos"], capture_output=True,
                         text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 2 and "--skip takes probe, scenarios, fuzz, load" in run.stderr, run.stderr
