"""CAISO-aware checks and hooks, plugged into schemathesis through its extension points.

Registered once per process when a fuzz run starts (``register``): schemathesis keeps checks
and hooks in global registries, and a run enables or disables checks by name.

* ``crr_positive_data_acceptance`` replaces schemathesis' ``positive_data_acceptance``: CAISO
  refuses schema-valid data for business reasons with a 400 carrying a business code of that
  service's contract (market unknown, window closed, portfolio not found); that is the data
  shape being accepted. A 400 with SER0017/SER0030 (malformed, schema violation) for data the
  contract says is valid is a failure.
* ``crr_error_body``: every 4xx/5xx answer is a CRRServiceException whose codes the service's
  contract lists.
* ``crr_no_html_success``: a 2xx with an HTML body is a gateway's page, not the CRR service.
* ``crr_created_reads_back``: a portfolio the target acknowledged creating reads back (with the
  participant's own certificate) holding the records sent, each field unchanged.
* ``before_call``: a fresh ``caiso-request-id`` for every call whose id is well formed (the
  examples and coverage phases reuse one), leaving deliberately malformed ones alone.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.core.failures import Failure

from harness.fuzz.bodies import Break, confine, make_valid

REQUEST_ID = "caiso-request-id"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# codes that say the request itself is malformed or breaks the schema (not a business answer)
SHAPE_CODES = frozenset({"SER0017", "SER0030", "SER0022"})
# codes that say the name in the request matches nothing, so the operation's rules never ran
UNKNOWN_NAME_CODES = frozenset({"SER0029", "MKT0001"})
CHECK_NAMES = (
    "crr_positive_data_acceptance",
    "crr_error_body",
    "crr_no_html_success",
    "crr_created_reads_back",
    "crr_broken_rule_refused",
    "crr_owner_must_be_named",
    "crr_other_participant_refused",
    "crr_no_foreign_data",
)
OWNER_FIELDS = ("participantName", "assetOwner")
ORACLE_CALLS_PER_OPERATION = (
    3  # the second-identity oracle re-sends at most this many calls of each operation
)

# Where the contract itself cannot hold, listed once with the reason: (check, operationId or
# operation label) -> why. A failure of that check there is reported as a known deviation.
_MARKET = (
    "CAISO's nomination PortfolioIdentifier requires 'market', a property it does not define, so "
    "schema-valid data may lack the marketName the operation needs (our contract requires marketName)"
)
KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {
    ("crr_positive_data_acceptance", "POST /nomination/v1.0/portfolioSubmission"): _MARKET,
    ("crr_positive_data_acceptance", "POST /nomination/v1.0/portfolioRetraction"): _MARKET,
    ("status_code_conformance", "get-status"): "app_status documents only 200, yet a request without a valid "
    "caiso-request-id is refused with 400 like every other operation",
    ("status_code_conformance", "getStatus"): "app_status documents only 200, yet a request without a valid "
    "caiso-request-id is refused with 400 like every other operation",
    (
        "crr_error_body",
        "get-status",
    ): "app_status lists no error codes, yet refuses a missing request id with SER0017",
    (
        "crr_error_body",
        "getStatus",
    ): "app_status lists no error codes, yet refuses a missing request id with SER0017",
}

HEAD_LIMIT = 8192  # bytes of request line and headers a gateway (and the sandbox) reads before refusing
OVERSIZED_HEAD = (
    f"schemathesis sometimes generates a request line and headers above {HEAD_LIMIT} bytes; a "
    "gateway refuses those (400 or 431) before it looks at the method or the operation, so checks "
    "expecting an operation's answer (e.g. 405 for an unsupported method) cannot hold for them"
)


def is_request_id(text: str) -> bool:
    """Whether ``text`` is a well-formed caiso-request-id (a UUID)."""
    return bool(_UUID.match(text))


def known_deviation(
    check: str, operation_id: str, label: str, request: Any, status: int | None
) -> str | None:
    """Why a failure of ``check`` is a known deviation rather than a finding, or None: the table
    above by operation, or a refused oversized head (any operation, any check)."""
    known = KNOWN_DEVIATIONS.get((check, operation_id)) or KNOWN_DEVIATIONS.get((check, label))
    if known is None and request is not None and status in (400, 431) and _head_size(request) > HEAD_LIMIT:
        return OVERSIZED_HEAD
    return known


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


# the run's live values (harness.fuzz.live), read by the hook that makes big bodies valid
LIVE: dict[str, Any] = {"values": None, "confined": ()}

# the second identity's client (another participant's certificate) and the read operations
# that act for an SC ID, for the isolation oracle; None/empty when the run has no second identity
ORACLE: dict[str, Any] = {"client": None, "labels": frozenset(), "sent": Counter()}

# the run's limits: a request budget and a stop at the first server error (off the sandbox);
# the current engine stream is stopped through its own stop event when one is reached
LIMITS: dict[str, Any] = {
    "budget": None,
    "sent": 0,
    "stop_on_5xx": False,
    "stream": None,
    "stopped": "",
    "timeouts_in_row": 0,
    "stop_after_scenario": "",
}


# case id -> the one business rule its upload breaks on purpose (harness.fuzz.bodies); the
# check pops each entry, so what is left at the end was never answered
BROKEN: dict[str, Break] = {}
# rule -> [refused because of the break, refused but also without it, accepted] over the run
BROKEN_TALLY: dict[str, list[int]] = {}
UNBROKEN_PER_RULE = 5  # re-sends without the break, per rule, that show a refusal was about it

# the participant's own client for two oracles: per creation label, the path of the same service's
# portfolio read and the creation's record lists (read-back); the submit/retract labels (owner
# check); ``sent`` counts the re-sends per label
READBACK: dict[str, Any] = {"client": None, "gets": {}, "owner_labels": frozenset(), "sent": Counter()}
READBACKS_PER_OPERATION = 5


def _take_turn(sent: Counter[str], label: str, limit: int) -> bool:
    """Whether an oracle may re-send a call of ``label`` once more; counts it when it may."""
    if sent[label] >= limit:
        return False
    sent[label] += 1
    return True


def _records(body: Any, keys: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """The record objects of a portfolio body: the objects of its top-level lists named ``keys``
    (the creation's record lists), or of every top-level list (a read-back, whose names differ)."""
    if not isinstance(body, dict):
        return []
    return [
        r
        for k, v in body.items()
        if isinstance(v, list) and (keys is None or k in keys)
        for r in v
        if isinstance(r, dict)
    ]


def unmatched_records(sent: list[dict[str, Any]], read: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sent records no read-back record carries unchanged: a read-back record matches a sent one
    when they share at least one field and agree on every field they share (the read-back adds
    its record id; a target may drop fields the contract does not define)."""
    left = list(read)
    missing = []
    for record in sent:
        for i, candidate in enumerate(left):
            shared = record.keys() & candidate.keys()
            if shared and all(record[k] == candidate[k] for k in shared):
                del left[i]
                break
        else:
            missing.append(record)
    return missing


# differential mode (harness.fuzz.compare): the reference every read is sent to again, or None
COMPARE: dict[str, Any] = {"comparison": None}


class BudgetSpent(Exception):
    """The run's request budget is spent: the case is not sent."""


def stop(reason: str) -> None:
    """End the run at the engine's next step; the first reason is the one the report gives."""
    if not LIMITS["stopped"]:
        LIMITS["stopped"] = reason
    stream = LIMITS["stream"]
    if stream is not None:
        stream.stop()


# operation label ("GET /auction/v1.0/portfolioList") -> error codes its service's contract lists
ERROR_CODES: dict[str, frozenset[str]] = {}
_registered = False


OPTIONAL_BODY = (
    "the contracts leave every request body optional and record lists without minItems, yet an "
    "operation that needs records refuses a request without a body or with an empty list (SER0017), "
    "as CAISO does"
)
# descriptions that point at the schema (a parameter or the body), not at a business rule
_SCHEMA_PATHS = ("body", "query", "header", "path")


def _absent_body(case: Any) -> bool:
    from schemathesis.core import NOT_SET

    return case.body is NOT_SET or case.body is None or case.body == []


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
            or (code == "SER0030" and text.startswith(_SCHEMA_PATHS))
        )
        for code, text in errors
    )


