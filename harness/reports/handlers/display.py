"""The live view of any run, from its events: rich's bars on a terminal, plain lines elsewhere.

One display for every command (probe, scenarios, fuzz, load, specs, marketsim): a bar per run
or per part of the main job, keyed by the part's stable key, with its counts so far; notes
print above the bars. ``LineDisplay`` says the same in plain lines for CI logs and pipes, at
most one progress line per part every ``every`` seconds so a log stays readable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness.events import AnyEvent, CaseFinished, Figures, Note, RunFinished, RunStarted
from harness.reports.model import CaseStatus, in_words

_BAD = (CaseStatus.FAILED, CaseStatus.ERROR)


class _Tally:
    """Per part: its title, total and unit, and the cases' statuses so far."""

    def __init__(self, event: RunStarted) -> None:
        self.title, self.total, self.unit = event.title, event.total, event.unit
        self.counts: dict[str, int] = {}

    def add(self, event: CaseFinished) -> None:
        self.counts[event.case.status] = self.counts.get(event.case.status, 0) + 1

    def words(self) -> str:
        return in_words(self.counts)

    def done(self, completed: float) -> str:
        if self.total:
            return f"{completed:g}/{self.total:g} {self.unit}".rstrip()
        return f"{completed:g} {self.unit}".rstrip() if completed else ""


class LineDisplay:
    """One plain line per start, note and finish; progress lines at most every ``every`` s."""

    def __init__(self, write: Callable[[str], None] = print, every: float = 5.0) -> None:
        self.write, self.every = write, every
        self._parts: dict[str, _Tally] = {}
        self._last: dict[str, float] = {}

    def _name(self, part: str) -> str:
        tally = self._parts.get(part)
        return part or (tally.title if tally else "run")

    def handle(self, event: AnyEvent) -> None:
        if isinstance(event, RunStarted):
            self._parts[event.part] = _Tally(event)
            self._last[event.part] = time.monotonic()
            size = f" ({event.total:g} {event.unit})".replace(" )", ")") if event.total else ""
            self.write(f"{self._name(event.part)}: started{size}")
        elif isinstance(event, CaseFinished | Figures):
            tally = self._parts.get(event.part)
            if tally is None:
                return
            if isinstance(event, CaseFinished):
                tally.add(event)
                if event.case.status in _BAD:  # a failure is said when it happens, not 5 s later
                    self.write(
                        f"{self._name(event.part)}: {event.case.status} {event.case.group} {event.case.name}"
                    )
            now = time.monotonic()
            if now - self._last.get(event.part, 0.0) < self.every:
                return
            self._last[event.part] = now
            figures = event.text if isinstance(event, Figures) else tally.words()
            line = "; ".join(x for x in (tally.done(event.completed), figures) if x)
            self.write(f"{self._name(event.part)}: {line}")
        elif isinstance(event, Note):
            self.write(event.text)
        elif isinstance(event, RunFinished):
            report = event.report
            counts = in_words(report.counts())
            took = f"; {event.seconds:.1f} s"
            self.write(f"{self._name(event.part)}: {report.verdict} ({counts or 'nothing ran'}{took})")

    def close(self) -> None:
        pass


class LiveDisplay:
    """rich's live bars on stderr: a bar per part with its counts; notes above; stops on close."""

    def __init__(self, *, color: bool = True, transient: bool = False) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("[bold]{task.description:<16}"),
            BarColumn(bar_width=28),
            TextColumn("{task.fields[done]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[figures]}"),
            console=Console(stderr=True, no_color=not color),
            transient=transient,
        )
        self._parts: dict[str, _Tally] = {}
        self._tasks: dict[str, Any] = {}
        self.bar.start()

    def handle(self, event: AnyEvent) -> None:
        if isinstance(event, RunStarted):
            self._parts[event.part] = _Tally(event)
            self._tasks[event.part] = self.bar.add_task(
                event.part or event.title, total=event.total, done="", figures=""
            )
            return
        if isinstance(event, Note):
            self.bar.console.print(f"[dim]{event.text}[/]", markup=True, highlight=False)
            return
        task, tally = self._tasks.get(event.part), self._parts.get(event.part)
        if task is None or tally is None:
            return
        if isinstance(event, CaseFinished | Figures):
            if isinstance(event, CaseFinished):
                tally.add(event)
            figures = event.text if isinstance(event, Figures) else tally.words()
            self.bar.update(
                task, completed=event.completed, done=tally.done(event.completed), figures=figures
            )
        elif isinstance(event, RunFinished):
            report = event.report
            total = self.bar.tasks[task].total or 1
            colour = "green" if report.ok else "yellow" if report.incomplete else "red"
            figures = f"[{colour}]{report.verdict}[/] · {in_words(report.counts()) or 'nothing ran'}"
            self.bar.update(task, total=total, completed=total, figures=figures)
            self.bar.stop_task(task)

    def close(self) -> None:
        self.bar.stop()
