"""Market status follows the simulated clock: PREP -> OPEN -> CLOSED -> POSTED (own sandbox)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.client import CRRClient
from harness.client.control import ControlPlane
from harness.sandbox.domain import plan
from tests.sandbox.sbutil import codes

MS = "/marketstatus/v1.0"
MARKET_KEYS = {"name", "marketType", "marketTerm", "dataPublishDate", "submissionWindow", "products"}


@pytest.fixture(scope="module")
def ecal(own_client: Callable[[str], CRRClient], operator: ControlPlane) -> CRRClient:
    operator.setup_plan()
    return own_client("ecal")


def status(ecal: CRRClient, market: str) -> str:
    r = ecal.get(f"{MS}/marketStatus", params={"participantName": "ECAL", "marketName": market})
    assert r.status == 200, r.text
    return r.json()


def names(ecal: CRRClient, op: str) -> list[str]:
    r = ecal.get(f"{MS}/{op}", params={"participantName": "ECAL"})
    assert r.status == 200, r.text
    return [m["name"] for m in r.json()]


def test_lifecycle_follows_the_clock(ecal: CRRClient, operator: ControlPlane):
    operator.setup_plan()
    assert status(ecal, plan.AUC_MN) == "PREP"
    operator.set_clock("2026-02-03T18:00:00Z")  # Tuesday 10:00 Pacific: both monthly windows open
    assert status(ecal, plan.AUC_MN) == "OPEN" and status(ecal, plan.ALLOC_MN) == "OPEN"
    operator.set_clock("2026-02-06T02:00:00Z")  # after Thursday 17:00 Pacific
    assert status(ecal, plan.AUC_MN) == "CLOSED"
    assert plan.AUC_MN in names(ecal, "activeAuctionMarkets")
    assert plan.AUC_MN not in names(ecal, "postedAuctionMarkets")
    cleared = operator.run_clearing(plan.AUC_MN)
    assert cleared["status"] == "POSTED"
    assert status(ecal, plan.AUC_MN) == "POSTED"
    assert plan.AUC_MN in names(ecal, "postedAuctionMarkets")
    assert plan.AUC_MN not in names(ecal, "activeAuctionMarkets")
    assert set(names(ecal, "activeAllocationMarkets")) == {plan.ALLOC_MN, plan.ALLOC_AN}
    assert names(ecal, "postedAllocationMarkets") == []


def test_clearing_an_open_market_is_refused(ecal: CRRClient, operator: ControlPlane):
    from harness.client import CRRServiceException

    operator.setup_plan()
    operator.open_window(plan.ALLOC_AN)
    assert status(ecal, plan.ALLOC_AN) == "OPEN"
    with pytest.raises(CRRServiceException):
        operator.run_clearing(plan.ALLOC_AN)
    operator.close_window(plan.ALLOC_AN)
    assert status(ecal, plan.ALLOC_AN) == "CLOSED"


def test_market_info_has_exactly_the_contract_fields(ecal: CRRClient, operator: ControlPlane):
    operator.setup_plan()
    r = ecal.get(f"{MS}/marketInfo", params={"participantName": "ECAL", "marketName": plan.ALLOC_AN})
    assert r.status == 200
    info = r.json()
    assert set(info) == MARKET_KEYS
    assert info["marketType"] == "ALLOCATION" and info["marketTerm"] == "ANNUAL"
    assert info["submissionWindow"] == {
        "openDate": "2026-02-09T17:00:00Z",
        "closeDate": "2026-02-12T01:00:00Z",
    }
    periods = sorted({p["period"]["name"] for p in info["products"]})
    assert periods == ["2026_S01", "2026_S02", "2026_S03", "2026_S04"]
    assert len(info["products"]) == 8 and {p["tou"] for p in info["products"]} == {"ON", "OFF"}
    q2 = next(p["period"] for p in info["products"] if p["period"]["name"] == "2026_S02")
    assert q2 == {"name": "2026_S02", "startDate": "2026-04-01T07:00:00Z", "endDate": "2026-07-01T06:59:59Z"}


def test_unknown_market_and_foreign_participant(ecal: CRRClient):
    for op in ("marketStatus", "marketInfo"):
        r = ecal.get(f"{MS}/{op}", params={"participantName": "ECAL", "marketName": "AUC_MN_1999_M01"})
        assert r.status == 400 and codes(r) == ["MKT0001"]
        r = ecal.get(f"{MS}/{op}", params={"participantName": "WCAL", "marketName": plan.AUC_MN})
        assert r.status == 403 and codes(r) == ["SEC0001"]
    for op in (
        "activeAllocationMarkets",
        "activeAuctionMarkets",
        "postedAllocationMarkets",
        "postedAuctionMarkets",
    ):
        r = ecal.get(f"{MS}/{op}", params={"participantName": "WCAL"})
        assert r.status == 403 and codes(r) == ["SEC0001"]
