"""The main job (issue 9 item 11): the merged report, and `crrsim marketsim` end to end."""

from __future__ import annotations

import json
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


def test_marketsim_without_scenarios_end_to_end(dev_pki, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["marketsim", "--no-scenarios", "--pki", str(dev_pki.directory),
                                      "--out", str(out), "--timeout", "30"])
    assert result.exit_code == 0, result.output
    assert "  - The structured plan was not run (--no-scenarios)." in result.stdout
    data = json.loads((out / "marketsim.json").read_text())
    assert data["ok"] is True and data["meta"]["participants"] == ["ECAL", "WCAL"]
    assert data["sections"][0]["text"] == ["The structured plan was not run (--no-scenarios)."]
    html = (out / "marketsim.html").read_text()
    assert "The structured plan was not run" in html
    assert dev_pki.password() not in html + result.output
