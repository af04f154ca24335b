"""What a run tells whoever watches it, as typed events: the one stream every runner emits.

Every runner (probe, scenarios, fuzz, load, specs and the main job) takes one ``emit`` and
calls it as it goes; it never draws, prints or writes a report itself. What the events become
is the caller's choice of handlers (``harness.reports.handlers``): rich's live bars on a
terminal, plain lines in a CI log, an NDJSON file other tools can follow (``--events FILE``),
and the JSON, JUnit and HTML reports written from the last event. It is schemathesis' shape
(engine events -> ``cli/commands/run/handlers``) for every crrsim runner.

The main job re-emits each part's events with ``part`` set to the part's stable key
(``connectivity``, ``scenarios``, ``fuzz``, ``load``): handlers key on that, never on titles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol, TypeAlias

from harness.reports.model import CaseResult, RunReport


class Runner(StrEnum):
    """Who is running: the key a handler may choose a layout by."""

    PROBE = "probe"
    SCENARIOS = "scenarios"
    FUZZ = "fuzz"
    LOAD = "load"
    SPECS = "specs"
    MARKETSIM = "marketsim"
    CLIENT_CHECK = "client-check"


@dataclass(frozen=True, kw_only=True)
class Event:
    """``part``: the main job's key for the part this event belongs to ("" for a run of its own)."""

    part: str = ""


@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    """A run (or a part of the main job) began: ``total`` units of ``unit`` to do, if known."""

    runner: Runner
    title: str
    target: str = ""
    total: float | None = None
    unit: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseFinished(Event):
    """One check, scenario or operation is done; ``completed`` units of the run so far."""

    case: CaseResult
    completed: float


@dataclass(frozen=True, kw_only=True)
class Figures(Event):
    """Live figures between cases (a load test's seconds and rates; a fuzz's calls so far)."""

    completed: float
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class Note(Event):
    """Something worth a line that is not a result (the sandbox started, a part was left out)."""

    text: str


@dataclass(frozen=True, kw_only=True)
class RunFinished(Event):
    """The run's whole report (its verdict, cases, gaps) and its wall time."""

    report: RunReport
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


AnyEvent: TypeAlias = RunStarted | CaseFinished | Figures | Note | RunFinished
Emit: TypeAlias = Callable[[AnyEvent], None]


class Handler(Protocol):
    """Consumes the stream; ``close`` once after the last event (even when the run failed)."""

    def handle(self, event: AnyEvent) -> None: ...

    def close(self) -> None: ...


def ignore(event: AnyEvent) -> None:
    """The emit of a caller that watches nothing (a library call, a test)."""


def in_part(emit: Emit, part: str) -> Emit:
    """An emit that files every event under ``part`` before passing it on; parts nest
    (``connectivity/ECAL``: one participant's probe inside the main job's connectivity part)."""
    return lambda event: emit(replace(event, part=f"{part}/{event.part}" if event.part else part))


class Stream:
    """One emit that hands each event to every handler, in order; a context manager closing them."""

    def __init__(self, handlers: Iterable[Handler]) -> None:
        self.handlers = list(handlers)

    def __call__(self, event: AnyEvent) -> None:
        for handler in self.handlers:
            handler.handle(event)

    def close(self) -> None:
        for handler in self.handlers:
            handler.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Collect:
    """A handler that keeps every event (what tests and the main job read back)."""

    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    def handle(self, event: AnyEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass

    def __call__(self, event: AnyEvent) -> None:
        self.handle(event)
