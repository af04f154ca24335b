"""The nomination service end to end over mTLS: lifecycle, caps, tier windows, error codes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from tests.sandbox.sbutil import error, ok, portfolio_act

ALLOC = "ALLOC_MN_2026_M03_T1"
ALLOC_AN = "ALLOC_AN_2026_T1"  # tier window not open in week 1
BASE = "/nomination/v1.0"


@pytest.fixture(scope="module")
def ready(operator: Any) -> None:
    operator.setup_plan()
    operator.open_window(ALLOC)


@pytest.fixture(scope="module")
def ecal(ready: None, own_client: Callable[[str], Any]) -> Any:
    return own_client("ecal")


def nom(
    mw: float = 10,
    owner: str = "ECAL",
    sink: str = "DLAP_PGAE-APND",
    tou: str = "ON",
    crr_type: str = "LSE",
    **kw: Any,
) -> dict[str, Any]:
    return {
        "assetOwner": owner,
        "source": "TH_NP15_GEN-APND",
        "sink": sink,
        "hedgeType": "OBL",
        "tou": tou,
        "period": "2026_M03",
        "crrType": crr_type,
        "mw": mw,
        **kw,
    }


def create(
    client: Any,
    name: str,
    noms: Iterable[dict[str, Any]] = (),
    participant: str = "ECAL",
    market: str = ALLOC,
) -> Any:
    return client.request(
        "POST",
        f"{BASE}/portfolioCreation",
        json={
            "portfolioName": name,
            "marketName": market,
            "participantName": participant,
            "newNominations": list(noms),
        },
    )


def act(client: Any, what: str, name: str, participant: str = "ECAL", market: str = ALLOC) -> Any:
    return portfolio_act(client, BASE, what, name, participant, market)


def test_lifecycle(ecal: Any) -> None:
    assert ok(create(ecal, "Tier one", [nom(), nom(tou="OFF", description="my ref #1")]))["status"] == "VALID"
    got = ok(act(ecal, "get", "Tier one"))
    assert [n["mw"] for n in got["nominations"]] == [10, 10]
    assert got["nominations"][1]["description"] == "my ref #1"
    assert all(n["nominationId"] >= 1 for n in got["nominations"])
    listed = ok(
        ecal.request("GET", f"{BASE}/portfolioList", params={"marketName": ALLOC, "participantName": "ECAL"})
    )
    assert "Tier one" in [p["portfolioName"] for p in listed]
    assert ok(act(ecal, "submit", "Tier one"))["status"] == "SUBMITTED"
    error(act(ecal, "submit", "Tier one"), "POR0051")
    error(act(ecal, "delete", "Tier one"), "POR0010")
    assert ok(act(ecal, "retract", "Tier one"))["status"] == "VALID"
    error(act(ecal, "retract", "Tier one"), "POR0038")
    assert ok(act(ecal, "delete", "Tier one"))["status"] == "DELETED"


def test_empty_and_duplicate(ecal: Any) -> None:
    assert ok(create(ecal, "Nom empty"))["status"] == "NEW"
    error(create(ecal, "Nom empty"), "POR0101")
    error(act(ecal, "submit", "Nom empty"), "POR0013")
    error(act(ecal, "retract", "Nom empty"), "POR0012")


def test_invalid_upload_is_not_saved(ecal: Any) -> None:
    errs = error(create(ecal, "Nom bad", [nom(), nom(sink="NOWHERE"), nom(owner="WCAL")]), "SER0015")
    assert [e["errorCode"] for e in errs[1:]] == ["SER0030", "SER0030"]
    assert errs[1]["errorDescription"].startswith("newNominations[1]")
    assert errs[2]["errorDescription"].startswith("newNominations[2]")
    error(act(ecal, "status", "Nom bad"), "POR0100")


def test_caps_bound_the_submitted_total(ecal: Any) -> None:
    """Default LSE cap: 100 MW per sink/TOU/period. 60 + 60 goes over on the second submission."""
    ok(create(ecal, "Cap A", [nom(60, sink="DLAP_SCE-APND")]))
    ok(create(ecal, "Cap B", [nom(60, sink="DLAP_SCE-APND")]))
    ok(act(ecal, "submit", "Cap A"))
    errs = error(act(ecal, "submit", "Cap B"), "SER0030")
    assert "120 MW" in errs[0]["errorDescription"] and "cap of 100 MW" in errs[0]["errorDescription"]
    status = ok(act(ecal, "status", "Cap B"))
    assert status["status"] == "INVALID" and "DLAP_SCE-APND" in status["errorMessage"]
    error(act(ecal, "submit", "Cap B"), "NOM0101")
    error(act(ecal, "retract", "Cap B"), "POR0011")
    ok(act(ecal, "retract", "Cap A"))


def test_no_cap_means_nothing_can_be_nominated(ecal: Any) -> None:
    ok(create(ecal, "Obaa", [nom(1, crr_type="OBAALSE")]))  # only SCAL has OBAALSE caps
    errs = error(act(ecal, "submit", "Obaa"), "SER0030")
    assert "cap of 0 MW" in errs[0]["errorDescription"]


def test_tier_window_not_open(ecal: Any) -> None:
    error(create(ecal, "Annual early", [nom(period="2026_S01")], market=ALLOC_AN), "MKT0004")


def test_unknown_market_and_auction_market(ecal: Any) -> None:
    error(create(ecal, "x", [nom()], market="ALLOC_NOPE"), "MKT0001")
    auction = error(create(ecal, "x", [nom()], market="AUC_MN_2026_M03"), "MKT0001")
    assert (
        "is an auction market, not an allocation market" in auction[0]["errorDescription"]
    )  # issue 19 item 10
    for what in ("status", "get", "submit", "retract", "delete"):
        error(act(ecal, what, "x", market="ALLOC_NOPE"), "MKT0001")
        error(act(ecal, what, "Never made"), "POR0100")


def test_isolation_between_participants(ecal: Any, own_client: Callable[[str], Any]) -> None:
    wcal = own_client("wcal")
    ok(create(ecal, "Nom private", [nom()]))
    error(create(ecal, "For WCAL", [nom(owner="WCAL")], participant="WCAL"), "SEC0001", 403)
    listed = ok(
        wcal.request("GET", f"{BASE}/portfolioList", params={"marketName": ALLOC, "participantName": "WCAL"})
    )
    assert "Nom private" not in [p["portfolioName"] for p in listed]
    error(
        wcal.request("GET", f"{BASE}/portfolioList", params={"marketName": ALLOC, "participantName": "ECAL"}),
        "SEC0001",
        403,
    )
    for what in ("status", "get", "submit", "retract", "delete"):
        error(act(wcal, what, "Nom private", participant="WCAL"), "POR0100")
        error(act(wcal, what, "Nom private", participant="ECAL"), "SEC0001", 403)


def test_read_only_and_unprovisioned(ready: None, own_client: Callable[[str], Any]) -> None:
    error(create(own_client("ecal-readonly"), "RO", [nom()]), "SEC0002", 403)
    # YCAL's certificate is not provisioned for the nomination service at all
    error(create(own_client("ycal-partial"), "Y", [nom(owner="YCAL")], participant="YCAL"), "SEC0002", 403)


def test_max_size_and_over_size(ecal: Any) -> None:
    sinks = ["DLAP_PGAE-APND", "DLAP_SCE-APND", "DLAP_SDGE-APND", "DLAP_VEA-APND", "SLAP_PGST-APND"]
    noms = [nom(0.1, sink=sinks[i % 5], tou=("ON", "OFF")[i % 2]) for i in range(500)]
    assert ok(create(ecal, "Nom max", noms))["status"] == "VALID"
    errs = error(create(ecal, "Nom over", [*noms, nom()]), "SER0030")
    assert "501" in errs[0]["errorDescription"]


def test_closed_window_codes(ecal: Any, operator: Any) -> None:
    ok(create(ecal, "Nom close 1", [nom(1)]))
    ok(create(ecal, "Nom close 2", [nom(1)]))
    ok(act(ecal, "submit", "Nom close 2"))
    operator.set_status(ALLOC, "CLOSED")
    try:
        error(create(ecal, "Nom late", [nom()]), "MKT0004")
        error(act(ecal, "submit", "Nom close 1"), "NOM0128")
        assert "is CLOSED" in error(act(ecal, "retract", "Nom close 2"), "NOM0129")[0]["errorDescription"]
        error(act(ecal, "delete", "Nom close 1"), "SER0016")
    finally:
        operator.set_status(ALLOC, None)
    ok(act(ecal, "retract", "Nom close 2"))
