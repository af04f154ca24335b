"""Fold the parts' reports into the one report the main job files as ``index.html``.

Case groups get a part prefix ("connectivity ECAL / tls", "scenarios / week1.tuesday") so a
reader of the merged JUnit can tell which participant and which plan day a row is. The page
shows what a QA lead or a participant files: the parts at a glance, what to fix first, the
readiness scorecard, the plan grid, fuzz by service, the load charts and SLOs, and links to each
part's own detailed report; every case is still there at the bottom (and in the JUnit).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from harness import __version__
from harness.reports import CaseResult, Gap, RunReport, Section, plural


@dataclass
class Part:
    """One part of the job, done: its report, how long it took, what the index shows of it."""

    name: str  # "connectivity ECAL", "structured plan", "fuzz", "load"
    report: RunReport
    seconds: float = 0.0
    shown: tuple[str, ...] = ()  # keys of its sections the index shows (the rest: its own report)
    links: dict[str, str] = field(
        default_factory=dict
    )  # its own reports: label -> path relative to the index
    prefix: str = ""  # its case groups' prefix; default the name

    @property
    def figures(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.report.counts().items() if v}

    @property
    def headline(self) -> str:
        """The part's own figure a reader looks for first (services reached, calls, latency)."""
        meta, facts = self.report.meta, (self.report.sections[0].facts if self.report.sections else {})
        if "services_total" in meta:
            return f"{meta['services_ok']} of {plural(meta['services_total'], 'service')} OK"
        if self.report.runner == "fuzz":
            return f"{plural(meta.get('calls', 0), 'call')}, {plural(meta.get('operations', 0), 'operation')}"
        if self.report.runner == "load":
            latency = facts.get("latency (exact, all calls)", "").split(", max")[0]
            return f"{plural(meta.get('requests', 0), 'request')}; {latency}".rstrip("; ")
        if self.report.runner == "scenarios":
            return plural(len(self.report.cases), "scenario")
        return ""


def _prefixed(cases: list[CaseResult], prefix: str) -> list[CaseResult]:
    return [replace(c, group=f"{prefix} / {c.group}") for c in cases]


def _shown(part: Part) -> list[Section]:
    by_key = {s.key: s for s in part.report.sections if s.key}
    label = part.prefix or part.name
    label = label[:1].upper() + label[1:]  # one style for every section title: "Fuzz: Per service"
    return [replace(by_key[k], title=f"{label}: {by_key[k].title}") for k in part.shown if k in by_key]


def merge_reports(
    target: str,
    parts: list[Part],
    started_at: datetime,
    notes: list[str],
    lead: list[Section] | None = None,
    stopped: list[Gap] | None = None,
) -> RunReport:
    """``lead``: sections shown right after the parts table (the readiness scorecard);
    ``stopped``: what the job itself did not cover (an interruption), besides its parts' gaps."""
    cases = [c for p in parts for c in _prefixed(p.report.cases, p.prefix or p.name)]
    findings = [
        replace(f, where=f"{p.name} / {f.where}" if f.where else p.name)
        for p in parts
        for f in p.report.fix_first()
    ]
    # a part that found nothing but left something uncovered makes the rehearsal INCOMPLETE, not FAILED
    failed = not (parts and any(p.name.startswith("connectivity") for p in parts)) or any(
        not p.report.ok and not p.report.incomplete for p in parts
    )
    gaps = [*(stopped or []), *(Gap(f"{p.name}: {g.what}", g.cover) for p in parts for g in p.report.gaps)]
    headers = sorted({k for p in parts for k in p.figures})
    rows = [
        {
            "part": p.name,
            "verdict": p.report.verdict,
            **{h: p.figures.get(h, "0") for h in headers},
            "figures": p.headline,
            "time": f"{p.seconds:.1f} s",
        }
        for p in parts
    ]
    links = {f"{p.name}: {label}": href for p in parts for label, href in p.links.items()}
    sections = [
        Section("Parts", rows=rows, text=list(notes)),
        *(lead or []),
        *(s for p in parts for s in _shown(p)),
    ]
    if links:
        sections.append(Section("Detailed reports", links=links))
    return RunReport(
        runner="marketsim",
        title="crrsim Market Sim rehearsal",
        target=target,
        verdict="",
        ok=False,
        cases=cases,
        gaps=gaps,
        sections=sections,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        findings=findings,
        meta={
            "crrsim_version": __version__,
            "parts": [p.name for p in parts],
            "participants": [p.name.split(" ", 1)[1] for p in parts if p.name.startswith("connectivity ")],
            "seconds": {p.name: round(p.seconds, 1) for p in parts},
        },
    ).judge(failed)
