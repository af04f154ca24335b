"""The probe's order of steps: local certificate, network, TLS, services.

Each step runs only when the one before makes it meaningful: calling ten services after the
TLS handshake failed would print ten copies of the same failure and bury the real one. The
skipped services are still listed, marked "not attempted", with the class of the blocking
failure, so the service matrix is always complete.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from harness.client import AsyncCRRClient, resolve_target
from harness.client.control import judge_target
from harness.client.targets import describe_target, target_kind
from harness.contract import Operation
from harness.events import CaseFinished, Emit, RunFinished, Runner, RunStarted, ignore
from harness.probe.deadline import Deadline
from harness.probe.local import run_local_checks, summarize
from harness.probe.model import (
    Check,
    CheckStatus,
    ProbeResult,
    ProbeSettings,
    ServiceResult,
    ServiceStatus,
    make_check,
)
from harness.probe.network import connect, resolve
from harness.probe.report import check_case, service_case
from harness.probe.services import not_answered, probe_services, reads_for
from harness.probe.tls import TLSOutcome, client_identity, run_tls_check

READS_ONLY_NOTE = (
    "The probe only sends read (GET) requests and never changes anything. It therefore cannot tell"
    " whether this certificate may also write (create or submit portfolios, offers, ...): a"
    " read-only provisioning passes the probe. Write access is verified by the Market Sim scenarios."
)


def _skipped(check_id: str, title: str, why: str) -> Check:
    return make_check(check_id, title, CheckStatus.SKIP, f"not attempted: {why}")


def _blocked(reads: dict[str, Operation], status: ServiceStatus, why: str) -> list[ServiceResult]:
    return [
        not_answered(reads[name], status, f"not attempted: {why}", attempted=False) for name in sorted(reads)
    ]


class _Live:
    """The probe's events as it goes: a case per check and per service as each is known (the
    bar counts services; the report at the end is the one that counts)."""

    def __init__(self, result: ProbeResult, reads: dict[str, Operation], emit: Emit) -> None:
        self.result, self.emit, self.answered = result, emit, 0
        emit(
            RunStarted(
                runner=Runner.PROBE,
                title=f"probe {result.settings.participant}",
                target=result.base_url,
                total=len(reads),
                unit="services",
            )
        )

    def checks(self, checks: list[Check]) -> None:
        self.result.checks += checks
        for check in checks:
            self.emit(CaseFinished(case=check_case(check), completed=self.answered))

    def service(self, service: ServiceResult) -> None:
        self.answered += 1
        self.emit(CaseFinished(case=service_case(service), completed=self.answered))

    def services(self, services: list[ServiceResult]) -> None:
        self.result.services = services
        for service in services:
            self.service(service)


async def run_probe_async(settings: ProbeSettings, emit: Emit = ignore) -> ProbeResult:
    """Run every check within ``settings.timeout`` seconds; never raises for a failed check.
    Emits the run's events (a case per check and service, then the report) to ``emit``.

    Raises ValueError for an unusable target and ``harness.contract.ContractError`` for an
    unusable contract folder: those are usage errors, not connectivity findings.
    """
    clock = time.monotonic()
    result = await _probe(settings, emit)
    result.finished_at = datetime.now(UTC)
    result.tested = _tested(settings, result)
    emit(RunFinished(report=result.to_report(), seconds=time.monotonic() - clock))
    return result


def _tested(settings: ProbeSettings, result: ProbeResult) -> str:
    """The target in words: a URL is called the sandbox only when it proved it is one (answered
    its control plane to the operator of ``pki_dir``), and is never asked when unreachable."""
    kind = target_kind(settings.target)
    if kind == "shared" and not result.unreachable and settings.pki_dir is not None:
        kind = judge_target(settings.target, result.base_url, settings.pki_dir, settings.ca)
    named_sandbox = settings.target.strip().lower() == "sandbox"
    return describe_target(result.base_url if named_sandbox else settings.target, kind)


async def _probe(settings: ProbeSettings, emit: Emit) -> ProbeResult:
    deadline = Deadline(settings.timeout)
    base_url = resolve_target(settings.target, settings.sandbox_url)
    reads = reads_for(settings.specs)
    parts = urlsplit(base_url)
    host, port = parts.hostname or "", parts.port or 443
    result = ProbeResult(settings=settings, base_url=base_url, notes=[READS_ONLY_NOTE])
    live = _Live(result, reads, emit)

    checks, material = run_local_checks(settings)
    live.checks(checks)
    if material is not None:
        result.identity = {"source": material.source, **summarize(material.cert)}

    dns, addresses = await resolve(host, port, deadline)
    live.checks([dns])
    if not addresses:
        live.checks(
            [
                _skipped("network.tcp", "TCP connect", "the host name did not resolve"),
                _skipped("tls.handshake", "TLS handshake", "the host name did not resolve"),
            ]
        )
        live.services(_blocked(reads, ServiceStatus.CONNECTION_FAILURE, "the host name did not resolve"))
        return result

    tcp = await connect(host, addresses[0], port, deadline)
    live.checks([tcp])
    if tcp.failed:
        live.checks([_skipped("tls.handshake", "TLS handshake", "no TCP connection")])
        timed_out = "time limit" in tcp.diagnosis
        status = ServiceStatus.TIMEOUT if timed_out else ServiceStatus.CONNECTION_FAILURE
        live.services(_blocked(reads, status, "no TCP connection"))
        return result

    outcome: TLSOutcome = await run_tls_check(
        material, settings.ca, host, addresses[0], port, f"{parts.path.rstrip('/')}/", deadline
    )
    _point_at_local_cause(outcome, checks)
    live.checks(outcome.checks)
    result.tls = outcome.facts
    if not outcome.ok or material is None:
        status = ServiceStatus.TIMEOUT if outcome.blame == "timeout" else ServiceStatus.TLS_FAILURE
        live.services(_blocked(reads, status, "the TLS connection failed (see the TLS checks)"))
        return result

    async with AsyncCRRClient(
        base_url,
        identity=client_identity(material),
        ca=settings.ca,
        timeout=deadline.remaining(),
        retries=0,  # a busy service is a finding here, not something to wait out
        max_connections=max(1, len(reads)),
    ) as client:
        result.services = await probe_services(
            client, reads, settings.participant, deadline.remaining(), on_result=live.service
        )
    return result


def _point_at_local_cause(outcome: TLSOutcome, local: list[Check]) -> None:
    """Some servers drop a refused client without a TLS alert; name the local finding that explains it."""
    if outcome.blame != "client_cert":
        return
    suspects = [
        c for c in local if c.status in (CheckStatus.FAIL, CheckStatus.WARN) and c.id != "local.file_mode"
    ]
    failed = next((c for c in outcome.checks if c.failed), None)
    if failed is not None and suspects:
        failed.diagnosis += "; the local checks found the likely reason: " + "; ".join(
            c.diagnosis for c in suspects
        )
        failed.fix = suspects[0].fix or failed.fix


def run_probe(settings: ProbeSettings, emit: Emit = ignore) -> ProbeResult:
    """Blocking wrapper for scripts and the CLI."""
    return asyncio.run(run_probe_async(settings, emit))
