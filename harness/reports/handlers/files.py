"""The report files of a run (``--json``, ``--junit``, ``--html``), written from its last event.

A handler like the displays: when the run (not a part of the main job) finishes, its report is
written in each format asked for. A path that cannot be written does not stop the others; it is
kept in ``failed`` for the command to say (exit 3), after the verdict is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.events import AnyEvent, RunFinished
from harness.reports.handlers.html import write_html
from harness.reports.handlers.json_report import write_json
from harness.reports.handlers.junit import write_junit
from harness.reports.model import RunReport


class ReportFiles:
    def __init__(
        self,
        json_out: Path | None = None,
        junit: Path | None = None,
        html: Path | None = None,
        *,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.targets = [
            (p, w) for p, w in ((json_out, write_json), (junit, write_junit), (html, write_html)) if p
        ]
        self.say = say
        self.written: list[Path] = []
        self.failed: list[tuple[Path, str]] = []

    def write(self, report: RunReport) -> None:
        for path, writer in self.targets:
            try:
                writer(report, path)
            except OSError as exc:
                self.failed.append((path, str(exc.strerror or exc)))
                continue
            self.written.append(path)
            if self.say is not None:
                self.say(f"Wrote {path}")

    def handle(self, event: AnyEvent) -> None:
        if isinstance(event, RunFinished) and not event.part:
            self.write(event.report)

    def close(self) -> None:
        pass
