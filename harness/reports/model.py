"""The one result model the report handlers understand.

Runners keep their own rich result types for their own logic and convert them into a
``RunReport`` at the end (``to_report()``). Keeping the rendering model separate means the
JUnit/JSON/HTML writers exist exactly once.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from harness.exitcodes import ExitCode

PASSED, FAILED, INCOMPLETE = "PASSED", "FAILED", "INCOMPLETE"


def anchor(*parts: str) -> str:
    """The HTML id of a thing in a report (a table row, a section), the same for the code that
    links to it and the template that renders it."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def plural(n: int, noun: str) -> str:
    """ "1 call", "4,078 calls": a count with its noun, thousands grouped (every report says
    counts this way, so a run of one never reads "1 calls")."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def in_words(counts: dict[str, int]) -> str:
    """ "3 passed, 1 failed, 2 warnings": the counts that are not zero, in their order (every
    runner's summary line, the main job's progress and its table say them alike)."""
    return ", ".join(
        plural(n, status) if status in ("error", "warning") else f"{n:,} {status}"
        for status, n in counts.items()
        if n
    )


class CaseStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    WARNING = "warning"  # passed, but with something the reader must look at


@dataclass
class CaseResult:
    """One check or test: a JUnit testcase, a row in the HTML table."""

    group: str  # JUnit classname / HTML table section, e.g. "tls" or "week1.tuesday"
    name: str
    status: CaseStatus
    duration_s: float = 0.0
    message: str = ""  # one-line diagnosis shown in tables and JUnit failure messages
    details: str = ""  # longer text: the likely fix, a traceback, a response body (secrets removed)
    data: dict[str, Any] = field(default_factory=dict)  # structured extras for JSON consumers


@dataclass
class Tile:
    """One cell entry of a grid: a plan item coloured by its result, linking to its detail."""

    label: str  # e.g. the plan item id
    status: str  # a CaseStatus value, or "manual" / "not run" (drawn grey)
    title: str = ""  # the hover text: what the item is, or why it is manual
    link: str = ""  # an anchor or a relative path


@dataclass
class Section:
    """A block of key/value facts or a chart for the HTML report (identity, TLS, latencies)."""

    title: str
    facts: dict[str, str] = field(default_factory=dict)
    # optional bar chart: label -> value, rendered as inline SVG (no network access needed)
    chart: dict[str, float] = field(default_factory=dict)
    chart_unit: str = ""
    # optional table: one dict per row, keys are the column headings (e.g. a service matrix)
    rows: list[dict[str, str]] = field(default_factory=list)
    # optional paragraphs of plain text (notes the reader must see)
    text: list[str] = field(default_factory=list)
    # optional line chart over time: line name -> [[x, y], ...] (e.g. p50/p95/p99 by second)
    series: dict[str, list[list[float]]] = field(default_factory=dict)
    series_unit: str = ""  # the y axis ("ms", "req/s"); x is seconds from the start
    # optional grid of tiles (the plan's week x day): row label -> one list of tiles per column
    grid_columns: list[str] = field(default_factory=list)
    grid: dict[str, list[list[Tile]]] = field(default_factory=dict)
    # optional links to other files (a part's own detailed report): label -> relative path
    links: dict[str, str] = field(default_factory=dict)
    # the section's stable name: what the main job picks its sections by and what links into its
    # rows use (row ids: anchor(key, first cell)); it stays when a merged report retitles the
    # section ("Scenarios: Plan items"). Empty: the title stands in for anchors, and the main job
    # never shows it.
    key: str = ""


@dataclass
class Finding:
    """One thing to fix, written for the person who must fix it: every report shows these
    first, before the passing detail."""

    text: str  # what is wrong, as a plain sentence
    fix: str = ""  # the likely fix
    where: str = ""  # what it belongs to: a plan item, a service, a check
    request_id: str = ""  # the caiso-request-id CAISO can find the call by
    reproduce: str = ""  # a command that shows the failure again (crrsim ..., or a curl line)


@dataclass
class Gap:
    """Something the run was asked to cover and did not (a budget spent, operations never
    reached, a stop rule, a generator that fell behind): why a run that found nothing is still
    not PASSED. ``cover`` says how a next run covers it (a flag, a setting, a step)."""

    what: str
    cover: str = ""


@dataclass
class RunReport:
    runner: str  # "probe", "scenarios", ...
    title: str
    target: str
    verdict: str  # e.g. "CERTIFIED" / "NOT CERTIFIED", "PASSED" / "FAILED"
    ok: bool
    cases: list[CaseResult] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # crrsim version, participant, ...
    # what to fix first; a runner that knows root causes sets these (the probe), otherwise
    # every failed or broken case is one finding (``fix_first``)
    findings: list[Finding] = field(default_factory=list)
    # what was asked and not covered: a run with gaps and no failure is INCOMPLETE, never PASSED
    gaps: list[Gap] = field(default_factory=list)
    tested: str = ""  # what ``target`` is, in words (client.targets.describe_target); shown by the verdict

    def judge(self, failed: bool) -> RunReport:
        """Settle ``ok`` and the verdict from what the run found: FAILED when anything failed,
        else INCOMPLETE when anything asked was not covered, else PASSED. ``ok`` means PASSED."""
        self.ok = not failed and not self.gaps
        self.verdict = FAILED if failed else INCOMPLETE if self.gaps else PASSED
        return self

    def judge_by_cases(self) -> RunReport:
        """``judge`` with "failed" read off the cases: a FAILED or ERROR case fails the run."""
        return self.judge(failed=any(c.status in (CaseStatus.FAILED, CaseStatus.ERROR) for c in self.cases))

    @property
    def incomplete(self) -> bool:
        """Ran, found no failure, but left something it was asked to cover (``gaps``)."""
        return self.verdict == INCOMPLETE

    def exit_code(self) -> ExitCode:
        """0 passed, 6 incomplete (nothing failed), 1 anything else the run found."""
        if self.ok:
            return ExitCode.OK
        return ExitCode.INCOMPLETE if self.incomplete else ExitCode.PROBLEM

    def fix_first(self) -> list[Finding]:
        if self.findings:
            return self.findings
        return [
            Finding(
                text=f"{case.name}: {case.message}" if case.message else case.name,
                fix=case.details if case.details.startswith("Likely fix") else "",
                where=" ".join(case.data.get("plan", [])) or case.group,
                request_id=str(case.data.get("caiso_request_id") or ""),
                reproduce=str(case.data.get("reproduce") or ""),
            )
            for case in self.cases
            if case.status in (CaseStatus.FAILED, CaseStatus.ERROR)
        ]

    @property
    def duration_s(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in CaseStatus}
        for case in self.cases:
            out[case.status.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["duration_s"] = round(self.duration_s, 3)
        data["counts"] = self.counts()
        data["findings"] = [asdict(f) for f in self.fix_first()]
        return data


def could_not_run(runner: str, target: str, why: str, fix: str = "") -> RunReport:
    """The report of a run that could not happen at all (exit 3): one error, its sentence first,
    so a CI job that reads the JSON or JUnit sees why rather than no file."""
    return RunReport(
        runner=runner,
        title=runner,
        target=target,
        verdict="COULD NOT RUN",
        ok=False,
        cases=[CaseResult(group="run", name=f"{runner} ran", status=CaseStatus.ERROR, message=why)],
        findings=[Finding(text=f"The {runner} could not run: {why}", where=runner, fix=fix)],
    )
