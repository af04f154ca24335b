"""What an answer of the CRR API must be, read off that answer alone: stateless schemathesis
checks, one module-level function each (schemathesis' check model: ``(ctx, response, case)``,
``None`` or a raised ``Failure``), and the reading of CRRServiceException bodies they share.

* ``crr_positive_data_acceptance`` replaces schemathesis' ``positive_data_acceptance``: CAISO
  refuses schema-valid data for business reasons with a 400 carrying a business code of that
  service's contract (market unknown, window closed, portfolio not found); that is the data
  shape being accepted. A 400 with SER0017/SER0030 (malformed, schema violation) for data the
  contract says is valid is a failure.
* ``crr_error_body``: every 4xx/5xx answer is a CRRServiceException whose codes the service's
  contract lists (read from the contract the case was generated from).
* ``crr_no_html_success``: a 2xx with an HTML body is a gateway's page, not the CRR service.
* ``crr_no_foreign_data``: a list answered for one SC ID holds only that SC ID's records.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure

from harness.contract.catalogue import error_codes_of

# codes that say the request itself is malformed or breaks the schema (not a business answer)
SHAPE_CODES = frozenset({"SER0017", "SER0030", "SER0022"})
# codes that say the name in the request matches nothing, so the operation's rules never ran
UNKNOWN_NAME_CODES = frozenset({"SER0029", "MKT0001"})
OWNER_FIELDS = ("participantName", "assetOwner")
# descriptions that point at the schema (a parameter or the body), not at a business rule
SCHEMA_PATHS = ("body", "query", "header", "path")


def crr_errors(response: Any) -> list[tuple[str, str]]:
    """(errorCode, errorDescription) of a CRRServiceException body; [] when it is not one."""
    return errors_in(response.content)


def errors_in(content: bytes | None) -> list[tuple[str, str]]:
    """(errorCode, errorDescription) of a CRRServiceException body; [] when it is not one."""
    try:
        body = json.loads(content or b"null")
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(body, dict) or not isinstance(body.get("errorList"), list):
        return []
    return [
        (str(e.get("errorCode")), str(e.get("errorDescription") or ""))
        for e in body["errorList"]
        if isinstance(e, dict) and isinstance(e.get("errorCode"), str)
    ]


def crr_codes(response: Any) -> list[str] | None:
    """The error codes of a CRRServiceException body, or None when the body is not one."""
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("errorList"), list):
        return None
    codes = [e.get("errorCode") for e in body["errorList"] if isinstance(e, dict)]
    return [c for c in codes if isinstance(c, str)] if codes else None


def business_answer(status: int, errors: list[tuple[str, str]]) -> bool:
    """Whether an answer came from the operation's business logic: a 2xx, or a 4xx refusal naming
    a business rule. Not one: the caller's identity (SEC*), an unknown name (SER0029, and MKT0001
    "no CRR market by that name": with no market behind it no rule of the operation ran), or the
    request's shape (SER0017, SER0022, SER0030 about a parameter or the body; SER0030 about a
    record, "Offer 2: ..." or "newBids[0]: ...", is a record rule and counts)."""
    if 200 <= status < 300:
        return True
    if not 400 <= status < 500:
        return False
    return any(
        not (
            code.startswith("SEC")
            or code in UNKNOWN_NAME_CODES
            or code in ("SER0017", "SER0022")
            or (code == "SER0030" and text.startswith(SCHEMA_PATHS))
        )
        for code, text in errors
    )


def absent_body(case: Any) -> bool:
    from schemathesis.core import NOT_SET

    return case.body is NOT_SET or case.body is None or case.body == []


def media_type(response: Any) -> str:
    given = response.headers.get("content-type", "")
    return str(given[0] if isinstance(given, list) else given).split(";")[0].strip().lower()


def positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return bool(meta is not None and meta.generation.mode.is_positive)


_LISTED: dict[int, tuple[Any, frozenset[str]]] = {}
_LISTED_LOCK = threading.Lock()


def listed_codes(case: Any) -> frozenset[str]:
    """The error codes the contract the case came from lists (its service's error table), read
    once per contract document: the check needs no table filled in by a runner."""
    document = case.operation.schema.raw_schema
    with _LISTED_LOCK:
        known = _LISTED.get(id(document))
        if known is None or known[0] is not document:
            if len(_LISTED) > 64:
                _LISTED.clear()
            known = _LISTED[id(document)] = (document, frozenset(error_codes_of(document)))
    return known[1]


@schemathesis.check
def crr_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    if not positive(case) or not 400 <= response.status_code < 500:
        return None
    if response.status_code in (401, 403, 404, 405, 409):
        return None  # identity, provisioning and "no such resource" are not about the data's shape
    refused = [(code, text) for code, text in crr_errors(response) if code in SHAPE_CODES]
    if not refused:
        return None  # a business code of the service: the shape was accepted
    if absent_body(case):
        return None  # deviations.OPTIONAL_BODY: a known deviation, listed once in the report
    schema_level = [(c, t) for c, t in refused if c == "SER0017" or t.startswith(SCHEMA_PATHS)]
    if schema_level:
        code, text = schema_level[0]
        raise Failure(
            operation=case.operation.label,
            title="Schema-valid request refused as malformed",
            message=f"The contract says this request is valid, but it was refused with {code} "
            f"(HTTP {response.status_code}): {text[:200]}",
        )
    return None


@schemathesis.check
def crr_error_body(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code < 400:
        return None
    codes = crr_codes(response)
    if codes is None:
        raise Failure(
            operation=case.operation.label,
            title="Error answer is not a CRRServiceException",
            message=f"HTTP {response.status_code} came back without a CRRServiceException body "
            "(errorList of errorCode/errorDescription/severity).",
        )
    listed = listed_codes(case)
    unknown = [c for c in codes if c not in listed]
    if unknown:
        raise Failure(
            operation=case.operation.label,
            title="Error code not in the service's contract",
            message=f"The answer carries {', '.join(unknown)}, which this service's contract does not list.",
        )
    return None


@schemathesis.check
def crr_no_html_success(ctx: Any, response: Any, case: Any) -> bool | None:
    if 200 <= response.status_code < 300 and media_type(response) == "text/html":
        raise Failure(
            operation=case.operation.label,
            title="HTML page answered with success",
            message=f"HTTP {response.status_code} with an HTML body: a gateway or login page answered, "
            "not the CRR service.",
        )
    return None


@schemathesis.check
def crr_no_foreign_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """A list answered for one SC ID holds only that SC ID's records."""
    if not 200 <= response.status_code < 300:
        return None
    wanted = (case.query or {}).get("participantName") if isinstance(case.query, dict) else None
    if not isinstance(wanted, str):
        return None
    try:
        items = json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(items, list):
        return None
    for item in items:
        if not isinstance(item, dict):
            continue
        owner = next((item[k] for k in OWNER_FIELDS if isinstance(item.get(k), str)), None)
        if owner is not None and owner != wanted:
            raise Failure(
                operation=case.operation.label,
                title="Another participant's record in the answer",
                message=f"Asked as {wanted}, the answer lists a record of {owner}.",
            )
    return None
