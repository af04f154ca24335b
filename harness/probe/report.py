"""Turn a ProbeResult into the shared RunReport (the handlers render it; nothing here writes files).

Only public facts go in: certificate subject/issuer/serial/fingerprint, never key material,
and never the settings object (it holds the pfx password).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import __version__
from harness.contract.wire import REQUEST_ID_HEADER
from harness.reports import CaseResult, CaseStatus, Finding, RunReport, Section

if TYPE_CHECKING:  # the model builds its report through this module, not the other way round
    from harness.probe.model import Check, ProbeResult, ServiceResult

PROBE_SCHEMA = "crrsim-probe/1"  # meta["probe_schema"]: bump when meta/data keys change meaning

# CheckStatus value -> case status
_CHECK_STATUS = {
    "pass": CaseStatus.PASSED,
    "warn": CaseStatus.WARNING,
    "fail": CaseStatus.FAILED,
    "skip": CaseStatus.SKIPPED,
}


def _fix(text: str) -> str:
    return f"Likely fix: {text}" if text else ""


def check_case(check: Check) -> CaseResult:
    return CaseResult(
        group=check.group,
        name=check.title,
        status=_CHECK_STATUS[check.status.value],
        duration_s=round(check.duration_s, 4),
        message=check.diagnosis,
        details=_fix(check.fix),
        data={"id": check.id, **{k: v for k, v in check.data.items()}},
    )


def service_data(s: ServiceResult) -> dict[str, object]:
    return {
        "service": s.service,
        "outcome": s.status.value,
        "attempted": s.attempted,
        "operation_id": s.operation_id,
        "method": s.method,
        "path": s.path,
        "http_status": s.http_status,
        "error_code": s.error_code,
        "latency_ms": None if s.latency_s is None else round(s.latency_s * 1000, 1),
        "caiso_request_id": s.request_id,
    }


def service_case(s: ServiceResult, shared_cause: bool = False) -> CaseResult:
    if s.ok:
        status = CaseStatus.PASSED
    elif not s.attempted:
        status = CaseStatus.SKIPPED  # the root cause is the failed check, not ten service failures
    else:
        status = CaseStatus.FAILED
    return CaseResult(
        group="services",
        name=s.service,
        status=status,
        duration_s=round(s.latency_s or 0.0, 4),
        # a failure the root cause explains points there instead of repeating the same advice
        message=f"{s.status.value} ({s.error_code or s.http_status}): the cause under 'What to fix'"
        if shared_cause
        else f"{s.status.value}: {s.diagnosis}",
        details="" if shared_cause else _fix(s.fix),
        data=service_data(s),
    )


def _matrix_row(s: ServiceResult) -> dict[str, str]:
    return {
        "Service": s.service,
        "Result": s.status.value,
        "Call": f"{s.method} {s.path}",
        "HTTP": "" if s.http_status is None else str(s.http_status),
        "Code": s.error_code or "",
        "Latency ms": "" if s.latency_s is None else f"{s.latency_s * 1000:.0f}",
        REQUEST_ID_HEADER: s.request_id or "",
    }


def probe_report(result: ProbeResult) -> RunReport:
    settings = result.settings
    identity = {"SC ID (participant)": settings.participant, **_titled(result.identity)}
    sections = [
        Section("Identity and certificate", facts=identity),
        Section("TLS", facts=_titled(result.tls) or {"status": "no TLS session was established"}),
        Section("Service matrix", rows=[_matrix_row(s) for s in result.services]),
        Section(
            "Latency per service",
            chart={
                s.service: round(s.latency_s * 1000, 1) for s in result.services if s.latency_s is not None
            },
            chart_unit="ms",
        ),
    ]
    problems = result.problems()
    sections.append(Section("Notes", text=list(result.notes)))
    return RunReport(
        runner="probe",
        tested=result.tested,
        title=f"CRR connectivity check for {settings.participant}",
        target=result.base_url,
        verdict=result.verdict,
        ok=result.certified,
        cases=[
            *map(check_case, result.checks),
            *(service_case(s, result.shares_root_cause(s)) for s in result.services),
        ],
        sections=sections,
        findings=[
            Finding(text=text, fix=f"Likely fix: {fix}" if fix else "", where=where, request_id=rid)
            for where, text, fix, rid in result.what_to_fix()
        ],
        started_at=result.started_at,
        finished_at=result.finished_at,
        meta={
            "crrsim_version": __version__,
            "probe_schema": PROBE_SCHEMA,
            "participant": settings.participant,
            "environment": settings.target,
            "base_url": result.base_url,
            "timeout_s": settings.timeout,
            "certified": result.certified,
            "exit_code": result.exit_code,
            "identity": dict(result.identity),
            "tls": dict(result.tls),
            "services_ok": sum(s.ok for s in result.services),
            "services_total": len(result.services),
            "problems": problems,
            "notes": list(result.notes),
        },
    )


def _titled(facts: dict[str, str]) -> dict[str, str]:
    return {key.replace("_", " "): str(value) for key, value in facts.items()}
