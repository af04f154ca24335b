"""Clearing: the pure uniform-price / pro-rata math, and a real market cleared over the control plane."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.sandbox.domain.clearing import clear_path, curve_steps, path_capacity_milli, prorate


def flat(mw: float, price: float) -> list[tuple[int, int]]:
    return [(0, round(price * 100)), (round(mw * 1000), round(price * 100))]


def price_at(curve: list[tuple[int, int]], awarded: int) -> int:
    """The curve's price for its last awarded MW (the step that MW falls in)."""
    for (m0, _), (m1, p1) in zip(curve, curve[1:], strict=False):
        if m0 < awarded <= m1:
            return p1
    return curve[-1][1]


# --------------------------------------------------------------------------------------
# pure math
# --------------------------------------------------------------------------------------
def test_uncongested_path_clears_at_zero() -> None:
    result = clear_path(100_000, {1: flat(30, 10), 2: flat(50, 4)})
    assert result.price == 0 and result.awarded == {1: 30_000, 2: 50_000}


def test_congested_path_price_is_the_marginal_bid() -> None:
    result = clear_path(200_000, {1: flat(150, 10), 2: flat(100, 8), 3: flat(50, 3)})
    assert result.price == 800
    assert result.awarded == {1: 150_000, 2: 50_000}


def test_ties_at_the_margin_share_pro_rata() -> None:
    result = clear_path(90_000, {1: flat(60, 5), 2: flat(30, 5), 3: flat(30, 5)})
    assert result.awarded == {1: 45_000, 2: 22_500, 3: 22_500} and result.price == 500


def test_sell_offers_add_supply_and_set_the_price() -> None:
    result = clear_path(200_000, {7: flat(210, 5)}, {9: flat(25, 2)})
    assert result.awarded == {7: 210_000} and result.sold == {9: 10_000} and result.price == 200


def test_offers_above_every_bid_are_not_sold() -> None:
    result = clear_path(10_000, {1: flat(20, 3)}, {2: flat(25, 4)})
    assert result.sold == {} and result.awarded == {1: 10_000} and result.price == 300


def test_curve_steps_take_the_later_points_price() -> None:
    assert [
        (s.price, s.qty) for s in curve_steps(1, [(0, 900), (10_000, 700), (10_000, 700), (25_000, 500)])
    ] == [(700, 10_000), (500, 15_000)]


def test_prorate_is_exact_and_bounded() -> None:
    shares = prorate(1000, {1: 1000, 2: 1000, 3: 1000})
    assert sum(shares.values()) == 1000 and max(shares.values()) - min(shares.values()) <= 1
    assert prorate(10, {1: 3, 2: 4}) == {1: 3, 2: 4}
    assert prorate(0, {1: 5}) == {1: 0}


def test_random_markets_respect_the_invariants() -> None:
    rng = random.Random(7)
    for _ in range(300):
        bids = {}
        for bid_id in range(1, rng.randint(1, 12)):
            points = sorted(rng.sample(range(1, 200), rng.randint(1, 6)))
            prices = sorted((rng.randint(-500, 5000) for _ in points), reverse=True)
            bids[bid_id] = [(0, prices[0])] + [(m * 1000, p) for m, p in zip(points, prices, strict=True)]
        offers = {100 + i: flat(rng.randint(1, 50), rng.randint(0, 40)) for i in range(rng.randint(0, 3))}
        capacity = rng.randint(0, 400) * 1000
        result = clear_path(capacity, bids, offers)
        assert result.cleared <= capacity + sum(c[-1][0] for c in offers.values())
        for bid_id, awarded in result.awarded.items():
            curve = bids[bid_id]
            assert 0 < awarded <= curve[-1][0]  # never more than bid
            assert price_at(curve, awarded) >= result.price  # awarded bids priced at/above the price
        for offer_id, sold in result.sold.items():
            assert sold <= offers[offer_id][-1][0] and offers[offer_id][-1][1] <= result.price


def test_path_capacity_is_tighter_across_zones() -> None:
    assert path_capacity_milli("TH_NP15_GEN-APND", "DLAP_SCE-APND") == 200_000
    assert path_capacity_milli("DIABLO_7_N001", "DLAP_PGAE-APND") == 500_000


