"""The connectivity probe: can this participant's certificate reach every CRR service?

``run_probe(ProbeSettings(...))`` checks, in order, the local certificate, the network path,
the TLS handshake with the client certificate and one safe read per service, and says in
plain words what is wrong and how to fix it. ``ProbeResult.to_report()`` feeds the shared
JSON/JUnit/HTML report handlers.
"""

from harness.probe.model import (
    Check,
    CheckStatus,
    ProbeResult,
    ProbeSettings,
    ServiceResult,
    ServiceStatus,
)
from harness.probe.runner import run_probe, run_probe_async

__all__ = [
    "Check",
    "CheckStatus",
    "ProbeResult",
    "ProbeSettings",
    "ServiceResult",
    "ServiceStatus",
    "run_probe",
    "run_probe_async",
]
