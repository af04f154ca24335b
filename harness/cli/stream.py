"""Where a command's events go: the one live display, the report files, the NDJSON log.

Every command that runs a runner builds its handlers here, so each shows progress the same
way: rich's live bars when stderr is a terminal (colour by the one switch, ``use_color``),
plain ``crrsim: ...`` lines otherwise (CI logs), ``--events FILE`` as NDJSON, and ``--json``,
``--junit``, ``--html`` written when the run finishes. A report path that cannot be written is
said after the verdict and ends the command with exit 3.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from harness.cli.options import CannotRun, use_color
from harness.events import Handler, Stream
from harness.reports.handlers import EventLog, LineDisplay, LiveDisplay, ReportFiles


def display(*, every: float = 5.0) -> Handler:
    """The live view: rich's bars on a terminal, plain lines elsewhere."""
    if sys.stderr.isatty():
        return LiveDisplay(color=use_color(sys.stderr))
    return LineDisplay(lambda line: click.echo(f"crrsim: {line}", err=True), every=every)


@contextlib.contextmanager
def run_stream(
    json_out: Path | None = None,
    junit: Path | None = None,
    html: Path | None = None,
    events_out: Path | None = None,
    *,
    quiet_files: bool = False,
    live: bool = True,
) -> Iterator[tuple[Stream, ReportFiles]]:
    """The handlers of one command's run; the display stops when the block ends, so what the
    command prints next (its summary) is never drawn over."""
    files = ReportFiles(json_out, junit, html, say=None if quiet_files else lambda t: click.echo(t, err=True))
    handlers: list[Handler] = [display()] if live else []
    handlers.append(files)
    if events_out is not None:
        try:
            handlers.append(EventLog(events_out))
        except OSError as exc:
            raise CannotRun(f"Cannot write {events_out}: {exc.strerror or exc}") from None
    stream = Stream(handlers)
    try:
        yield stream, files
    finally:
        stream.close()


def check_written(files: ReportFiles) -> None:
    """Exit 3 naming the first report that could not be written (after the verdict is out)."""
    if files.failed:
        path, why = files.failed[0]
        raise CannotRun(f"Cannot write {path}: {why}")
