"""Known deviations are recognised by what was sent, never by luck: a schema-valid body with a
number beyond what the CRR system takes (CAISO's files set no maximum) is a deviation, the same
refusal of an ordinary body is a finding."""

from __future__ import annotations

import json

from schemathesis.engine.recorder import Request

from harness.fuzz.checks.deviations import UNBOUNDED_NUMBERS, every_reason, known_deviation

CHECK = "crr_positive_data_acceptance"


def sent(body: object) -> Request:
    raw = json.dumps(body).encode()
    url = "https://127.0.0.1:1/crr/auction/v1.0/portfolioSubmission"
    return Request(method="POST", uri=url, body=raw, body_size=len(raw), headers={})


def test_a_number_beyond_ten_to_the_fifteen_is_the_unbounded_numbers_deviation() -> None:
    huge = sent({"portfolioName": "p", "bids": [{"bidCurve": [{"mw": 7.65791e278}]}]})
    assert known_deviation(CHECK, "auction", "portfolioSubmission", huge, 400) == UNBOUNDED_NUMBERS
    assert UNBOUNDED_NUMBERS in every_reason()


def test_the_same_refusal_of_ordinary_numbers_is_a_finding() -> None:
    plain = sent({"portfolioName": "p", "bids": [{"bidCurve": [{"mw": 10, "price": 5.0}]}], "flag": True})
    assert known_deviation(CHECK, "auction", "portfolioSubmission", plain, 400) is None
    huge_but_accepted = sent({"mw": 1e16})
    assert known_deviation(CHECK, "auction", "portfolioSubmission", huge_but_accepted, 200) is None
