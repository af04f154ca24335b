"""``--events FILE``: the run's events as NDJSON, one object per line, flushed as they happen.

Another tool (a dashboard, a CI step, ``tail -f | jq``) can follow a run live. Each line has
``event`` (the event's type), ``part`` and the event's fields; a finished run carries its whole
report as the JSON report writes it (secrets scrubbed), so the last line is the report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import IO, Any

from harness.events import AnyEvent, RunFinished
from harness.reports.handlers.json_report import report_dict
from harness.reports.handlers.scrub import scrub_tree


def event_dict(event: AnyEvent) -> dict[str, Any]:
    data: dict[str, Any] = {"event": type(event).__name__}
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(event, RunFinished) and f.name == "report":
            data["report"] = report_dict(value)
        elif f.name == "case":
            data["case"] = scrub_tree(asdict(value))
        elif f.name != "extra":
            data[f.name] = value
    return data


class EventLog:
    """Writes each event as one JSON line to ``path`` (created with its folder; truncated)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._out: IO[str] = path.open("w", encoding="utf-8")

    def handle(self, event: AnyEvent) -> None:
        self._out.write(json.dumps(event_dict(event), default=str, ensure_ascii=False) + "\n")
        self._out.flush()

    def close(self) -> None:
        self._out.close()
