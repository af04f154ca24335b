"""Readiness across participants: one scorecard from several probes, the way an ISO tracks
which scheduling coordinators are ready for Market Sim.

Each participant is certified or not, with the first thing to fix; each service shows which
participants reach it. It is a ``RunReport`` like every other, so the JSON, JUnit and HTML
writers handle it (JUnit: one test suite per SC ID).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from harness import __version__
from harness.events import CaseFinished, Emit, RunFinished, Runner, RunStarted, ignore, in_part
from harness.probe.model import ProbeResult, ProbeSettings
from harness.probe.report import service_data
from harness.probe.runner import run_probe
from harness.reports import CaseResult, CaseStatus, Finding, RunReport, Section, plural


def _first_fix(result: ProbeResult) -> str:
    fixes = result.what_to_fix()
    return f"{fixes[0][0]}: {fixes[0][1]}" if fixes else ""


def _participant_row(result: ProbeResult) -> dict[str, str]:
    ok = sum(s.ok for s in result.services)
    return {
        "SC ID": result.settings.participant,
        "Verdict": result.verdict,
        "Services OK": f"{ok} of {len(result.services)}" if result.services else "none reached",
        "Certificate": result.identity.get("subject", "not loaded"),
        "Valid until": result.identity.get("not_after", "")[:10],
        "First thing to fix": _first_fix(result),
    }


def _service_rows(results: Sequence[ProbeResult]) -> list[dict[str, str]]:
    names = list(dict.fromkeys(s.service for r in results for s in r.services))
    rows = []
    for name in names:
        row = {"Service": name}
        for r in results:
            s = r.service(name)
            latency = f" ({s.latency_s * 1000:.0f} ms)" if s is not None and s.latency_s is not None else ""
            row[r.settings.participant] = "-" if s is None else f"{s.status.value}{latency}"
        rows.append(row)
    return rows


def scorecard_cases(result: ProbeResult) -> list[CaseResult]:
    """One case for the participant's verdict and one per service, grouped by SC ID."""
    sc = result.settings.participant
    first = _first_fix(result)
    cases = [
        CaseResult(
            group=sc,
            name="certified",
            status=CaseStatus.PASSED if result.certified else CaseStatus.FAILED,
            duration_s=round(
                ((result.finished_at or result.started_at) - result.started_at).total_seconds(), 3
            ),
            message=f"{result.verdict}: {first}" if first else result.verdict,
            data={"participant": sc, "certified": result.certified},
        )
    ]
    for s in result.services:
        status = CaseStatus.PASSED if s.ok else (CaseStatus.FAILED if s.attempted else CaseStatus.SKIPPED)
        cases.append(
            CaseResult(
                group=sc,
                name=s.service,
                status=status,
                duration_s=round(s.latency_s or 0.0, 4),
                message=f"{s.status.value}: {s.diagnosis}",
                data={"participant": sc, **service_data(s)},
            )
        )
    return cases


def scorecard_sections(results: Sequence[ProbeResult]) -> list[Section]:
    ready = sum(r.certified for r in results)
    return [
        Section(
            "Participants",
            rows=[_participant_row(r) for r in results],
            text=[f"{ready} of {plural(len(results), 'participant')} certified."],
        ),
        Section("Services by participant", rows=_service_rows(results)),
    ]


def scorecard(results: Sequence[ProbeResult], target: str, started_at: datetime | None = None) -> RunReport:
    ready = sum(r.certified for r in results)
    ok = bool(results) and ready == len(results)
    return RunReport(
        runner="probe-scorecard",
        title="Market Sim readiness scorecard",
        target=target,
        verdict=f"{'READY' if ok else 'NOT READY'}: {ready} of {plural(len(results), 'participant')} certified",
        ok=ok,
        cases=[case for r in results for case in scorecard_cases(r)],
        sections=scorecard_sections(results),
        started_at=started_at or min((r.started_at for r in results), default=datetime.now(UTC)),
        finished_at=datetime.now(UTC),
        findings=[
            Finding(
                text=text,
                fix=f"Likely fix: {fix}" if fix else "",
                where=f"{r.settings.participant} / {where}",
                request_id=rid,
            )
            for r in results
            for where, text, fix, rid in r.what_to_fix()
        ],
        meta={
            "crrsim_version": __version__,
            "participants": [r.settings.participant for r in results],
            "certified": [r.settings.participant for r in results if r.certified],
        },
    )


def run_scorecard(
    settings: Sequence[ProbeSettings], emit: Emit = ignore
) -> tuple[RunReport, list[ProbeResult]]:
    """Probe each participant in turn (each probe's events under its SC ID as the part), then
    the scorecard as the run's report. ``crrsim probe --participants`` and the main job's
    connectivity part both run this."""
    started, clock = datetime.now(UTC), time.monotonic()
    emit(
        RunStarted(
            runner=Runner.PROBE,
            title="readiness scorecard",
            total=len(settings),
            unit="participants",
        )
    )
    results: list[ProbeResult] = []
    for one in settings:
        results.append(run_probe(one, in_part(emit, one.participant)))
        emit(CaseFinished(case=scorecard_cases(results[-1])[0], completed=len(results)))
    target = results[0].base_url if results else ""
    report = scorecard(results, target, started)
    report.tested = results[0].tested if results else ""
    emit(RunFinished(report=report, seconds=time.monotonic() - clock))
    return report, results
