"""The auction service end to end over mTLS: lifecycle, every error code it can give, isolation.

One private sandbox for the module (tests move windows); each test uses its own portfolio names.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from tests.sandbox.sbutil import error, ok, portfolio_act

AUC = "AUC_MN_2026_M03"
ALLOC = "ALLOC_MN_2026_M03_T1"
BASE = "/auction/v1.0"


@pytest.fixture(scope="module")
def ready(operator: Any) -> None:
    operator.setup_plan()
    operator.open_window(AUC)


@pytest.fixture(scope="module")
def ecal(ready: None, own_client: Callable[[str], Any]) -> Any:
    return own_client("ecal")


@pytest.fixture(scope="module")
def wcal(ready: None, own_client: Callable[[str], Any]) -> Any:
    return own_client("wcal")


def curve(mw: float = 10, price: float = 5.0, points: int = 2) -> list[dict[str, float]]:
    """A valid buy curve: 0 MW first, MW rising to ``mw``, price falling from ``price``."""
    if points == 2:
        return [{"mw": 0, "price": price}, {"mw": mw, "price": price}]
    step = round(mw / (points - 1), 3)
    return [{"mw": round(i * step, 3), "price": round(price - i * 0.25, 2)} for i in range(points)]


def bid(
    owner: str = "ECAL",
    source: str = "TH_NP15_GEN-APND",
    sink: str = "DLAP_PGAE-APND",
    tou: str = "ON",
    **kw: Any,
) -> dict[str, Any]:
    return {
        "assetOwner": owner,
        "source": source,
        "sink": sink,
        "hedgeType": "OBL",
        "tou": tou,
        "period": "2026_M03",
        "crrType": "AUC",
        "bidCurve": kw.pop("bidCurve", curve()),
        **kw,
    }


# plan.setup_plan seeds ECAL's 25 MW ON CRR TH_NP15 -> DLAP_PGAE first (id 1); 3 and 4 are WCAL's
ECAL_CRR = 1
WCAL_CRR = 4


def offer(crr_id: int, mw: float = 5, price: float = 1.0, **kw: Any) -> dict[str, Any]:
    return {"crrId": crr_id, **bid(bidCurve=[{"mw": 0, "price": price}, {"mw": mw, "price": price}], **kw)}


def create(
    client: Any,
    name: str,
    bids: Iterable[dict[str, Any]] = (),
    offers: Iterable[dict[str, Any]] = (),
    participant: str = "ECAL",
    market: str = AUC,
) -> Any:
    return client.request(
        "POST",
        f"{BASE}/portfolioCreation",
        json={
            "portfolioName": name,
            "marketName": market,
            "participantName": participant,
            "newBids": list(bids),
            "newOffers": list(offers),
        },
    )


def act(client: Any, what: str, name: str, participant: str = "ECAL", market: str = AUC) -> Any:
    return portfolio_act(client, BASE, what, name, participant, market)


# --------------------------------------------------------------------------------------
# lifecycle
# --------------------------------------------------------------------------------------
def test_full_lifecycle(ecal: Any) -> None:
    assert ok(create(ecal, "Life cycle 1", [bid(), bid(tou="OFF")])) == {
        "portfolioName": "Life cycle 1",
        "marketName": AUC,
        "status": "VALID",
    }
    got = ok(act(ecal, "get", "Life cycle 1"))
    assert [b["tou"] for b in got["bids"]] == ["ON", "OFF"] and got["offers"] == []
    assert all(isinstance(b["bidId"], int) and b["bidId"] >= 1 for b in got["bids"])
    assert ok(act(ecal, "credit", "Life cycle 1"))["requiredCredit"] == 100.0  # 2 bids x 10 MW x $5
    assert "Life cycle 1" in [
        p["portfolioName"]
        for p in ok(
            ecal.request(
                "GET", f"{BASE}/portfolioList", params={"marketName": AUC, "participantName": "ECAL"}
            )
        )
    ]
    assert ok(act(ecal, "submit", "Life cycle 1"))["status"] == "SUBMITTED"
    assert ok(act(ecal, "status", "Life cycle 1"))["status"] == "SUBMITTED"
    error(act(ecal, "submit", "Life cycle 1"), "POR0051")
    error(act(ecal, "delete", "Life cycle 1"), "POR0010")
    assert ok(act(ecal, "retract", "Life cycle 1"))["status"] == "VALID"
    error(act(ecal, "retract", "Life cycle 1"), "POR0038")
    assert ok(act(ecal, "delete", "Life cycle 1"))["status"] == "DELETED"
    error(act(ecal, "status", "Life cycle 1"), "POR0100")
    assert ok(create(ecal, "Life cycle 1", [bid()]))["status"] == "VALID"  # the name is free again


def test_empty_portfolio_is_new_and_cannot_be_submitted_or_retracted(ecal: Any) -> None:
    assert ok(create(ecal, "Empty one"))["status"] == "NEW"
    assert ok(act(ecal, "get", "Empty one")) == {
        "portfolioName": "Empty one",
        "marketName": AUC,
        "bids": [],
        "offers": [],
    }
    assert ok(act(ecal, "credit", "Empty one"))["requiredCredit"] == 0
    error(act(ecal, "submit", "Empty one"), "POR0013")
    error(act(ecal, "retract", "Empty one"), "POR0012")


def test_duplicate_name(ecal: Any) -> None:
    ok(create(ecal, "Dup_name", [bid()]))
    error(create(ecal, "Dup_name", [bid()]), "POR0101")


def test_offer_of_held_crr_and_invalid_at_submission(ecal: Any) -> None:
    crr = ECAL_CRR
    first = ok(create(ecal, "Sell A", offers=[offer(crr, mw=5)]))
    assert first["status"] == "VALID"
    got = ok(act(ecal, "get", "Sell A"))
    assert got["offers"][0]["crrId"] == crr and got["bids"] == []
    ok(create(ecal, "Sell B", offers=[offer(crr, mw=4)]))
    ok(act(ecal, "submit", "Sell A"))
    # the same CRR already offered by a submitted portfolio: B turns INVALID, saved with why
    errs = error(act(ecal, "submit", "Sell B"), "SER0030")
    assert f"CRR {crr}" in errs[0]["errorDescription"]
    status = ok(act(ecal, "status", "Sell B"))
    assert status["status"] == "INVALID" and f"CRR {crr}" in status["errorMessage"]
    error(act(ecal, "submit", "Sell B"), "AUC0037")
    error(act(ecal, "retract", "Sell B"), "POR0011")
    assert ok(act(ecal, "delete", "Sell B"))["status"] == "DELETED"
    ok(act(ecal, "retract", "Sell A"))


@pytest.mark.parametrize(
    ("record", "words"),
    [
        (offer(ECAL_CRR, mw=26), "exceeds"),  # ECAL holds 25 MW
        (offer(999_999, mw=1), "not held"),
        (offer(ECAL_CRR, mw=1, tou="OFF"), "differs"),
        (offer(WCAL_CRR, mw=1), "not held"),
    ],
)
def test_offers_only_for_held_crrs(ecal: Any, record: dict[str, Any], words: str) -> None:
    errs = error(create(ecal, "Bad offer", offers=[record]), "SER0030")
    assert words in errs[0]["errorDescription"] and "newOffers[0]" in errs[0]["errorDescription"]


def test_same_crr_offered_twice_in_one_portfolio(ecal: Any) -> None:
    errs = error(create(ecal, "Twice", offers=[offer(ECAL_CRR, mw=2), offer(ECAL_CRR, mw=3)]), "SER0030")
    assert "more than once" in errs[0]["errorDescription"]


@pytest.mark.parametrize(
    ("record", "words"),
    [
        (bid(bidCurve=[{"mw": 1, "price": 5}, {"mw": 10, "price": 5}]), "first bid point"),
        (bid(bidCurve=[{"mw": 0, "price": 5}, {"mw": 10, "price": 6}]), "may not increase"),
        (bid(bidCurve=[{"mw": 0, "price": 5}, {"mw": 10, "price": 5}, {"mw": 8, "price": 4}]), "decrease"),
        (bid(bidCurve=[{"mw": 0, "price": 5}, {"mw": 0, "price": 5}]), "more than 0 MW"),
        (bid(source="NOT_A_NODE"), "not a node"),
        (bid(source="DLAP_PGAE-APND"), "two different nodes"),
        (bid(source="SONGS_2_N101"), "not biddable"),
        (bid(owner="WCAL"), "assetOwner"),
        (bid(period="2026_M04"), "period"),
        (bid(crrType="LSE"), "AUC"),
    ],
)
def test_bid_rules_refuse_the_upload(ecal: Any, record: dict[str, Any], words: str) -> None:
    errs = error(create(ecal, "Bad bid", [bid(), record]), "SER0030")
    assert all("newBids[1]" in e["errorDescription"] for e in errs)
    assert any(words in e["errorDescription"] for e in errs), errs
    error(act(ecal, "status", "Bad bid"), "POR0100")  # nothing saved


def test_every_bad_record_is_reported(ecal: Any) -> None:
    bad = bid(source="NOWHERE")
    errs = error(create(ecal, "All bad", [bad, bid(), bad]), "SER0030")
    assert [e["errorDescription"].split(":")[0] for e in errs] == ["newBids[0]", "newBids[2]"]


def test_maximum_size_portfolio_is_accepted(ecal: Any) -> None:
    bids = [bid(tou=("ON", "OFF")[i % 2], bidCurve=curve(mw=19, price=10, points=20)) for i in range(499)]
    sell = {**offer(ECAL_CRR), "bidCurve": [{"mw": round(i * 0.5, 3), "price": i} for i in range(20)]}
    response = create(ecal, "Max size", bids, [sell])
    assert ok(response)["status"] == "VALID"
    got = ok(act(ecal, "get", "Max size"))
    assert len(got["bids"]) + len(got["offers"]) == 500
    assert all(len(b["bidCurve"]) == 20 for b in got["bids"])


def test_501_records_are_refused(ecal: Any) -> None:
    errs = error(create(ecal, "Too many", [bid() for _ in range(501)]), "SER0030")
    assert "501" in errs[0]["errorDescription"] and "500" in errs[0]["errorDescription"]


def test_21_points_are_refused(ecal: Any) -> None:
    response = create(ecal, "Too many points", [bid(bidCurve=curve(points=21))])
    assert response.status == 400
    assert response.json()["errorList"][0]["errorCode"] in ("SER0030", "SER0017")
    # the reason before the record: a client showing only the description must show why
    description = response.json()["errorList"][0]["errorDescription"]
    assert description.startswith("newBids[0].bidCurve: has more than 20 items (the value: [{"), description


def test_credit_limit_rejects_and_allows_resubmission(ecal: Any) -> None:
    big = bid(bidCurve=[{"mw": 0, "price": 2000}, {"mw": 3000, "price": 2000}])  # $6M each
    ok(create(ecal, "Credit 1", [big]))
    ok(create(ecal, "Credit 2", [big]))
    assert ok(act(ecal, "credit", "Credit 2"))["requiredCredit"] == 6_000_000
    ok(act(ecal, "submit", "Credit 1"))
    errs = error(act(ecal, "submit", "Credit 2"), "SER0030")
    assert "credit limit" in errs[0]["errorDescription"]
    # REJECTED passes straight back to VALID (both contracts); the reason stays readable
    status = ok(act(ecal, "status", "Credit 2"))
    assert status["status"] == "VALID" and "credit limit" in status["errorMessage"], status
    error(act(ecal, "retract", "Credit 2"), "POR0038")
    ok(act(ecal, "retract", "Credit 1"))  # frees the credit
    assert ok(act(ecal, "submit", "Credit 2"))["status"] == "SUBMITTED"
    ok(act(ecal, "retract", "Credit 2"))


# --------------------------------------------------------------------------------------
# names, markets, identity
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a\nb", "a\tb", "ab\n", "a\r\nb", "a\u00a0b"])
def test_a_name_with_whitespace_other_than_spaces_is_refused(ecal: Any, name: str) -> None:
    """Issue 19 item 13: the contract's pattern allows any whitespace (\\s) where its words say
    "space"; a name with a line break or tab was stored and listed."""
    errors = error(create(ecal, name, [bid()]), "SER0022")
    assert "no other whitespace" in errors[0]["errorDescription"] or "spaces" in errors[0]["errorDescription"]
    assert error(act(ecal, "status", name), "SER0022")


@pytest.mark.parametrize("name", ["bad/name", "a" * 101, "", "   ", "..."])
def test_bad_portfolio_names(ecal: Any, name: str) -> None:
    response = create(ecal, name, [bid()])
    assert response.status == 400
    assert response.json()["errorList"][0]["errorCode"] in ("SER0022", "POR0103", "POR0215")


def test_unknown_market_and_wrong_market_type(ecal: Any) -> None:
    error(create(ecal, "Nowhere", [bid()], market="AUC_NOPE"), "MKT0001")
    error(create(ecal, "Nowhere", [bid()], market=ALLOC), "MKT0001")
    error(
        ecal.request(
            "GET", f"{BASE}/portfolioList", params={"marketName": "AUC_NOPE", "participantName": "ECAL"}
        ),
        "MKT0001",
    )
    for what in ("status", "get", "credit", "submit", "retract", "delete"):
        error(act(ecal, what, "x", market="AUC_NOPE"), "MKT0001")


def test_unknown_portfolio(ecal: Any) -> None:
    for what in ("status", "get", "credit", "submit", "retract", "delete"):
        error(act(ecal, what, "Never made"), "POR0100")


def test_acting_for_another_sc_is_refused(ecal: Any) -> None:
    error(create(ecal, "For WCAL", [bid(owner="WCAL")], participant="WCAL"), "SEC0001", 403)
    error(
        ecal.request("GET", f"{BASE}/portfolioList", params={"marketName": AUC, "participantName": "WCAL"}),
        "SEC0001",
        403,
    )
    for what in ("status", "get", "credit", "submit", "retract", "delete"):
        error(act(ecal, what, "anything", participant="WCAL"), "SEC0001", 403)


def test_other_participants_portfolio_is_invisible(ecal: Any, wcal: Any) -> None:
    ok(create(ecal, "ECAL private", [bid()]))
    listed = ok(
        wcal.request("GET", f"{BASE}/portfolioList", params={"marketName": AUC, "participantName": "WCAL"})
    )
    assert "ECAL private" not in [p["portfolioName"] for p in listed]
    for what in ("status", "get", "credit", "submit", "retract", "delete"):
        error(act(wcal, what, "ECAL private", participant="WCAL"), "POR0100")
        error(act(wcal, what, "ECAL private", participant="ECAL"), "SEC0001", 403)
    assert ok(act(ecal, "status", "ECAL private"))["status"] == "VALID"  # untouched


def test_multi_sc_certificate_gets_por0023(ready: None, own_client: Callable[[str], Any]) -> None:
    ncal = own_client("ncal")
    ok(create(ncal, "Shared cert", [bid(owner="NCAL")], participant="NCAL"))
    error(act(ncal, "status", "Shared cert", participant="SCAL"), "POR0023")


def test_read_only_certificate_cannot_write(ready: None, own_client: Callable[[str], Any]) -> None:
    ro = own_client("ecal-readonly")
    error(create(ro, "Read only", [bid()]), "SEC0002", 403)
    for what in ("submit", "retract", "delete"):
        error(act(ro, what, "Life cycle 1"), "SEC0002", 403)
    ok(ro.request("GET", f"{BASE}/portfolioList", params={"marketName": AUC, "participantName": "ECAL"}))


def test_concurrent_edits_of_one_portfolio(ecal: Any, own_sandbox: Any) -> None:
    """While another session edits a portfolio, every edit of it gets POR0306 (and nothing waits).

    The other session is this test process holding the portfolio's edit lock on the sandbox's
    own database, the way a second sandbox worker would: deterministic, unlike a thread race.
    """
    from harness.sandbox.store import Store
    from harness.sandbox.store.locks import EditLocks

    name = "Locked by another session"
    ok(create(ecal, name, [bid()]))
    store = Store(own_sandbox.db)
    try:
        with EditLocks().hold(("auction", AUC, "ECAL", name), store):
            for what in ("submit", "retract", "delete"):
                error(act(ecal, what, name), "POR0306")
            error(create(ecal, name, [bid()]), "POR0306")
            assert ok(act(ecal, "status", name))["status"] == "VALID"  # reads are not blocked
        ok(act(ecal, "submit", name))  # released: the edit goes through
    finally:
        store.close()


def test_racing_uploads_of_one_name_are_serialised(ecal: Any) -> None:
    """Same-name max-size uploads at once: exactly one is saved; each other one meets the edit
    lock (POR0306) or the saved name (POR0101), whichever the timing gives."""
    bids = [bid(bidCurve=curve(points=20)) for _ in range(500)]
    with cf.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: create(ecal, n, bids), ["Race"] * 4))
    assert sum(r.status == 200 for r in results) == 1
    assert {r.json()["errorList"][0]["errorCode"] for r in results if r.status != 200} <= {
        "POR0306",
        "POR0101",
    }


def test_closed_window(ecal: Any, operator: Any) -> None:
    ok(create(ecal, "Before close", [bid()]))
    ok(create(ecal, "Submitted before close", [bid()]))
    ok(act(ecal, "submit", "Submitted before close"))
    operator.set_status(AUC, "CLOSED")
    try:
        error(create(ecal, "After close", [bid()]), "MKT0004")
        error(act(ecal, "submit", "Before close"), "MKT0004")
        error(act(ecal, "delete", "Before close"), "MKT0004")
        # NOM0129 in the auction service is CAISO's choice (its auction contract 1.2.1 lists it for
        # exactly this); the description says which of its two causes it is (issue 19 item 7)
        retract = error(act(ecal, "retract", "Submitted before close"), "NOM0129")
        assert f"window of market {AUC} is CLOSED" in retract[0]["errorDescription"]
        assert ok(act(ecal, "status", "Submitted before close"))["status"] == "SUBMITTED"  # reads still work
    finally:
        operator.set_status(AUC, None)
    ok(act(ecal, "retract", "Submitted before close"))
