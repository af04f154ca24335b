"""Pure business rules: bid curves, credit, portfolio names, nomination caps, the edit lock."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from harness.sandbox.domain.auction import AuctionRules, curve_problems
from harness.sandbox.domain.credit import bid_exposure, cents_to_dollars, over_limit, required_credit_cents
from harness.sandbox.domain.nomination import cap_problems
from harness.sandbox.domain.portfolios import (
    Record,
    _records_text,
    cents,
    check_portfolio_name,
    milli,
    render_portfolio,
)
from harness.sandbox.errors import CRRError
from harness.sandbox.store import Store
from harness.sandbox.store.locks import EditLocks


def pts(*pairs: tuple[float, float]) -> list[dict[str, float]]:
    return [{"mw": m, "price": p} for m, p in pairs]


@pytest.mark.parametrize(
    "points",
    [pts((0, 5), (10, 5)), pts((0, 9), (5, 7), (5, 7), (12.345, -1.5)), pts((0, 0), (0.001, 0))],
)
def test_valid_buy_curves(points: list[dict[str, float]]) -> None:
    assert curve_problems(points, "BUY")[1] == []


@pytest.mark.parametrize(
    ("points", "side", "words"),
    [
        (pts((0.5, 5), (10, 5)), "BUY", "mw 0"),
        (pts((0, 5), (10, 6)), "BUY", "may not increase"),
        (pts((0, 5), (10, 4)), "SELL", "may not decrease"),
        (pts((0, 5), (10, 5), (9, 5)), "BUY", "less MW"),
        (pts((0, 5), (5, 5), (5, 4)), "BUY", "same MW"),
        (pts((0, 5), (0, 5)), "SELL", "more than 0 MW"),
        (pts((0, 5)), "BUY", "2 to 20"),
        (pts(*[(i, 1) for i in range(21)]), "BUY", "2 to 20"),
    ],
)
def test_invalid_curves(points: list[dict[str, float]], side: str, words: str) -> None:
    assert any(words in p for p in curve_problems(points, side)[1])


def test_offer_curve_is_a_supply_curve() -> None:
    assert curve_problems(pts((0, 1), (5, 1), (8, 3.25)), "SELL")[1] == []


def test_curves_are_converted_exactly() -> None:
    curve, _ = curve_problems(pts((0, 1.1), (1.005, 0.29)), "BUY")
    assert curve == ((0, 110), (1005, 29))


def test_credit_is_the_worst_case_charge() -> None:
    # max over points of MW x price: 10 MW x $5 beats 20 MW x $2; negative prices count as 0
    assert bid_exposure([(0, 500), (10_000, 500), (20_000, 200)]) == 5_000_000
    assert bid_exposure([(0, -100), (10_000, -300)]) == 0
    assert required_credit_cents([[(0, 550), (10_005, 550)]]) == 5503  # $55.0275 rounds up to $55.03
    assert cents_to_dollars(5503) == 55.03


def test_credit_limit_boundary() -> None:
    assert not over_limit(600_000_000, 400_000_000, 10_000_000)  # exactly $10M is allowed
    assert over_limit(600_000_000, 400_000_001, 10_000_000)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "POR0215"),
        ("   ", "POR0215"),
        ("a" * 101, "POR0103"),
        ("bad/name", "SER0022"),
        ("...", "SER0022"),
        ("caf\u00e9", "SER0022"),
    ],
)
def test_bad_names(name: str, code: str) -> None:
    with pytest.raises(CRRError) as caught:
        check_portfolio_name(name)
    assert caught.value.code == code


@pytest.mark.parametrize("name", ["March test", "March MNTHLY 26", "a" * 100, "v1.2_final-b"])
def test_good_names(name: str) -> None:
    assert check_portfolio_name(name) == name


def test_caps() -> None:
    caps = {("S", "ON", "2026_M03", "LSE"): 100_000}
    assert cap_problems(caps, {("S", "ON", "2026_M03", "LSE"): 100_000}, "ECAL") == []
    over = cap_problems(
        caps, {("S", "ON", "2026_M03", "LSE"): 100_001, ("T", "ON", "2026_M03", "LSE"): 1}, "ECAL"
    )
    assert len(over) == 2 and "100.001 MW" in over[0] and "cap of 0 MW" in over[1]


def test_edit_lock_refuses_a_second_writer() -> None:
    locks = EditLocks()
    key = ("auction", "M", "ECAL", "P")
    with locks.hold(key):
        assert locks.held(key)
        with pytest.raises(CRRError) as caught, locks.hold(key):
            pass
        assert caught.value.code == "POR0306"
        with locks.hold(("auction", "M", "ECAL", "Q")):  # other portfolios are not blocked
            pass
    assert not locks.held(key)


@pytest.mark.parametrize("file_locks", [True, False], ids=["file-lock", "sqlite-lease"])
def test_edit_lock_holds_across_processes(tmp_path: Path, file_locks: bool) -> None:
    """Two workers (two EditLocks over one SQLite file) refuse each other's concurrent edits."""
    one, two = Store(tmp_path / "crr.db"), Store(tmp_path / "crr.db")
    first, second = EditLocks(file_locks), EditLocks(file_locks)
    key = ("auction", "M", "ECAL", "P")
    with first.hold(key, one):
        with pytest.raises(CRRError) as caught, second.hold(key, two):
            pass
        assert caught.value.code == "POR0306"
        with second.hold(("auction", "M", "ECAL", "Q"), two):
            pass
    with second.hold(key, two):  # released: free again
        pass


