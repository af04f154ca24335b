"""Checks that ask the target again: check objects with the run's state (``FuzzRun``), built by
schemathesis once per engine run from the project config (its class-based check model, each
``after_response`` under the instance's own lock), and the two hooks every call passes.

* ``crr_created_reads_back``: a portfolio the target acknowledged creating reads back (with the
  participant's own certificate) holding the records sent, each field unchanged.
* ``crr_broken_rule_refused``: an upload that breaks one business rule on purpose is refused.
* ``crr_owner_must_be_named``: a submission or retraction naming the portfolio instead of its
  owner as participantName is refused.
* ``crr_other_participant_refused``: the same call with another participant's certificate is
  refused with SEC0001.

A check class's name is its check name in schemathesis' registry, in reports and in support
bundles, so the classes are named as the function checks are.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure

from harness.contract.wire import REQUEST_ID_HEADER
from harness.fuzz.checks.answers import UNKNOWN_NAME_CODES, business_answer, crr_errors, errors_in
from harness.fuzz.checks.state import (
    ORACLE_CALLS_PER_OPERATION,
    READBACKS_PER_OPERATION,
    UNBROKEN_PER_RULE,
    FuzzRun,
    run_of,
)


def records(body: Any, keys: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
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


class _RunCheck:
    """A check with the run's state; without a run (schemathesis used on its own) it checks nothing."""

    def __init__(self, run: FuzzRun | None = None) -> None:
        self.run = run


@schemathesis.check
class crr_created_reads_back(_RunCheck):  # named as a check: its name is the class name
    """What a target acknowledged is what it keeps: the portfolio just created reads back with
    every record sent, field for field."""

    def after_response(self, ctx: Any, response: Any, case: Any) -> bool | None:
        run = self.run
        body = case.body if isinstance(case.body, dict) else None
        if run is None or run.own is None or body is None or not 200 <= response.status_code < 300:
            return None
        target = run.readback_gets.get(case.operation.label)
        if target is None or not run.take_turn(
            run.readback_sent, case.operation.label, READBACKS_PER_OPERATION
        ):
            return None
        path, lists = target
        params = {k: body.get(k) for k in ("participantName", "marketName", "portfolioName")}
        answer = run.own.request("GET", path, params=params)
        sent = records(body, lists)
        try:
            read = records(answer.json()) if answer.ok else None
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


@schemathesis.check
class crr_broken_rule_refused(_RunCheck):  # named as a check: its name is the class name
    """An upload that breaks one business rule on purpose is schema-valid, so only the target's
    business checks can refuse it: it must be, with a business code. A few refusals per rule
    are re-sent without the break (the participant's own certificate): a different answer
    shows the refusal was about the rule; the same one is counted, not failed (the upload
    may have been refused for another reason first, a closed window say)."""

    def after_response(self, ctx: Any, response: Any, case: Any) -> bool | None:
        run = self.run
        broken = run.broken.pop(str(case.id), None) if run is not None else None
        if run is None or broken is None:
            return None
        tally = run.broken_tally.setdefault(broken.rule, [0, 0, 0])
        errors = crr_errors(response)
        codes = [code for code, _ in errors]
        # refused for the rule, or before it for a name that matches nothing (an allocation upload
        # sent to an auction market): either way not accepted, and the re-send below tells which
        refused = business_answer(response.status_code, errors) or any(c in UNKNOWN_NAME_CODES for c in codes)
        if 400 <= response.status_code < 500 and refused:
            if run.own is not None and run.take_turn(
                run.readback_sent, f"unbroken {broken.rule}", UNBROKEN_PER_RULE
            ):
                answer = run.own.request(
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
class crr_owner_must_be_named(_RunCheck):  # named as a check: its name is the class name
    """A submission or retraction must name the portfolio's owner: the same body with the
    portfolio's name as participantName (what one public CAISO client sends) is refused."""

    def after_response(self, ctx: Any, response: Any, case: Any) -> bool | None:
        run = self.run
        body = case.body if isinstance(case.body, dict) else None
        if (
            run is None
            or run.own is None
            or case.operation.label not in run.owner_labels
            or body is None
            or not isinstance(body.get("portfolioName"), str)
            or not 200 <= response.status_code < 300
        ):
            return None
        if not run.take_turn(run.readback_sent, case.operation.label, READBACKS_PER_OPERATION):
            return None
        wrong = {**body, "participantName": body["portfolioName"]}
        answer = run.own.request(case.method.upper(), case.operation.path, json=wrong)
        if 400 <= answer.status < 500 and answer.error() is not None:
            return None
        raise Failure(
            operation=case.operation.label,
            title="A portfolio was acted on without naming its owner",
            message=f"The same request with participantName = portfolioName ({body['portfolioName']!r}) answered "
            f"HTTP {answer.status} (caiso-request-id {answer.request_id}); it must be refused.",
        )


@schemathesis.check
class crr_other_participant_refused(_RunCheck):  # named as a check: its name is the class name
    """The same request, acting for the same SC ID but with another participant's certificate,
    must be refused with SEC0001: one participant never reads another's data, nor creates,
    submits, retracts or deletes a portfolio in its name. Writes are re-sent only where the
    run may write at all (the sandbox, or --allow-writes inside the run's own namespace)."""

    def after_response(self, ctx: Any, response: Any, case: Any) -> bool | None:
        run = self.run
        label = case.operation.label
        if (
            run is None
            or run.oracle is None
            or label not in run.oracle_labels
            or not 200 <= response.status_code < 300
        ):
            return None
        if not run.take_turn(run.oracle_sent, label, ORACLE_CALLS_PER_OPERATION):
            return None
        client = run.oracle
        sent = case.as_transport_kwargs(base_url=client.base_url)
        headers = {k: v for k, v in (sent.get("headers") or {}).items() if k.lower() != REQUEST_ID_HEADER}
        body = sent.get("data")
        other = client.request(
            sent["method"],
            sent["url"],
            params=sent.get("params"),
            headers=headers,
            json=sent.get("json"),
            content=body.encode() if isinstance(body, str) else body,
        )
        refusal = other.error()
        if other.status != 403 or refusal is None or "SEC0001" not in refusal.codes:
            raise Failure(
                operation=label,
                title="Another participant's certificate was not refused",
                message=f"The same request with the certificate of another participant answered HTTP {other.status}"
                f" (caiso-request-id {other.request_id}); it must be refused with SEC0001.",
            )
        return None


STATEFUL = tuple(
    c.__name__
    for c in (
        crr_created_reads_back,
        crr_broken_rule_refused,
        crr_owner_must_be_named,
        crr_other_participant_refused,
    )
)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Global (schemathesis has no per-schema ``before_call``): acts only on a crrsim run's cases."""
    run = run_of(case, STATEFUL)
    if run is not None:
        run.before_call(case)


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    run = run_of(case, STATEFUL)
    if run is not None:
        run.after_call(case, response)
