"""Rendering of runner results.

Every runner (probe, fuzz, scenarios, load, marketsim) produces a ``RunReport``; the
handlers in ``harness.reports.handlers`` turn any ``RunReport`` into JSON, JUnit XML or a
self-contained HTML page. No runner writes its own report format.
"""

from harness.reports.model import (
    FAILED,
    INCOMPLETE,
    PASSED,
    CaseResult,
    CaseStatus,
    Finding,
    Gap,
    RunReport,
    Section,
    Tile,
    anchor,
    could_not_run,
    in_words,
    plural,
)

__all__ = [
    "FAILED",
    "INCOMPLETE",
    "PASSED",
    "CaseResult",
    "CaseStatus",
    "Finding",
    "Gap",
    "RunReport",
    "Section",
    "Tile",
    "anchor",
    "could_not_run",
    "in_words",
    "plural",
]
