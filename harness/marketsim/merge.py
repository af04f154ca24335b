"""Fold the probe and scenario reports into the one report the main job files.

Case groups get a phase prefix ("connectivity ECAL / tls", "scenarios / week1.tuesday") so a
reader of the merged HTML or JUnit can tell which participant and which plan day a row is.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from harness import __version__
from harness.reports import CaseResult, RunReport, Section


def _prefixed(cases: list[CaseResult], prefix: str) -> list[CaseResult]:
    return [replace(c, group=f"{prefix} / {c.group}") for c in cases]


def merge_reports(target: str, probes: dict[str, RunReport], scenarios: RunReport | None,
                  started_at: datetime, notes: list[str], parts: dict[str, RunReport] | None = None) -> RunReport:
    """``parts``: the other runners' reports by phase name ("fuzz", "load"), merged the same way."""
    cases: list[CaseResult] = []
    sections: list[Section] = []
    phase_rows: list[dict[str, str]] = []
    for participant, report in probes.items():
        cases += _prefixed(report.cases, f"connectivity {participant}")
        sections += [replace(s, title=f"{participant}: {s.title}") for s in report.sections]
        phase_rows.append({"phase": f"connectivity {participant}", "verdict": report.verdict,
                           **{k: str(v) for k, v in report.counts().items() if v}})
    if scenarios is not None:
        cases += _prefixed(scenarios.cases, "scenarios")
        phase_rows.append({"phase": "structured plan", "verdict": scenarios.verdict,
                           **{k: str(v) for k, v in scenarios.counts().items() if v}})
    for phase, report in (parts or {}).items():
        cases += _prefixed(report.cases, phase)
        sections += [replace(s, title=f"{phase}: {s.title}") for s in report.sections]
        phase_rows.append({"phase": phase, "verdict": report.verdict,
                           **{k: str(v) for k, v in report.counts().items() if v}})
    # what to fix first: each runner's own list (root causes, SLO breaches, ...), phase by phase
    phases = [*((f"connectivity {p}", r) for p, r in probes.items()),
              *((("structured plan", scenarios),) if scenarios is not None else ()), *(parts or {}).items()]
    findings = [replace(f, where=f"{phase} / {f.where}" if f.where else phase)
                for phase, report in phases for f in report.fix_first()]
    ok = (all(r.ok for r in probes.values()) and (scenarios is None or scenarios.ok) and bool(probes)
          and all(r.ok for r in (parts or {}).values()))
    headers = sorted({k for row in phase_rows for k in row} - {"phase", "verdict"})
    rows = [{"phase": r["phase"], "verdict": r["verdict"], **{h: r.get(h, "0") for h in headers}} for r in phase_rows]
    summary = Section("Phases", rows=rows, text=list(notes))
    return RunReport(
        runner="marketsim",
        title="crrsim Market Sim rehearsal",
        target=target,
        verdict="PASSED" if ok else "FAILED",
        ok=ok,
        cases=cases,
        sections=[summary, *sections],
        started_at=started_at,
        finished_at=datetime.now(UTC),
        findings=findings,
        meta={"crrsim_version": __version__, "participants": list(probes), "phases": [r["phase"] for r in rows]},
    )
