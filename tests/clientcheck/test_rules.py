"""Each expectation of the scorecard can fail, and passes only for the behaviour it names: the
rules over hand-written records of what a sandbox saw (plain values in, a verdict out), for the
cases the reference clients do not reach. The schedule and the script's errors too."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.clientcheck import rules
from harness.clientcheck.rules import Context
from harness.config.clientscript import ClientScript, ScriptError, Seen, load_script, parse_script
from harness.sandbox.web.faults import ID_OFFSET, enlarge_ids
from harness.sandbox.web.judging import FaultSchedule, restore_ids

SCRIPT = load_script()
CTX = Context(script=SCRIPT, sc_ids=frozenset({"ECAL"}), expected_cert="aa", host="localhost")


def seen(t: float, path: str = "/crr/status", **kw: Any) -> Seen:
    base: dict[str, Any] = dict(
        t0=t,
        t1=t + 0.01,
        conn=1,
        tls="TLSv1.3",
        sni="localhost",
        cert_cn="ecal",
        cert_sha256="aa",
        method="GET",
        path=path,
        query={},
        request_id=str(uuid.uuid4()),
        content_type=None,
        accept="application/json",
        body_sha256=None,
        records_sha256=None,
        participant="ECAL",
        portfolio=None,
        market=None,
        service="app_status",
        operation="get-status",
        kind="read",
        inflight=1,
        status=200,
        error_code=None,
        error=None,
    )
    return Seen(**{**base, **kw})


def create(t: float, name: str, **kw: Any) -> Seen:
    return seen(
        t,
        "/crr/auction/v1.0/portfolioCreation",
        method="POST",
        kind="write",
        service="auction",
        operation="portfolioCreation",
        content_type="application/json",
        body_sha256=f"body-{name}",
        records_sha256="same-records",
        portfolio=name,
        **kw,
    )


def test_too_many_requests_in_flight_fail_concurrency() -> None:
    calm = [seen(i, inflight=1 + i % 3) for i in range(6)]
    assert rules.concurrency(calm, CTX).outcome == "PASS"
    crowd = [*calm, seen(9, inflight=7)]
    verdict = rules.concurrency(crowd, CTX)
    assert verdict.outcome == "FAIL" and "7 requests in flight" in verdict.summary


def test_a_write_without_a_json_content_type_fails() -> None:
    good = create(1, "A")
    assert rules.content_type([good], CTX).outcome == "PASS"
    assert rules.content_type([replace(good, content_type="text/plain")], CTX).outcome == "FAIL"
    assert (
        rules.content_type([replace(good, body_sha256=None)], CTX).summary == "no body"
    )  # the Java client's empty POST


def test_a_certificate_other_than_the_expected_one_fails() -> None:
    assert rules.certificate([seen(1)], CTX).outcome == "PASS"
    verdict = rules.certificate([seen(1, cert_sha256="bb", cert_cn="wcal")], CTX)
    assert verdict.outcome == "FAIL" and "CN=wcal" in verdict.summary


def test_a_recreated_portfolio_under_a_new_name_is_a_duplicate() -> None:
    cut = create(1, "March", status=None, fault="reset-after-commit")
    again = create(2, "March (2)")  # the same records, another name, accepted
    verdict = rules.reset_after_commit([cut, again], CTX, "write")
    assert verdict.outcome == "FAIL" and "duplicate" in verdict.summary
    readback = seen(
        2,
        "/crr/auction/v1.0/portfolioStatus",
        service="auction",
        operation="getPortfolioStatus",
        portfolio="March",
    )
    assert rules.reset_after_commit([cut, readback], CTX, "write").outcome == "PASS"
    once = create(2, "March", status=400, error_code="POR0101")
    handled = rules.reset_after_commit([cut, once, seen(3)], CTX, "write")
    assert handled.outcome == "PASS" and "POR0101" in handled.summary
    assert rules.reset_after_commit([cut], CTX, "write").summary == "stopped after the lost answer"


def test_a_drifted_answer_then_silence_fails_unless_the_flow_was_done() -> None:
    drifted = seen(1, fault="unknown-field")
    stopped = rules.drift([drifted], CTX, "unknown-field", "read")
    assert stopped.outcome == "FAIL" and "flow not done" in stopped.summary
    quiet = replace(CTX, script=replace(SCRIPT, flow=()))
    last = rules.drift([drifted], quiet, "unknown-field", "read")
    assert last.outcome == "NOT EXERCISED" and "last call" in last.summary
    assert (
        rules.drift([drifted, seen(1.5)], CTX, "unknown-field", "read").outcome == "FAIL"
    )  # same call, at once
    assert (
        rules.drift([drifted, seen(3)], CTX, "unknown-field", "read").outcome == "PASS"
    )  # later: a poll, not a re-read


def test_a_500_retried_too_often_or_faster_and_faster_fails() -> None:
    hit = seen(0, status=500, fault="server-error")
    patient = [hit, seen(1.0), seen(3.0)]
    assert rules.server_error(patient, CTX, "read").outcome == "PASS"
    storm = [hit, *(seen(1.0 + i, status=500) for i in range(5))]
    assert "5 times" in rules.server_error(storm, CTX, "read").summary
    shrinking = [hit, seen(2.0, status=500), seen(2.6, status=500)]
    assert "shrank" in rules.server_error(shrinking, CTX, "read").summary
    assert (
        rules.server_error([hit, seen(5.0, path="/crr/other")], CTX, "read").summary == "did not re-send it"
    )


def test_a_refusal_resent_in_a_loop_fails_but_the_same_read_later_in_the_day_does_not() -> None:
    refused = seen(0, status=400, error_code="POR0100")
    later = [refused, seen(5.0, path="/crr/elsewhere"), seen(9.0, status=400, error_code="POR0100")]
    assert rules.no_storm_after_4xx(later, CTX).outcome == "PASS"
    loop = [refused, *(seen(0.1 * i, status=400, error_code="POR0100") for i in range(1, 4))]
    verdict = rules.no_storm_after_4xx(loop, CTX)
    assert verdict.outcome == "FAIL" and "3 time(s)" in verdict.summary and len(verdict.evidence) == 1


def test_polling_is_judged_per_minute_per_call() -> None:
    status = {
        "path": "/crr/marketstatus/v1.0/marketStatus",
        "service": "market_status",
        "operation": "getMarketStatus",
    }
    every_5s = [seen(5.0 * i, **status) for i in range(20)]
    assert rules.polling(every_5s, CTX).outcome == "PASS"
    every_2s = [seen(2.0 * i, **status) for i in range(20)]
    assert rules.polling(every_2s, CTX).outcome == "FAIL"


def test_a_request_id_sent_twice_for_the_same_request_is_a_retry_not_a_reuse() -> None:
    rid = str(uuid.uuid4())
    assert rules.request_ids([seen(0, request_id=rid), seen(1, request_id=rid)], CTX).outcome == "PASS"
    other = seen(2, "/crr/other", request_id=rid)
    assert rules.request_ids([seen(0, request_id=rid), other], CTX).outcome == "FAIL"
    assert "not a UUID" in rules.request_ids([seen(0, request_id="42")], CTX).summary


def test_the_schedule_is_the_same_for_a_seed_and_waits_for_what_a_fault_fits() -> None:
    def fired(script: ClientScript) -> list[tuple[int, str]]:
        schedule, out = FaultSchedule(script), []
        for n in range(1, 15):
            op = "portfolioCreation" if n in (5, 9) else "portfolioSubmission"
            fault = schedule.due("write", op)
            if fault is not None:
                schedule.fired("write", fault)
                out.append((n, fault.fault))
        return out

    once = fired(SCRIPT)
    assert once == fired(SCRIPT)  # deterministic
    names = dict((f, n) for n, f in once)
    assert names["reset-after-commit"] == 5  # waits for the first creation, and goes first when it comes
    assert all(b - a >= SCRIPT.schedule.every for (a, _), (b, _) in zip(once, once[1:], strict=False))
    other = fired(replace(SCRIPT, schedule=replace(SCRIPT.schedule, seed=SCRIPT.schedule.seed + 1)))
    assert sorted(f for _, f in other) == sorted(f for _, f in once)


def test_enlarged_ids_sent_back_are_the_stored_ids_again() -> None:
    answer: dict[str, Any] = {"bids": [{"bidId": 3}, {"bidId": 4}], "name": "x"}
    made = enlarge_ids(answer)
    assert made == {ID_OFFSET + 3, ID_OFFSET + 4} and answer["bids"][0]["bidId"] > 2**31 - 1
    sent = {"crrId": ID_OFFSET + 3, "nested": [{"bidId": str(ID_OFFSET + 4)}], "otherId": ID_OFFSET + 99}
    restore_ids(sent, made)
    assert sent == {"crrId": 3, "nested": [{"bidId": "4"}], "otherId": ID_OFFSET + 99}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"day": "week3.monday"}, "week1|week2"),
        ({"colour": "red"}, "unknown keys ['colour']"),
        ({"schedule": {"faults": [{"fault": "gremlins"}]}}, "fault must be one of"),
        ({"schedule": {"faults": [{"fault": "slow", "kinds": ["write"]}]}}, "give kinds: [read]"),
        ({"schedule": {"every": 0}}, "at least 1"),
        ({"limits": {"min_tls": "TLSv1.1"}}, "TLSv1.2 or TLSv1.3"),
        ({"flow": [{"step": "x"}]}, "needs step, service and operation"),
    ],
)
def test_a_script_that_cannot_work_is_said_in_a_sentence(data: dict[str, Any], words: str) -> None:
    with pytest.raises(ScriptError, match=None) as err:
        parse_script(data, "my-day.yaml")
    assert words in str(err.value) and "my-day.yaml" in str(err.value)


def test_a_missing_script_names_the_shipped_one(tmp_path: Path) -> None:
    with pytest.raises(ScriptError) as err:
        load_script(tmp_path / "nope.yaml")
    assert "typical-day.yaml" in str(err.value) and "cp " in str(err.value)


def test_only_a_500_the_schedule_did_not_plan_is_the_sandboxs_own_error() -> None:
    planned = seen(0, status=500, fault="server-error")
    assert rules.own_errors([planned, seen(1)]) == []
    unplanned = seen(2, status=500, error_code="SER0028")
    (error,) = rules.own_errors([planned, unplanned])
    assert error.outcome == "ERROR" and "1 request(s)" in error.summary and error.evidence
