"""Errors the CRR API reports, and errors we hit before the API can report anything.

CAISO answers failures with a ``CRRServiceException`` body (``errorList`` of
``{errorCode, errorDescription, severity}``, ``creationTime``, ``serviceVersion``).
Real deployments also answer with things that are not that body: a gateway's HTML
login page (sometimes with status 200), an empty 502, plain text. Callers want one
exception type for "the service said no" whatever the body looked like, so parsing
here is tolerant and never raises while building the exception: odd bodies become a
``CRRServiceException`` carrying a synthetic error whose code starts with ``CRRSIM_``
and whose description says what actually came back.

Transport failures (TLS handshake, certificate verification, refused connection,
timeout) are a different thing: nothing answered. They raise ``CRRTransportError``
with a ``kind`` so the probe can report *which* layer failed.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Synthetic codes: never CAISO's, always prefixed so reports can tell them apart.
HTML_PAGE = "CRRSIM_HTML_PAGE"
NOT_JSON = "CRRSIM_NOT_JSON"
NO_ERROR_LIST = "CRRSIM_NO_ERROR_LIST"
REDIRECT = "CRRSIM_REDIRECT"
SYNTHETIC_CODES = frozenset({HTML_PAGE, NOT_JSON, NO_ERROR_LIST, REDIRECT})

_SNIPPET_CHARS = 120


@dataclass(frozen=True)
class ErrorDetail:
    code: str
    description: str
    severity: str = "ERROR"

    def __str__(self) -> str:
        return f"{self.code}: {self.description}" if self.description else self.code


class CRRServiceException(Exception):
    """The service (or something standing in front of it) answered with an error."""

    def __init__(
        self,
        status: int,
        errors: list[ErrorDetail] | None = None,
        creation_time: str | None = None,
        service_version: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.errors: list[ErrorDetail] = list(errors or [])
        self.creation_time = creation_time
        self.service_version = service_version
        self.request_id = request_id
        super().__init__(str(self))

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors]

    def has_code(self, code: str) -> bool:
        return code in self.codes

    def __str__(self) -> str:
        detail = "; ".join(str(e) for e in self.errors) or "no error details"
        tail = f" [caiso-request-id {self.request_id}]" if self.request_id else ""
        return f"HTTP {self.status} {detail}{tail}"

    def __repr__(self) -> str:
        return (
            f"CRRServiceException(status={self.status}, codes={self.codes}, request_id={self.request_id!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Shape used in reports: CAISO's field names, plus status and request id."""
        return {
            "status": self.status,
            "requestId": self.request_id,
            "creationTime": self.creation_time,
            "serviceVersion": self.service_version,
            "errorList": [
                {"errorCode": e.code, "errorDescription": e.description, "severity": e.severity}
                for e in self.errors
            ],
        }


class CRRTransportError(ConnectionError):
    """No HTTP answer at all. ``kind`` names the failing layer.

    kinds: ``tls_verify`` (we rejected the server's certificate), ``tls`` (handshake or
    alert, e.g. the server refused our certificate or TLS version), ``timeout``,
    ``connect`` (refused / unreachable), ``protocol`` (connection dropped mid-exchange).

    With TLS 1.3 a server checks the client certificate *after* the handshake completed,
    so a refused or missing client certificate shows up either as ``tls`` (the alert was
    read) or as ``protocol`` ("server disconnected"), depending on timing.
    """

    def __init__(self, kind: str, message: str, *, url: str = "", request_id: str | None = None) -> None:
        self.kind = kind
        self.url = url
        self.request_id = request_id
        super().__init__(message)

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg} [caiso-request-id {self.request_id}]" if self.request_id else msg


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_html(content_type: str | None) -> bool:
    return media_type(content_type) in ("text/html", "application/xhtml+xml")


def is_error(status: int, content_type: str | None) -> bool:
    """A non-2xx status, or an HTML page where an API answer was expected (FIELD-FACTS)."""
    return not 200 <= status < 300 or is_html(content_type)


def _snippet(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title:
        text = f"title {title.group(1).strip()!r}"
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET_CHARS else text[:_SNIPPET_CHARS] + "..."


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _error_details(items: Any) -> list[ErrorDetail]:
    details = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping):
            details.append(
                ErrorDetail(
                    code=str(item.get("errorCode") or "UNKNOWN"),
                    description=str(item.get("errorDescription") or ""),
                    severity=str(item.get("severity") or "ERROR"),
                )
            )
    return details


def parse_error(
    status: int,
    content_type: str | None,
    body: bytes,
    request_id: str | None = None,
    *,
    location: str | None = None,
) -> CRRServiceException:
    """Build the exception for an error answer; never raises on a malformed body."""
    what = f"{media_type(content_type) or 'no content type'}, {len(body)} bytes"
    if 300 <= status < 400:
        desc = f"redirected to {location or 'an unnamed location'} (a gateway or login page?)"
        return CRRServiceException(status, [ErrorDetail(REDIRECT, desc)], request_id=request_id)
    if is_html(content_type):
        desc = f"expected JSON but got an HTML page ({what}; {_snippet(body)}): a gateway or login page?"
        return CRRServiceException(status, [ErrorDetail(HTML_PAGE, desc)], request_id=request_id)
    try:
        data = json.loads(body) if body.strip() else None
    except ValueError:
        desc = f"error body is not JSON ({what}): {_snippet(body)}"
        return CRRServiceException(status, [ErrorDetail(NOT_JSON, desc)], request_id=request_id)
    if not isinstance(data, Mapping):
        data = {}
    errors = _error_details(data.get("errorList"))
    if not errors:
        desc = (
            f"no errorList in the body ({what}): {_snippet(body)}" if body.strip() else f"empty body ({what})"
        )
        errors = [ErrorDetail(NO_ERROR_LIST, desc)]
    return CRRServiceException(
        status,
        errors,
        creation_time=_str_or_none(data.get("creationTime")),
        service_version=_str_or_none(data.get("serviceVersion")),
        request_id=request_id,
    )


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def classify_transport_error(exc: BaseException) -> str:
    """Name the layer an httpx transport exception came from (see CRRTransportError)."""
    import httpx  # local: keeps this module importable without httpx for pure parsing

    chain = _chain(exc)
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        return "tls_verify"
    text = " ".join(str(e) for e in chain)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "tls_verify"
    if any(isinstance(e, ssl.SSLError) for e in chain) or re.search(r"\bSSL\b|\btlsv1\d* alert\b", text):
        return "tls"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return "protocol"