def _media(response: Any) -> str:
    return (
        str(
            response.headers.get("content-type", [""])[0]
            if isinstance(response.headers.get("content-type"), list)
            else response.headers.get("content-type", "")
        )
        .split(";")[0]
        .strip()
        .lower()
    )


def _positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return bool(meta is not None and meta.generation.mode.is_positive)


def register() -> None:
    """Register the checks and the hook with schemathesis (once per process)."""
    global _registered
    if _registered:
        return
    _registered = True

    @schemathesis.check
    def crr_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
        if not _positive(case) or not 400 <= response.status_code < 500:
            return None
        if response.status_code in (401, 403, 404, 405, 409):
            return None  # identity, provisioning and "no such resource" are not about the data's shape
        refused = [(code, text) for code, text in crr_errors(response) if code in SHAPE_CODES]
        if not refused:
            return None  # a business code of the service: the shape was accepted
        if _absent_body(case):
            return None  # OPTIONAL_BODY: a known deviation, listed once in the report
        schema_level = [(c, t) for c, t in refused if c == "SER0017" or t.startswith(_SCHEMA_PATHS)]
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
        listed = ERROR_CODES.get(case.operation.label)
        unknown = [c for c in codes if listed is not None and c not in listed]
        if unknown:
            raise Failure(
                operation=case.operation.label,
                title="Error code not in the service's contract",
                message=f"The answer carries {', '.join(unknown)}, which this service's contract does not list.",
            )
        return None

    @schemathesis.check
    def crr_no_html_success(ctx: Any, response: Any, case: Any) -> bool | None:
        if 200 <= response.status_code < 300 and _media(response) == "text/html":
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

    @schemathesis.check
    def crr_other_participant_refused(ctx: Any, response: Any, case: Any) -> bool | None:
        """The same request, acting for the same SC ID but with another participant's certificate,
        must be refused with SEC0001: one participant never reads another's data, nor creates,
        submits, retracts or deletes a portfolio in its name. Writes are re-sent only where the
        run may write at all (the sandbox, or --allow-writes inside the run's own namespace)."""
        client = ORACLE["client"]
        label = case.operation.label
        if client is None or label not in ORACLE["labels"] or not 200 <= response.status_code < 300:
            return None
        if not _take_turn(ORACLE["sent"], label, ORACLE_CALLS_PER_OPERATION):
            return None
        sent = case.as_transport_kwargs(base_url=client.base_url)
        headers = {k: v for k, v in (sent.get("headers") or {}).items() if k.lower() != REQUEST_ID}
        body = sent.get("data")
        other = client.request(
            sent["method"],
            sent["url"],
            params=sent.get("params"),
            headers=headers,
            json=sent.get("json"),
            content=body.encode() if isinstance(body, str) else body,
        )
        if other.status != 403 or "SEC0001" not in (other.error().codes if other.error() else []):
            raise Failure(
                operation=label,
                title="Another participant's certificate was not refused",
                message=f"The same request with the certificate of another participant answered HTTP {other.status}"
                f" (caiso-request-id {other.request_id}); it must be refused with SEC0001.",
            )
        return None

    @schemathesis.check
    def crr_broken_rule_refused(ctx: Any, response: Any, case: Any) -> bool | None:
        """An upload that breaks one business rule on purpose is schema-valid, so only the target's
        business checks can refuse it: it must be, with a business code. A few refusals per rule
        are re-sent without the break (the participant's own certificate): a different answer
        shows the refusal was about the rule; the same one is counted, not failed (the upload
        may have been refused for another reason first, a closed window say)."""
        broken = BROKEN.pop(str(case.id), None)
        if broken is None:
            return None
        tally = BROKEN_TALLY.setdefault(broken.rule, [0, 0, 0])
        errors = crr_errors(response)
        codes = [code for code, _ in errors]
        # refused for the rule, or before it for a name that matches nothing (an allocation upload
        # sent to an auction market): either way not accepted, and the re-send below tells which
        refused = business_answer(response.status_code, errors) or any(c in UNKNOWN_NAME_CODES for c in codes)
        if 400 <= response.status_code < 500 and refused:
            client = READBACK["client"]
            if client is not None and _take_turn(
                READBACK["sent"], f"unbroken {broken.rule}", UNBROKEN_PER_RULE
            ):
                answer = client.request(
                    case.method.upper(),
                    case.operation.path,
                    params=case.query or None,
                    json=broken.unbroken(case.body),
                )
                same = answer.status == response.status_code and set(errors_in(answer.body)) >= set(errors)
                tally[1 if same else 0] += 1
            else:
                tally[0] += 1
            return None
        tally[2] += 1
        raise Failure(
            operation=case.operation.label,
            title="An upload breaking a business rule was not refused",
            message=f"One record breaks a business rule ({broken.rule}); the upload answered HTTP "
            f"{response.status_code}{' with ' + ', '.join(codes) if codes else ''} instead of a refusal with a "
            "business code.",
        )

    @schemathesis.check
    def crr_owner_must_be_named(ctx: Any, response: Any, case: Any) -> bool | None:
        """A submission or retraction must name the portfolio's owner: the same body with the
        portfolio's name as participantName (what one public CAISO client sends) is refused."""
        client = READBACK["client"]
        body = case.body if isinstance(case.body, dict) else None
        if (
            client is None
            or case.operation.label not in READBACK["owner_labels"]
            or body is None
            or not isinstance(body.get("portfolioName"), str)
            or not 200 <= response.status_code < 300
        ):
            return None
        if not _take_turn(READBACK["sent"], case.operation.label, READBACKS_PER_OPERATION):
            return None
        wrong = {**body, "participantName": body["portfolioName"]}
        answer = client.request(case.method.upper(), case.operation.path, json=wrong)
        if 400 <= answer.status < 500 and answer.error() is not None:
            return None
        raise Failure(
            operation=case.operation.label,
            title="A portfolio was acted on without naming its owner",
            message=f"The same request with participantName = portfolioName ({body['portfolioName']!r}) answered "
            f"HTTP {answer.status} (caiso-request-id {answer.request_id}); it must be refused.",
        )

    @schemathesis.check
    def crr_created_reads_back(ctx: Any, response: Any, case: Any) -> bool | None:
        """What a target acknowledged is what it keeps: the portfolio just created reads back with
        every record sent, field for field."""
        client = READBACK["client"]
        target = READBACK["gets"].get(case.operation.label)
        body = case.body if isinstance(case.body, dict) else None
        if client is None or target is None or body is None or not 200 <= response.status_code < 300:
            return None
        path, lists = target
        if not _take_turn(READBACK["sent"], case.operation.label, READBACKS_PER_OPERATION):
            return None
        params = {k: body.get(k) for k in ("participantName", "marketName", "portfolioName")}
        answer = client.request("GET", path, params=params)
        sent = _records(body, lists)
        try:
            read = _records(answer.json()) if answer.ok else None
        except ValueError:
            read = None
        if read is None:
            raise Failure(
                operation=case.operation.label,
                title="An acknowledged portfolio does not read back",
                message=f"The creation of {body.get('portfolioName')!r} answered HTTP {response.status_code}, but "
                f"reading it back answered HTTP {answer.status} (caiso-request-id {answer.request_id}).",
            )
        missing = unmatched_records(sent, read)
        if missing or len(read) != len(sent):
            raise Failure(
                operation=case.operation.label,
                title="An acknowledged portfolio reads back changed",
                message=f"{len(sent)} records were sent and acknowledged; {len(read)} read back "
                f"(caiso-request-id {answer.request_id}), {len(missing)} of the sent ones not unchanged, "
                f"e.g. {json.dumps(missing[0])[:300] if missing else '(count differs)'}.",
            )
        return None

    @schemathesis.hook
    def after_call(context: Any, case: Any, response: Any) -> None:
        comparison = COMPARE["comparison"]
        if comparison is not None and case.method.upper() == "GET":
            comparison.compare(case, response)
        if LIMITS["stop_on_5xx"] and response.status_code >= 500 and not LIMITS["stop_after_scenario"]:
            # not now: the engine would drop the scenario under way, and with it the very check
            # results that make this server error a failure; the runner stops once it is recorded
            LIMITS["stop_after_scenario"] = (
                f"the first server error (HTTP {response.status_code} from "
                f"{case.operation.label}) stopped the run"
            )

    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        budget = LIMITS["budget"]
        if budget is not None:
            if LIMITS["sent"] >= budget:
                stop(f"the request budget of {budget} was spent")
                raise BudgetSpent(f"request budget of {budget} spent")
            LIMITS["sent"] += 1
        if LIVE["values"] is not None:
            LIVE["values"].bind(case)
            broken = make_valid(case, LIVE["values"])
            if broken is not None:
                BROKEN[str(case.id)] = broken
        if LIVE["confined"]:
            confine(case, LIVE["confined"])
        headers = case.headers if case.headers is not None else None
        if headers is None:
            return
        for name in list(headers):
            if name.lower() == REQUEST_ID and isinstance(headers[name], str) and _UUID.match(headers[name]):
                headers[name] = str(uuid.uuid4())
