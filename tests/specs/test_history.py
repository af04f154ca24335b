"""`crrsim specs history` (issue 13): every change-log entry classified with its rule, every
published version's bump audited against MAJOR.MINOR.MINI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.specs.history import audit_file, classify

LOG = """\
openapi: 3.0.0
info:
  title: t
  version: 1.1.2
  description: |
    | Version | Date | Change |
    |---|---|---|
    | 1.0.0 | 2024-01-10 | Initial Version |
    | 1.0.1 | 2024-02-01 | Fixed typographical errors; Updated API summary |
    | 1.0.2 | 2024-03-01 | Change minimum value of Megawatt to zero |
    | 1.1.0 | 2024-04-01 | Fixed OperationId for API /marketInfo; Added an extra required field 'effectiveDate' to POST API /PostDASRsummaryset |
    | 1.1.1 | 2024-05-01 | Updated all attribute 'PortfolioName' regex spec |
    | 1.1.2 | 2024-06-01 | Added missing 'SET_ASIDE' enum back to model 'PublicMarketDownloadType' |
paths: {}
"""


@pytest.mark.parametrize(
    ("text", "kind", "rule"),
    [
        ("Fixed OperationId for API /loadMigrationCrrResults", "breaking", "operationId or path renamed"),
        ("Updated delete portfolio API from /a/{m}/{p} to /a/delete", "breaking", "path changed"),
        (
            "Added an extra required field 'effectiveDate' to POST API /PostDASRsummaryset",
            "breaking",
            "new required field",
        ),
        ("Updated all attribute 'PortfolioName' regex spec", "breaking", "pattern changed"),
        ("Remove PREP from enum of 'LoadSubmissionWindowStatus'", "breaking", "enum value removed"),
        ("Replace error code ATH0002 with SEC0001", "breaking", "error code renamed"),
        (
            "Changed maximum spec from 99999999999999999999 to doable size 9223372036854775807",
            "breaking",
            "limit tightened",
        ),
        (
            "Update 'PortfolioName' maxLength specification from 50 chars to 100 chars",
            "compatible",
            "limit loosened",
        ),
        (
            "Added missing 'SET_ASIDE' enum back to model 'PublicMarketDownloadType'",
            "compatible",
            "enum value added",
        ),
        (
            "Removed model 'ApiException' and Updated APIs to use the same exception model named 'CRRServiceException'",
            "compatible",
            "schema renamed (same role, new name)",
        ),
        ("Fixed typographical errors", "documentation", "documentation"),
    ],
)
def test_the_decks_kinds_of_change_are_classified(text: str, kind: str, rule: str) -> None:
    assert classify(text) == (kind, rule)


def test_bumps_are_audited_row_by_row(tmp_path: Path) -> None:
    spec = tmp_path / "caiso_crr_market_status_v1.1.2.yaml"
    spec.write_text(LOG)
    audit = {v.version: v for v in audit_file(spec)}
    assert not audit["1.0.1"].understated and audit["1.0.1"].required == "MINI"
    assert audit["1.0.2"].understated  # a changed minimum shipped as MINI
    assert not audit["1.1.0"].understated and audit["1.1.0"].required == "MINOR"
    assert audit["1.1.1"].understated and audit["1.1.1"].entries[0].rule == "pattern changed"
    assert audit["1.1.2"].understated and audit["1.1.2"].entries[0].kind == "compatible"


def test_every_entry_of_caisos_change_logs_is_classified(official_specs: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "specs",
            "history",
            str(official_specs),
            "--json",
            "h.json",
            "--junit",
            "h.xml",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]  # CAISO ships service changes as MINI
    data = json.loads((tmp_path / "h.json").read_text())
    entries = [e for case in data["cases"] for e in case["data"]["entries"]]
    assert len(data["cases"]) >= 70 and len(entries) >= 180
    assert all(e["kind"] in ("breaking", "compatible", "documentation", "initial") for e in entries)
    assert not [e["text"] for e in entries if e["rule"].startswith("other")], (
        "an entry fell through every rule"
    )
    understated = {f"{c['group']} {c['name']}" for c in data["cases"] if c["status"] == "failed"}
    assert {"auction 1.1.3", "auction 1.1.7"} <= understated  # a tightened pattern; a changed minimum
    assert "auction 1.1.0" not in understated  # the delete path change came as a MINOR bump
