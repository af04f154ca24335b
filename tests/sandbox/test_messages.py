"""CRR Messages over mTLS: operator and calendar notices, date ranges, private isolation, codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.sbutil import codes, getter

BASE = "/messages/v1.0"
EARLY = "2025-01-01T00:00:00Z"
get = getter(BASE)  # the plan (conftest ``ready``) freezes the clock at 2026-02-02T08:00:00Z


def test_operator_public_message_is_seen_by_everyone(ready: Any, own_client: Callable[[str], Any]) -> None:
    ready.publish_message("Market Sim kickoff at 10 am (see deck)")
    for name, sc in (("ecal", "ECAL"), ("wcal", "WCAL")):
        r = get(own_client(name), "public", sc, fromDate=EARLY)
        assert r.status == 200, r.text
        texts = [m["message"] for m in r.json()]
        assert "Market Sim kickoff at 10 am (see deck)" in texts
        for m in r.json():
            assert set(m) <= {"sentTime", "sender", "message", "attachmentName", "attachment"}


def test_calendar_notices_follow_the_windows(ready: Any, own_client: Callable[[str], Any]) -> None:
    texts = [m["message"] for m in get(own_client("ecal"), "public", "ECAL", fromDate=EARLY).json()]
    # seeded by plan.setup: an open load window and a posted load-migration market
    assert any("load submission window HIST_LOAD_2026_M03 is open" in t for t in texts)
    assert any("Load migration results of LOAD_MIGRATION_2026_M02 are posted" in t for t in texts)
    assert not any("AUC_MN_2026_M03 is open" in t for t in texts)  # opens Tuesday, clock is Monday


def test_private_messages_are_only_for_their_participant(
    ready: Any, own_client: Callable[[str], Any]
) -> None:
    ready.publish_message("ECAL only notice", to="ECAL")
    mine = get(own_client("ecal"), "private", "ECAL", fromDate=EARLY)
    assert mine.status == 200 and "ECAL only notice" in [m["message"] for m in mine.json()]
    theirs = get(own_client("wcal"), "private", "WCAL", fromDate=EARLY)
    assert theirs.status != 200 or "ECAL only notice" not in [m["message"] for m in theirs.json()]
    spy = get(own_client("wcal"), "private", "ECAL", fromDate=EARLY)
    assert spy.status == 403 and codes(spy) == ["SEC0001"]


def test_date_range_filters_by_sent_time(ready: Any, own_client: Callable[[str], Any]) -> None:
    ready.publish_message("Range check notice")
    c = own_client("ecal")
    inside = get(c, "public", "ECAL", fromDate="2026-02-02T07:59:00Z", toDate="2026-02-02T08:01:00Z")
    assert inside.status == 200 and "Range check notice" in [m["message"] for m in inside.json()]
    sent = [m["sentTime"] for m in inside.json()]
    assert sent == sorted(sent) and all("2026-02-02T07:59:00Z" <= s <= "2026-02-02T08:01:00Z" for s in sent)


def test_bad_range_is_ser0006_and_empty_range_ser0007(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    backwards = get(c, "public", "ECAL", fromDate="2026-02-02T00:00:00Z", toDate="2026-02-01T00:00:00Z")
    assert backwards.status == 400 and codes(backwards) == ["SER0006"]
    empty = get(c, "public", "ECAL", fromDate="2020-01-01T00:00:00Z", toDate="2020-01-02T00:00:00Z")
    assert empty.status == 400 and codes(empty) == ["SER0007"]
    missing = c.request("GET", f"{BASE}/public", params={"participantName": "ECAL"})
    assert missing.status == 400


def test_operator_text_outside_the_contract_pattern_is_refused(ready: Any) -> None:
    from harness.client.errors import CRRServiceException

    with pytest.raises(CRRServiceException):
        ready.publish_message("bad: colon, comma")
