"""Where the contract itself cannot hold: each known deviation written once, keyed by the
operation (service and operationId) and the check, with the reason the report gives. A failure
of that check there is reported as a known deviation, not a finding."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from harness.contract.wire import first_huge_number

_MARKET = (
    "CAISO's nomination PortfolioIdentifier requires 'market', a property it does not define, so "
    "schema-valid data may lack the marketName the operation needs (our contract requires marketName)"
)
_REQUEST_ID = (
    "app_status documents only 200 and no error code, yet a request without a valid caiso-request-id "
    "is refused with 400 (SER0017) like every other operation"
)
# (service, operationId) -> check -> why
KNOWN: dict[tuple[str, str], dict[str, str]] = {
    ("nomination", "portfolioSubmission"): {"crr_positive_data_acceptance": _MARKET},
    ("nomination", "portfolioRetraction"): {"crr_positive_data_acceptance": _MARKET},
    ("app_status", "get-status"): {"status_code_conformance": _REQUEST_ID, "crr_error_body": _REQUEST_ID},
}

OPTIONAL_BODY = (
    "the contracts leave every request body optional and record lists without minItems, yet an "
    "operation that needs records refuses a request without a body or with an empty list (SER0017), "
    "as CAISO does"
)
HEAD_LIMIT = 8192  # bytes of request line and headers a gateway (and the sandbox) reads before refusing
OVERSIZED_HEAD = (
    f"schemathesis sometimes generates a request line and headers above {HEAD_LIMIT} bytes; a "
    "gateway refuses those (400 or 431) before it looks at the method or the operation, so checks "
    "expecting an operation's answer (e.g. 405 for an unsupported method) cannot hold for them"
)
UNBOUNDED_NUMBERS = (
    "CAISO's files set no maximum on a number, yet the CRR system takes magnitudes up to 10^15 and "
    "refuses larger ones as malformed (SER0030), so schema-valid data with a larger number is refused"
)


def known_deviation(
    check: str, service: str, operation_id: str, request: Any, status: int | None
) -> str | None:
    """Why a failure of ``check`` is a known deviation rather than a finding, or None: the table
    above by operation, or a refused oversized head (any operation, any check)."""
    known = KNOWN.get((service, operation_id), {}).get(check)
    if known is None and request is not None and status in (400, 431) and _head_size(request) > HEAD_LIMIT:
        return OVERSIZED_HEAD
    if (
        known is None
        and request is not None
        and status == 400
        and first_huge_number(_body(request)) is not None
    ):
        return UNBOUNDED_NUMBERS
    return known


def every_reason() -> list[str]:
    """Each reason once, for the report's list of what the contract cannot hold."""
    return [
        OPTIONAL_BODY,
        *sorted({why for checks in KNOWN.values() for why in checks.values()}),
        OVERSIZED_HEAD,
        UNBOUNDED_NUMBERS,
    ]


def _head_size(request: Any) -> int:
    """Bytes of the request line and headers as sent (schemathesis records header values as lists)."""
    target = urlsplit(request.uri)
    line = f"{request.method} {target.path}{'?' + target.query if target.query else ''} HTTP/1.1\r\n"
    values = [
        (name, value)
        for name, given in (request.headers or {}).items()
        for value in (given if isinstance(given, list) else [given])
    ]
    return len(line.encode()) + sum(len(f"{name}: {value}\r\n".encode()) for name, value in values)


def _body(request: Any) -> Any:
    """The JSON body schemathesis recorded (bytes), parsed; None when there is none or it is not JSON."""
    raw = getattr(request, "body", None)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None
