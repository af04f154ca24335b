"""RunReport as JSON: a stable document for CI and dashboards (see docs/probe-json-schema.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.reports.handlers.scrub import scrub_tree
from harness.reports.model import RunReport

# Bump the major part when a key is removed or changes meaning; the minor part when keys are added.
SCHEMA_VERSION = (
    "1.3"  # 1.1: "findings"; 1.2: sections' "series"; 1.3: "grid", "links", findings' "reproduce"
)


def report_dict(report: RunReport) -> dict[str, Any]:
    data = scrub_tree(report.to_dict())
    return {"schema_version": SCHEMA_VERSION, **data}


def write_json(report: RunReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report_dict(report), indent=2, default=str) + "\n", encoding="utf-8")
    return path
