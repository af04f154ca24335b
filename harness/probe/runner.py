"""The probe's order of steps: local certificate, network, TLS, services.

Each step runs only when the one before makes it meaningful: calling ten services after the
TLS handshake failed would print ten copies of the same failure and bury the real one. The
skipped services are still listed, marked "not attempted", with the class of the blocking
failure, so the service matrix is always complete.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import urlsplit

from harness.client import AsyncCRRClient, resolve_target
from harness.contract import Operation
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


async def run_probe_async(settings: ProbeSettings) -> ProbeResult:
    """Run every check within ``settings.timeout`` seconds; never raises for a failed check.

    Raises ValueError for an unusable target and ``harness.contract.ContractError`` for an
    unusable contract folder: those are usage errors, not connectivity findings.
    """
    deadline = Deadline(settings.timeout)
    base_url = resolve_target(settings.target, settings.sandbox_url)
    reads = reads_for(settings.specs)
    parts = urlsplit(base_url)
    host, port = parts.hostname or "", parts.port or 443
    result = ProbeResult(settings=settings, base_url=base_url, notes=[READS_ONLY_NOTE])

    checks, material = run_local_checks(settings)
    result.checks += checks
    if material is not None:
        result.identity = {"source": material.source, **summarize(material.cert)}

    dns, addresses = await resolve(host, port, deadline)
    result.checks.append(dns)
    if not addresses:
        result.checks += [
            _skipped("network.tcp", "TCP connect", "the host name did not resolve"),
            _skipped("tls.handshake", "TLS handshake", "the host name did not resolve"),
        ]
        result.services = _blocked(reads, ServiceStatus.CONNECTION_FAILURE, "the host name did not resolve")
        return _finish(result)

    tcp = await connect(host, addresses[0], port, deadline)
    result.checks.append(tcp)
    if tcp.failed:
        result.checks.append(_skipped("tls.handshake", "TLS handshake", "no TCP connection"))
        timed_out = "time limit" in tcp.diagnosis
        status = ServiceStatus.TIMEOUT if timed_out else ServiceStatus.CONNECTION_FAILURE
        result.services = _blocked(reads, status, "no TCP connection")
        return _finish(result)

    outcome: TLSOutcome = await run_tls_check(
        material, settings.ca, host, addresses[0], port, f"{parts.path.rstrip('/')}/", deadline
    )
    _point_at_local_cause(outcome, checks)
    result.checks += outcome.checks
    result.tls = outcome.facts
    if not outcome.ok or material is None:
        status = ServiceStatus.TIMEOUT if outcome.blame == "timeout" else ServiceStatus.TLS_FAILURE
        result.services = _blocked(reads, status, "the TLS connection failed (see the TLS checks)")
        return _finish(result)

    async with AsyncCRRClient(
        base_url,
        identity=client_identity(material),
        ca=settings.ca,
        timeout=deadline.remaining(),
        retries=0,  # a busy service is a finding here, not something to wait out
        max_connections=max(1, len(reads)),
    ) as client:
        result.services = await probe_services(client, reads, settings.participant, deadline.remaining())
    return _finish(result)


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


def _finish(result: ProbeResult) -> ProbeResult:
    result.finished_at = datetime.now(UTC)
    return result


def run_probe(settings: ProbeSettings) -> ProbeResult:
    """Blocking wrapper for scripts and the CLI."""
    return asyncio.run(run_probe_async(settings))