def test_an_expired_edit_lease_is_taken_over(tmp_path: Path) -> None:
    """A worker killed while editing blocks that portfolio only until its lease expires."""
    store = Store(tmp_path / "crr.db")
    key = ("auction", "M", "ECAL", "P")
    with store.write() as conn:
        conn.execute(
            "INSERT INTO edit_leases(lease, holder, expires) VALUES (?, 'gone', ?)",
            ("\x1f".join(key), time.time() - 1),
        )
    with EditLocks(use_file_locks=False).hold(key, store):
        pass


def test_a_portfolio_reads_back_from_its_stored_records_as_sent() -> None:
    """A GET renders the contract's properties from the stored records, with the values sent
    (exact thousandths and cents: 1.25 stays 1.25, 3.0 reads 3), whichever records share a
    curve, and nothing sent outside the contract (strict clients refuse unknown properties)."""
    rules = AuctionRules()
    shared = [{"mw": 0, "price": 12.5}, {"mw": 1.25, "price": 10}]
    other = [{"mw": 0, "price": -1.01}, {"mw": 3.0, "price": -2, "x": 1}]

    def item(i: int, curve: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "assetOwner": "ECAL",
            "source": f"S{i % 4}",
            "sink": "K",
            "hedgeType": "OBL",
            "tou": ("ON", "OFF")[i % 2],
            "period": "2026_M03",
            "crrType": "AUC",
            "bidCurve": curve,
            **extra,
        }

    raw: list[tuple[str, dict[str, Any]]] = [
        ("BUY", item(i, shared if i % 3 else other, **({"description": f"bid {i}"} if i % 2 else {})))
        for i in range(49)
    ]
    raw.append(("BUY", item(49, [dict(p) for p in shared], x=1)))  # an equal curve, not the same list
    raw.append(("SELL", item(50, shared, crrId=7, description=None)))
    records = [
        Record(
            side=side,
            asset_owner=r["assetOwner"],
            source=r["source"],
            sink=r["sink"],
            hedge_type=r["hedgeType"],
            tou=r["tou"],
            period=r["period"],
            crr_type=r["crrType"],
            mw_milli=milli(r["bidCurve"][-1]["mw"]),
            curve=tuple((milli(p["mw"]), cents(p["price"])) for p in r["bidCurve"]),
            crr_id=r.get("crrId"),
        )
        for side, r in raw
    ]
    ids = list(range(100, 100 + len(raw)))
    stored = _records_text(ids, records, raw)
    assert json.loads(stored)["curves"] == [[[0, -101], [3000, -200]], [[0, 1250], [1250, 1000]]]
    text = render_portfolio(rules, "P 1", "M", stored)

    def sent(rid: int, side: str, r: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"bidId": rid}
        for key in rules.record_fields[side]:
            if r.get(key) is not None:
                out[key] = r[key]
        out["bidCurve"] = [{"mw": p["mw"], "price": p["price"]} for p in r["bidCurve"]]
        return out

    assert json.loads(text) == {
        "portfolioName": "P 1",
        "marketName": "M",
        "bids": [sent(rid, side, r) for rid, (side, r) in zip(ids, raw, strict=True) if side == "BUY"],
        "offers": [sent(ids[-1], "SELL", raw[-1][1])],
    }
    assert '"x"' not in text and '"description":null' not in text
    assert '{"mw":1.25,"price":10}' in text and '{"mw":3,"price":-2}' in text
    assert list(json.loads(text)["offers"][0]) == ["bidId", "crrId", *AuctionRules.record_fields["BUY"][:-1]]


def test_credit_counts_a_shared_record_once_per_bid() -> None:
    """check_records hands the same Record object to bids that say the same thing; the
    portfolio's credit still charges every bid (offers never)."""

    def record(side: str, curve: tuple[tuple[int, int], ...]) -> Record:
        return Record(side, "ECAL", "A", "B", "OBL", "ON", "2026_M03", "AUC", curve[-1][0], curve)

    curve_a, curve_b = ((0, 550), (10_005, 550)), ((0, 100), (2_000, 100))
    a, b = record("BUY", curve_a), record("BUY", curve_b)
    offer = record("SELL", ((0, 900), (5_000, 900)))
    records = [a, b, a, offer, a, offer]
    assert AuctionRules().required_credit_cents(records) == required_credit_cents(
        [curve_a, curve_b, curve_a, curve_a]
    )
    assert AuctionRules().required_credit_cents(records) == 16709  # 3 x $55.0275 + $2.00, rounded up once
