"""``crrsim fuzz --replay ID``: send a recorded failure again, exactly, and judge it again.

A replay that only shows the answer proves nothing (it used to add the missing request id,
get a 200 and exit 0 whatever the check had found). Here the request goes out as recorded:
the same method, URL (moved to the target given now), headers and body bytes; a header the
recorded request lacked stays absent, and only a well-formed ``caiso-request-id`` is renewed,
so CAISO support can find exactly this call. Then the check that failed runs again on the
answer, through schemathesis' own ``Case.validate_response`` with the operation of the
contract, and the verdict is "still fails" or "no longer fails".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import schemathesis
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NOT_SET
from schemathesis.core.failures import Failure, FailureGroup

from harness.client import CRRClient, CRRTransportError
from harness.contract import Catalogue
from harness.contract.wire import REQUEST_ID_HEADER, is_request_id
from harness.fuzz import checks
from harness.fuzz.bundles import Bundle

# hop-by-hop and framing headers the HTTP client sets itself for the bytes it sends
_FRAMING = frozenset(
    {"content-length", "host", "connection", "accept-encoding", "user-agent", "transfer-encoding"}
)
# Checks that judge a case by how it was generated (which header the coverage phase left out,
# whether its data was positive) or by the run's oracles read nothing of that from a request
# rebuilt from the bundle and would pass it silently; their verdict reads off the answer
# instead: (status, error codes) -> still fails.
_BY_ANSWER: dict[str, Callable[[int, list[str]], bool]] = {
    "transport": lambda status, codes: False,  # an answer came back at all
    "crr_broken_rule_refused": lambda status, codes: 200 <= status < 300,  # the broken upload still accepted
    "crr_positive_data_acceptance": lambda status, codes: (
        400 <= status < 500 and bool(set(codes) & checks.SHAPE_CODES)
    ),
    "missing_required_header": lambda status, codes: not 400 <= status < 500,  # still served without it
    "negative_data_rejection": lambda status, codes: (
        not 400 <= status < 500
    ),  # contract-breaking data accepted
    "unsupported_method": lambda status, codes: status != 405,
}


@dataclass(frozen=True)
class Replayed:
    still_fails: bool | None  # None: the check cannot be judged on one request (a stateful check)
    status: int | None  # None: no answer
    request_id: str
    said: str  # the check's message now, or what came back

    @property
    def verdict(self) -> str:
        if self.still_fails is None:
            return "cannot judge on one request (re-run the fuzz with the bundle's --seed)"
        return "still fails" if self.still_fails else "no longer fails"


def exact_headers(recorded: dict[str, Any]) -> dict[str, str | None]:
    """The recorded headers as the client must send them: the client's own defaults switched off
    (None), each recorded header as it was, a well-formed caiso-request-id renewed."""
    out: dict[str, str | None] = {REQUEST_ID_HEADER: None, "Accept": None, "Content-Type": None}
    for name, value in recorded.items():
        if name.lower() in _FRAMING:
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        if name.lower() == REQUEST_ID_HEADER and is_request_id(text):
            text = str(uuid.uuid4())
        out = {k: v for k, v in out.items() if k.lower() != name.lower()}
        out[name] = text
    return out


def replay(bundle: Bundle, client: CRRClient, catalogue: Catalogue, url: str) -> Replayed:
    """Send ``bundle``'s request to ``url`` (its recorded URL, moved to the target given now) with
    ``client``, and run its failed check again on the answer."""
    request = bundle.data["request"]
    body = request["body"].encode() if isinstance(request["body"], str) else None
    headers = exact_headers(request["headers"])
    check = str(bundle.data["check"])
    try:
        answer = client.request(request["method"], url, content=body, headers=headers)
    except CRRTransportError as exc:
        return Replayed(check == "transport" or None, None, "", f"no answer: {exc}")
    request_id = answer.request_id or ""
    if check in _BY_ANSWER:
        codes = [code for code, _ in checks.errors_in(answer.body)]
        return Replayed(_BY_ANSWER[check](answer.status, codes), answer.status, request_id, answer.text[:300])
    # function checks only: class-based ones (schemathesis' run checks) judge a whole run
    found = [
        c
        for c in (CHECKS.get_by_names([check]) if check in CHECKS.get_all_names() else [])
        if not isinstance(c, type)
    ]
    service = catalogue.services.get(next(iter(bundle.data.get("contract") or {}), ""))
    if not found or service is None:
        return Replayed(None, answer.status, request_id, answer.text[:300])
    schema = schemathesis.openapi.from_dict(service.spec, config=SchemathesisConfig())
    schema.config.checks.update(max_response_time=float(bundle.data.get("max_response_time") or 10.0))
    operation = schema.find_operation_by_label(str(bundle.data["operation"]))
    if operation is None:
        return Replayed(None, answer.status, request_id, answer.text[:300])
    sent = {k: v for k, v in headers.items() if v is not None}
    case = operation.Case(
        query=dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)) or None,
        headers=sent or None,
        body=_body(body),
        media_type=sent.get("Content-Type"),
    )
    prepared = requests.Request(request["method"], url, headers=sent, data=body).prepare()
    response = schemathesis.Response(
        answer.status,
        {k: [v] for k, v in answer.headers.items()},
        answer.body,
        prepared,
        answer.elapsed_s,
        True,
    )
    try:
        case.validate_response(response, checks=found)
    except (Failure, FailureGroup) as failed:
        failures = list(failed.exceptions) if isinstance(failed, FailureGroup) else [failed]
        said = "; ".join(" ".join(f"{f.title}: {f.message}".split())[:300] for f in failures)
        return Replayed(True, answer.status, request_id, said)
    return Replayed(False, answer.status, request_id, answer.text[:300])


def _body(raw: bytes | None) -> Any:
    if raw is None:
        return NOT_SET
    try:
        return json.loads(raw)
    except ValueError:
        return raw
