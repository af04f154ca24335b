"""Turning results and CRRErrors into HTTP responses with the contract's exact shapes.

Error messages come from the loaded contract's ``x-crr-errors`` templates (``{0}``, ``{1}``
placeholders); contracts without them (CAISO's own files) get our generic sentences below, so
the sandbox never echoes another party's prose.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from harness.contract import Service
from harness.contract.wire import JSON_MEDIA_TYPE, REQUEST_ID_HEADER
from harness.sandbox.domain.clock import utcnow
from harness.sandbox.errors import CRRError
from harness.sandbox.jsoncodec import dumps
from harness.sandbox.timefmt import iso

MAX_DESCRIPTION = 1000  # ErrorDetail.errorDescription maxLength
MAX_ERRORS = 50  # a 500-bid portfolio with every bid wrong still gets a readable answer

# Our own wording, used when the contract carries no template for a code.
GENERIC_MESSAGES: dict[str, str] = {
    "SEC0001": "The certificate is not provisioned to act for market participant {0}.",
    "SEC0002": "The certificate is not authorised for this operation.",
    "SER0001": "The sandbox could not process the request; report it with the request id.",
    "SER0017": "The request is not valid: {0}",
    "SER0022": "Portfolio name {0} may only hold letters, digits, spaces, '_', '-' and '.'.",
    "SER0028": "The sandbox hit an internal error; the request id identifies it in the log.",
    "SER0029": "No such resource: {0}",
    "SER0030": "{0}",
    "MKT0001": "Market {0} is not known to the system.",
    "MKT0004": "The submission window of market {0} is not open.",
    "SER0005": "Market {0} is not of the expected type or term.",
    "GEN0003": "The system is busy; retry shortly.",
}
FALLBACK_MESSAGE = "Request rejected with code {code}: {args}"


def fill(template: str, args: Iterable[object]) -> str:
    """Replace ``{0}``, ``{1}``... by the arguments; unused placeholders are dropped."""
    text = template
    values = list(args)
    for i, value in enumerate(values):
        text = text.replace("{" + str(i) + "}", str(value))
    for i in range(len(values), 10):
        text = text.replace("{" + str(i) + "}", "")
    return text.strip()


def error_templates(service: Service | None) -> dict[str, tuple[int | None, str]]:
    """code -> (status, message template) from the service's ``x-crr-errors``."""
    if service is None:
        return {}
    schemas = (service.spec.get("components") or {}).get("schemas") or {}
    listed = (schemas.get("CRRServiceException") or {}).get("x-crr-errors") or []
    out: dict[str, tuple[int | None, str]] = {}
    for entry in listed:
        if isinstance(entry, dict) and "code" in entry:
            status = entry.get("status")
            out[str(entry["code"])] = (int(status) if status else None, str(entry.get("message") or ""))
    return out


def describe(err: CRRError, templates: dict[str, tuple[int | None, str]]) -> str:
    if err.detail:
        text = err.detail
    else:
        template = (templates.get(err.code) or (None, ""))[1] or GENERIC_MESSAGES.get(err.code)
        if template:
            text = fill(template, err.args_)
        else:
            text = FALLBACK_MESSAGE.format(code=err.code, args=", ".join(map(str, err.args_)) or "-")
    return _text(text)[:MAX_DESCRIPTION]


def _text(text: str) -> str:
    """A description safe to send whatever client bytes it quotes: aiohttp hands non-UTF-8 header
    bytes over as lone surrogates, which no JSON encoder can write (a Content-Type with a 0x80
    byte answered 500), and control characters would garble a client's log line."""
    if text.isascii() and text.isprintable():
        return text
    clean = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in clean)


def service_version(path: str) -> str:
    """``/auction/v1.0/portfolio`` -> ``V1.0`` (``V1.0`` for unversioned paths like /status)."""
    for part in path.split("/"):
        if len(part) > 1 and part[0] == "v" and part[1].isdigit():
            return "V" + part[1:][:9]
    return "V1.0"


def error_body(err: CRRError, templates: dict[str, tuple[int | None, str]], version: str) -> dict[str, Any]:
    errors = [err, *err.more][:MAX_ERRORS]
    return {
        "errorList": [
            {"errorCode": e.code[:15], "errorDescription": describe(e, templates), "severity": e.severity}
            for e in errors
        ],
        "creationTime": iso(utcnow()),
        "serviceVersion": version[:10],
    }


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    hdrs = dict(headers) if headers else {}
    hdrs["Content-Type"] = JSON_MEDIA_TYPE
    return web.Response(body=dumps(body), status=status, headers=hdrs)


def error_response(
    err: CRRError,
    templates: dict[str, tuple[int | None, str]] | None = None,
    version: str = "V1.0",
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    templates = templates or {}
    status = err.status
    hdrs = dict(headers or {})
    if request_id:
        hdrs[REQUEST_ID_HEADER] = request_id
    return json_response(error_body(err, templates, version), status=status, headers=hdrs)