# --------------------------------------------------------------------------------------
# a real market cleared through the sandbox
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cleared(dev_pki: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from harness.client import ClientIdentity, CRRClient
    from harness.client.control import ControlPlane
    from harness.sandbox.launch import start_sandbox

    db = tmp_path_factory.mktemp("clearing") / "crr.db"
    running = start_sandbox(dev_pki.directory, db)
    clients = {
        n: CRRClient(
            running.url, identity=ClientIdentity.from_pem(f.cert, f.key), ca=dev_pki.ca_cert, retries=0
        )
        for n, f in dev_pki.identities.items()
        if n in ("operator", "ecal", "wcal", "ncal")
    }
    try:
        op = ControlPlane(clients["operator"])
        op.setup_plan()
        op.open_window("AUC_MN_2026_M03")
        op.open_window("ALLOC_MN_2026_M03_T1")

        def bid(owner: str, sink: str, mw: float, price: float, **kw: Any) -> dict[str, Any]:
            return {
                "assetOwner": owner,
                "source": "TH_NP15_GEN-APND",
                "sink": sink,
                "hedgeType": "OBL",
                "tou": "ON",
                "period": "2026_M03",
                "crrType": "AUC",
                "bidCurve": [{"mw": 0, "price": price}, {"mw": mw, "price": price}],
                **kw,
            }

        def submit(
            client: Any, sc: str, bids: list[dict[str, Any]], offers: Sequence[dict[str, Any]] = ()
        ) -> None:
            ids = {"portfolioName": f"clear {sc}", "marketName": "AUC_MN_2026_M03", "participantName": sc}
            r = client.request(
                "POST",
                "/auction/v1.0/portfolioCreation",
                json={**ids, "newBids": bids, "newOffers": list(offers)},
            )
            assert r.status == 200, r.body
            assert client.request("POST", "/auction/v1.0/portfolioSubmission", json=ids).status == 200

        submit(
            clients["ecal"],
            "ECAL",
            [bid("ECAL", "DLAP_SCE-APND", 150, 10)],
            [{"crrId": 1, **bid("ECAL", "DLAP_PGAE-APND", 25, 2)}],
        )
        submit(
            clients["wcal"],
            "WCAL",
            [bid("WCAL", "DLAP_SCE-APND", 100, 8), bid("WCAL", "DLAP_PGAE-APND", 210, 5)],
        )
        submit(clients["ncal"], "NCAL", [bid("NCAL", "DLAP_SCE-APND", 50, 3)])
        nom = {
            "assetOwner": "ECAL",
            "source": "TH_NP15_GEN-APND",
            "sink": "DLAP_PGAE-APND",
            "hedgeType": "OBL",
            "tou": "OFF",
            "period": "2026_M03",
            "crrType": "LSE",
            "mw": 80,
        }
        ids = {"portfolioName": "alloc", "marketName": "ALLOC_MN_2026_M03_T1", "participantName": "ECAL"}
        assert (
            clients["ecal"]
            .request("POST", "/nomination/v1.0/portfolioCreation", json={**ids, "newNominations": [nom]})
            .status
            == 200
        )
        assert clients["ecal"].request("POST", "/nomination/v1.0/portfolioSubmission", json=ids).status == 200
        for market in ("AUC_MN_2026_M03", "ALLOC_MN_2026_M03_T1"):
            op.close_window(market)
            assert op.run_clearing(market)["status"] == "POSTED"
        yield db
    finally:
        for c in clients.values():
            c.close()
        running.stop()


def query(db: Path, sql: str, *args: Any) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_auction_awards_and_prices(cleared: Path) -> None:
    awards = {
        (r["participant"], r["sink"], r["side"]): r
        for r in query(cleared, "SELECT * FROM clearing_awards WHERE market = 'AUC_MN_2026_M03'")
    }
    sce = ("TH_NP15_GEN-APND", "DLAP_SCE-APND")
    price = query(cleared, "SELECT price_cents FROM clearing_prices WHERE source = ? AND sink = ?", *sce)[0][
        0
    ]
    assert price == 800
    assert awards[("ECAL", "DLAP_SCE-APND", "BUY")]["mw_milli"] == 150_000
    assert awards[("WCAL", "DLAP_SCE-APND", "BUY")]["mw_milli"] == 50_000
    assert ("NCAL", "DLAP_SCE-APND", "BUY") not in awards  # bid $3 < clearing price $8
    assert awards[("WCAL", "DLAP_PGAE-APND", "BUY")]["mw_milli"] == 210_000
    assert awards[("ECAL", "DLAP_PGAE-APND", "SELL")]["mw_milli"] == 10_000
    assert awards[("WCAL", "DLAP_PGAE-APND", "BUY")]["price_cents"] == 200


def test_clearing_moves_holdings(cleared: Path) -> None:
    assert (
        query(cleared, "SELECT mw_milli FROM crr_holdings WHERE crr_id = 1")[0][0] == 15_000
    )  # 25 - 10 sold
    wcal = query(
        cleared,
        "SELECT mw_milli, crr_type, parent_id FROM crr_holdings"
        " WHERE owner = 'WCAL' AND (market = 'AUC_MN_2026_M03' OR parent_id = 1) ORDER BY crr_id",
    )
    assert sorted(r[0] for r in wcal) == [10_000, 50_000, 200_000]
    assert {r[2] for r in wcal} == {None, 1}  # the 10 MW bought from ECAL names its parent CRR
    lse = query(cleared, "SELECT mw_milli, crr_type FROM crr_holdings WHERE market = 'ALLOC_MN_2026_M03_T1'")
    assert [tuple(r) for r in lse] == [(80_000, "LSE")]
