"""The generic report handlers on hand-built RunReports: every status, hostile text, secrets."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.reports import CaseResult, CaseStatus, RunReport, Section
from harness.reports.handlers import (
    SCHEMA_VERSION,
    render_html,
    render_junit,
    render_text,
    write_html,
    write_json,
    write_junit,
)

FAKE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
FAKE_EC_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----"


@pytest.fixture
def report() -> RunReport:
    start = datetime(2026, 3, 26, 12, 0, tzinfo=UTC)
    cases = [
        CaseResult("tls", "Handshake", CaseStatus.PASSED, 0.012, "TLSv1.3"),
        CaseResult("tls", "Server cert", CaseStatus.WARNING, 0.0, "expires in 9 days", "Likely fix: renew"),
        CaseResult(
            "services",
            "auction",
            CaseStatus.FAILED,
            0.2,
            'ACCESS_DENIED <SEC0001> & "quotes"',
            f"body was {FAKE_KEY} and \x07bell",
        ),
        CaseResult("services", "messages", CaseStatus.SKIPPED, 0.0, "not attempted"),
        CaseResult("scenario", "week1", CaseStatus.ERROR, 1.5, "boom", f"Traceback ... {FAKE_EC_KEY}"),
    ]
    sections = [
        Section("Identity", facts={"subject": "CN=ecal,O=ECAL", "note": "<script>alert(1)</script>"}),
        Section(
            "Matrix",
            rows=[{"Service": "auction", "Result": "ACCESS_DENIED"}, {"Service": "messages", "Result": "OK"}],
        ),
        Section("Latency", chart={"auction": 12.5, "messages": 250.0}, chart_unit="ms"),
        Section("Notes", text=["reads only"]),
    ]
    return RunReport(
        "probe",
        "Check <ECAL>",
        "https://127.0.0.1:8443/crr",
        "NOT CERTIFIED",
        False,
        cases,
        sections,
        started_at=start,
        finished_at=start + timedelta(seconds=2),
        meta={"crrsim_version": "0.1.0"},
    )


def test_json_is_stable_and_scrubbed(report: RunReport, tmp_path: Path) -> None:
    text = write_json(report, tmp_path / "sub" / "r.json").read_text()
    data = json.loads(text)
    assert list(data)[0] == "schema_version" and data["schema_version"] == SCHEMA_VERSION
    assert data["counts"] == {"passed": 1, "failed": 1, "error": 1, "skipped": 1, "warning": 1}
    assert data["duration_s"] == 2.0 and data["started_at"].startswith("2026-03-26T12:00:00")
    assert data["cases"][2]["status"] == "failed"
    assert data["sections"][1]["rows"][0]["Result"] == "ACCESS_DENIED"
    assert "PRIVATE KEY" not in text and "[private key removed]" in text


def test_junit_parses_and_counts(report: RunReport, tmp_path: Path) -> None:
    root = ET.parse(write_junit(report, tmp_path / "r.xml")).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases][:2] == ["probe.tls", "probe.tls"]
    assert cases[1].find("system-out").text.startswith("WARNING: expires in 9 days")
    failure = cases[2].find("failure")
    assert failure.get("message") == 'ACCESS_DENIED <SEC0001> & "quotes"'
    assert "\x07" not in str(failure.text) and "PRIVATE KEY" not in str(failure.text)
    assert cases[3].find("skipped") is not None and cases[4].find("error") is not None
    assert "PRIVATE KEY" not in render_junit(report)


def test_html_is_self_contained_escaped_and_scrubbed(report: RunReport, tmp_path: Path) -> None:
    html = write_html(report, tmp_path / "r.html").read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "Verdict: NOT CERTIFIED" in html and "Check &lt;ECAL&gt;" in html
    assert html.count("<svg") == 1 and "250 ms" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html) and "<link" not in html
    assert "PRIVATE KEY" not in html
    assert "crrsim 0.1.0" in render_html(report)


def test_text_aligns_and_colours_only_when_asked(report: RunReport) -> None:
    plain = render_text(report)
    assert "\033[" not in plain and "VERDICT: NOT CERTIFIED" in plain
    lines = [
        line for line in plain.splitlines() if line.startswith("  ") and ("FAIL" in line or "PASS" in line)
    ]
    columns = {line.index(line.split()[1]) for line in lines}
    assert len(columns) == 1, "names must start in one column"
    assert "\033[31m" in render_text(report, color=True)
    assert "PRIVATE KEY" not in plain
    # a section's facts are printed too (the load's requests and latency, the probe's certificate)
    assert "\nIDENTITY\n  subject  CN=ecal,O=ECAL\n  note     <script>" in plain


def test_empty_report_renders_everywhere(tmp_path: Path) -> None:
    empty = RunReport("fuzz", "nothing ran", "https://127.0.0.1/crr", "PASSED", True)
    assert json.loads(write_json(empty, tmp_path / "e.json").read_text())["cases"] == []
    assert ET.parse(write_junit(empty, tmp_path / "e.xml")).getroot().find("testsuite").get("tests") == "0"
    assert "Verdict: PASSED" in render_html(empty)
    assert "VERDICT: PASSED" in render_text(empty)


def test_lines_over_time_are_drawn_as_inline_svg(tmp_path: Path) -> None:
    from harness.reports.handlers.html import line_chart

    series = {"p50": [[0, 1.5], [1, 2.0], [2, 40.0]], "p99 <&>": [[0, 3.0], [1, 9.0], [2, 120.0]]}
    svg = ET.fromstring(str(line_chart(series, "ms")))
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline") or svg.findall("polyline")
    assert len(lines) == 2 and all(len(line.get("points", "").split()) == 3 for line in lines)
    labels = [t.text for t in svg.iter() if t.tag.endswith("text")]
    assert (
        "p99 <&>" in labels and "200" in labels and "2 s" in labels
    )  # legend escaped; axis rounded up to 200
    report = RunReport(
        runner="load",
        title="t",
        target="https://127.0.0.1/crr",
        verdict="PASSED",
        ok=True,
        sections=[Section("Latency over time", series=series, series_unit="ms")],
    )
    page = render_html(report)
    assert page.count("<polyline") == 2 and "<script" not in page


def test_counts_are_said_with_their_plural() -> None:
    """Issue 19 item 15: "1 calls", "2 warning" read as slips on a page a manager reads."""
    from harness.reports import in_words, plural

    assert (plural(1, "call"), plural(0, "call"), plural(4078, "call")) == (
        "1 call",
        "0 calls",
        "4,078 calls",
    )
    assert in_words({"passed": 3, "warning": 1, "error": 2, "skipped": 0}) == "3 passed, 1 warning, 2 errors"
