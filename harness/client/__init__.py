"""The one CRR API client (mutual TLS over httpx), its identity/TLS setup and error types.

Everything in crrsim that talks to a CRR endpoint (probe, scenarios, fuzz, load, Market Sim)
goes through ``CRRClient`` / ``AsyncCRRClient`` so request ids, TLS settings, timeouts and
the GEN0003 retry policy are the same everywhere.
"""

from harness.client.client import (
    DEFAULT_TIMEOUT,
    AsyncCRRClient,
    CRRClient,
    CRRResponse,
    RetryPolicy,
)
from harness.client.errors import CRRServiceException, CRRTransportError, ErrorDetail
from harness.client.targets import resolve_target
from harness.client.tls import ClientIdentity, IdentityError, TLSSetupError, build_ssl_context

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncCRRClient",
    "CRRClient",
    "CRRResponse",
    "CRRServiceException",
    "CRRTransportError",
    "ClientIdentity",
    "ErrorDetail",
    "IdentityError",
    "RetryPolicy",
    "TLSSetupError",
    "build_ssl_context",
    "resolve_target",
]
