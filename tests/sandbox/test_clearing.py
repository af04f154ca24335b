"""Clearing: the tie rule and allocation on the network, and a real market cleared over the control plane."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.sandbox.domain.clearing import Step, allocate, curve_steps, fill, prorate
from harness.sandbox.domain.grid import load_grid

NP15, SCE, PGAE = "TH_NP15_GEN-APND", "DLAP_SCE-APND", "DLAP_PGAE-APND"


def flat(mw: float, price: float) -> list[tuple[int, int]]:
    return [(0, round(price * 100)), (round(mw * 1000), round(price * 100))]


def price_at(curve: list[tuple[int, int]], awarded: int) -> int:
    """The curve's price for its last awarded MW (the step that MW falls in)."""
    for (m0, _), (m1, p1) in zip(curve, curve[1:], strict=False):
        if m0 < awarded <= m1:
            return p1
    return curve[-1][1]


# --------------------------------------------------------------------------------------
# pure math: the tie rule and allocation's feasibility test
# --------------------------------------------------------------------------------------
def steps_of(curves: dict[int, list[tuple[int, int]]]) -> list[Step]:
    return [s for owner, c in curves.items() for s in curve_steps(owner, c)]


def test_a_paths_total_goes_to_the_highest_bids_first() -> None:
    assert fill(200_000, steps_of({1: flat(150, 10), 2: flat(100, 8), 3: flat(50, 3)}), True) == {
        1: 150_000,
        2: 50_000,
    }


def test_ties_at_the_margin_share_pro_rata_whatever_vertex_the_solver_returned() -> None:
    assert fill(90_000, steps_of({1: flat(60, 5), 2: flat(30, 5), 3: flat(30, 5)}), True) == {
        1: 45_000,
        2: 22_500,
        3: 22_500,
    }


def test_sold_mw_go_to_the_cheapest_offers_first() -> None:
    assert fill(30_000, steps_of({8: flat(25, 4), 9: flat(25, 2)}), False) == {9: 25_000, 8: 5_000}


def test_curve_steps_take_the_later_points_price() -> None:
    assert [
        (s.price, s.qty) for s in curve_steps(1, [(0, 900), (10_000, 700), (10_000, 700), (25_000, 500)])
    ] == [(700, 10_000), (500, 15_000)]


def test_prorate_is_exact_and_bounded() -> None:
    shares = prorate(1000, {1: 1000, 2: 1000, 3: 1000})
    assert sum(shares.values()) == 1000 and max(shares.values()) - min(shares.values()) <= 1
    assert prorate(10, {1: 3, 2: 4}) == {1: 3, 2: 4}
    assert prorate(0, {1: 5}) == {1: 0}


def test_random_curves_fill_by_price_and_never_beyond_a_bid() -> None:
    rng = random.Random(7)
    for _ in range(300):
        bids = {}
        for bid_id in range(1, rng.randint(2, 12)):
            points = sorted(rng.sample(range(1, 200), rng.randint(1, 6)))
            prices = sorted((rng.randint(-500, 5000) for _ in points), reverse=True)
            bids[bid_id] = [(0, prices[0])] + [(m * 1000, p) for m, p in zip(points, prices, strict=True)]
        total = rng.randint(0, 600) * 1000
        won = fill(total, steps_of(bids), True)
        assert sum(won.values()) == min(total, sum(c[-1][0] for c in bids.values()))
        marginal = min((price_at(bids[b], q) for b, q in won.items()), default=None)
        for bid_id, curve in bids.items():
            assert 0 <= won.get(bid_id, 0) <= curve[-1][0]
            if marginal is not None and won.get(bid_id, 0) < curve[-1][0]:
                assert price_at(curve, won.get(bid_id, 0) + 1) <= marginal  # nothing better left out


GRID = load_grid()


def test_allocation_awards_everything_where_nothing_binds() -> None:
    awards, bound = allocate(GRID, {1: (NP15, PGAE, 40_000), 2: (NP15, SCE, 30_000)})
    assert awards == {1: 40_000, 2: 30_000} and bound == []


def test_allocation_is_pro_rata_where_a_branch_binds_and_frees_the_rest() -> None:
    wants = {1: (NP15, SCE, 600_000), 2: (NP15, SCE, 300_000), 3: (SCE, "DLAP_SDGE-APND", 5_000)}
    awards, bound = allocate(GRID, wants)
    assert bound, "900 MW from NP15 to SCE must bind a branch"
    assert 0 < awards[1] < 600_000 and abs(awards[1] - 2 * awards[2]) <= 2  # same share of each ask
    assert awards[3] == 5_000  # a small nomination that loads the binding branch the other way
    flows = np.sum([a / 1000 * GRID.shift(*wants[k][:2]) for k, a in awards.items()], axis=0)
    assert np.all(np.abs(flows) <= GRID.limits + 1e-3)


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

        # the worked example of docs/clearing.md, with the plan's held CRRs baseloading: A and B on
        # NP15 -> SCE, C the counterflow; an offer of a held CRR at a negative price, and a buyer
        # on its path
        submit(
            clients["ecal"],
            "ECAL",
            [bid("ECAL", SCE, 800, 12)],
            [{"crrId": 1, **bid("ECAL", PGAE, 10, -1)}],
        )
        submit(clients["wcal"], "WCAL", [bid("WCAL", SCE, 800, 8), bid("WCAL", PGAE, 210, 5)])
        submit(clients["ncal"], "NCAL", [bid("NCAL", NP15, 300, -1, source=SCE)])
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


def awards(db: Path) -> dict[tuple[str, str, str], sqlite3.Row]:
    rows = query(db, "SELECT * FROM clearing_awards WHERE market = 'AUC_MN_2026_M03'")
    return {(r["participant"], r["sink"], r["side"]): r for r in rows}


def node_prices(db: Path) -> dict[str, int]:
    rows = query(
        db, "SELECT node, price_e4 FROM clearing_nodes WHERE market = 'AUC_MN_2026_M03' AND tou = 'ON'"
    )
    return {r[0]: r[1] for r in rows}


def test_the_marginal_bid_is_split_and_sets_the_price(cleared: Path) -> None:
    won = awards(cleared)
    a, b = won[("ECAL", SCE, "BUY")], won.get(("WCAL", SCE, "BUY"))
    assert 0 < a["mw_milli"] < 800_000 and b is None  # A split at the margin; B ($8) below the price
    assert a["price_cents"] == 1200  # the marginal bid's own price


def test_the_counterflow_bid_is_awarded_at_a_negative_price(cleared: Path) -> None:
    c = awards(cleared)[("NCAL", NP15, "BUY")]
    assert c["mw_milli"] == 300_000 and c["price_cents"] == -1200  # paid $12/MW to take it


def test_prices_add_up_and_binding_branches_are_at_their_limits(cleared: Path) -> None:
    nodes = node_prices(cleared)
    for r in query(cleared, "SELECT * FROM clearing_prices WHERE market = 'AUC_MN_2026_M03' AND tou = 'ON'"):
        assert r["price_cents"] == round((nodes[r["sink"]] - nodes[r["source"]]) / 100)
    binding = query(cleared, "SELECT * FROM clearing_constraints WHERE market = 'AUC_MN_2026_M03'")
    assert binding and all(r["branch"].startswith("BR_") and r["shadow_cents"] > 0 for r in binding)
    assert all(abs(abs(r["flow_milli"]) - r["limit_milli"]) <= 1 for r in binding)


def test_clearing_moves_holdings(cleared: Path) -> None:
    won = awards(cleared)
    assert won[("ECAL", PGAE, "SELL")]["mw_milli"] == 10_000  # offered at -$1: sold at any price above
    assert query(cleared, "SELECT mw_milli FROM crr_holdings WHERE crr_id = 1")[0][0] == 15_000  # 25 - 10
    wcal = query(
        cleared,
        "SELECT mw_milli, parent_id FROM crr_holdings"
        " WHERE owner = 'WCAL' AND sink = ? AND (market = 'AUC_MN_2026_M03' OR parent_id = 1) ORDER BY crr_id",
        PGAE,
    )
    bought = won[("WCAL", PGAE, "BUY")]["mw_milli"]
    assert sorted(r[0] for r in wcal) == [10_000, bought - 10_000]  # the sold 10 MW, then new CRRs
    assert {r[1] for r in wcal} == {None, 1}  # the 10 MW bought from ECAL names its parent CRR
    lse = query(cleared, "SELECT mw_milli, crr_type FROM crr_holdings WHERE market = 'ALLOC_MN_2026_M03_T1'")
    assert [tuple(r) for r in lse] == [(80_000, "LSE")]


def test_a_market_its_held_crrs_already_overload_is_refused_naming_the_branch(tmp_path: Path) -> None:
    """The operator is told why a market cannot clear (SER0030 with the branch), nothing is
    half-written, and the market can be cleared once the holdings are fixed."""
    from harness.sandbox.domain import holdings, portfolios
    from harness.sandbox.domain.auction import RULES
    from harness.sandbox.domain.clearing import clear_market
    from harness.sandbox.domain.clock import Clock
    from harness.sandbox.domain.markets import require_market
    from harness.sandbox.domain.plan import setup_plan
    from harness.sandbox.errors import CRRError
    from harness.sandbox.store import Store

    store = Store(tmp_path / "crr.db")
    clock = Clock(store)
    with store.write() as conn:
        setup_plan(conn, clock)
        m = require_market(conn, "AUC_MN_2026_M03", clock)
        period = m.period("2026_M03")
        assert period is not None
        huge = holdings.grant(
            conn, "ECAL", NP15, SCE, 5000, "OBL", "ON", "2026_M03", "AUC", "OLD", period.start, period.end
        )
    body: dict[str, Any] = {"portfolioName": "one bid", "marketName": m.name, "participantName": "WCAL"}
    body["newBids"] = [
        {
            "assetOwner": "WCAL",
            "source": NP15,
            "sink": PGAE,
            "hedgeType": "OBL",
            "tou": "ON",
            "period": "2026_M03",
        }
        | {"crrType": "AUC", "bidCurve": [{"mw": 0, "price": 5}, {"mw": 10, "price": 5}]}
    ]
    raw = portfolios.upload_records(RULES, body)
    ctx = portfolios.CreateContext("WCAL", m, {})
    records = asyncio.run(portfolios.check_records(RULES, ctx, raw))
    with store.write() as conn:
        portfolios.insert(conn, RULES, m.name, "WCAL", "one bid", "SUBMITTED", raw, records, clock.now())
    with pytest.raises(CRRError) as refused, store.write() as conn:
        clear_market(conn, m, clock)
    assert (
        refused.value.code == "SER0030" and "BR_" in str(refused.value) and "overload" in str(refused.value)
    )
    with store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM clearing_runs").fetchone()[0] == 0
    with store.write() as conn:
        holdings.retire(conn, huge, 5_000_000)
        clear_market(conn, m, clock)
        assert conn.execute("SELECT COUNT(*) FROM clearing_runs").fetchone()[0] == 1
    store.close()


# --------------------------------------------------------------------------------------
# published results against published prices, over random bid sets (the whole market.clear)
# --------------------------------------------------------------------------------------
# a few hubs and load zones, so random bids meet on congested branches and marginal bids split
CROWDED = ["TH_NP15_GEN-APND", "TH_SP15_GEN-APND", "DLAP_SCE-APND", "DLAP_PGAE-APND", "SLAP_PGST-APND"]


@st.composite
def bid_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 12))):
        source, sink = draw(st.sampled_from(CROWDED)), draw(st.sampled_from(CROWDED))
        assume(source != sink)
        widths = draw(st.lists(st.integers(20, 500), min_size=1, max_size=4))
        prices = sorted(draw(st.lists(st.integers(-500, 4000), min_size=len(widths), max_size=len(widths))))[
            ::-1
        ]
        curve, mw = [{"mw": 0, "price": prices[0] / 100}], 0
        for w, p in zip(widths, prices, strict=True):
            mw += w
            curve.append({"mw": mw, "price": p / 100})
        owner = draw(st.sampled_from(["ECAL", "WCAL", "NCAL"]))
        tou = draw(st.sampled_from(["ON", "OFF"]))
        out.append(
            {"assetOwner": owner, "source": source, "sink": sink, "hedgeType": "OBL", "tou": tou}
            | {"period": "2026_M03", "crrType": "AUC", "bidCurve": curve}
        )
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(bid_sets())
def test_every_published_award_bid_at_least_its_published_price(
    tmp_path_factory: pytest.TempPathFactory, bids: list[dict[str, Any]]
) -> None:
    """What a valuation desk checks first, on the files' own numbers (prices to the cent, nodes to
    $0.0001): awarded MW bid at least the path's price, MW left out bid at most it, node prices
    add up to each path's within half a cent, nothing beyond a bid's MW."""
    from harness.sandbox.domain import portfolios
    from harness.sandbox.domain.auction import RULES
    from harness.sandbox.domain.clearing import clear_market
    from harness.sandbox.domain.clock import Clock
    from harness.sandbox.domain.markets import require_market
    from harness.sandbox.domain.plan import setup_plan
    from harness.sandbox.store import Store

    store = Store(tmp_path_factory.mktemp("random") / "crr.db")
    clock = Clock(store)
    with store.write() as conn:
        setup_plan(conn, clock)
        m = require_market(conn, "AUC_MN_2026_M03", clock)
    for owner in {b["assetOwner"] for b in bids}:
        body = {"portfolioName": "random", "marketName": m.name, "participantName": owner}
        body["newBids"] = [b for b in bids if b["assetOwner"] == owner]
        raw = portfolios.upload_records(RULES, body)
        ctx = portfolios.CreateContext(owner, m, {})
        records = asyncio.run(portfolios.check_records(RULES, ctx, raw))
        with store.write() as conn:
            portfolios.insert(conn, RULES, m.name, owner, "random", "SUBMITTED", raw, records, clock.now())
    with store.write() as conn:
        clear_market(conn, m, clock)
    with store.read() as conn:
        records = portfolios.submitted_records(conn, "auction", m.name)
        won = {r["record_id"]: r["mw_milli"] for r in conn.execute("SELECT * FROM clearing_awards")}
        paths = {
            tuple(r)[:5]: r[5]
            for r in conn.execute(
                "SELECT source, sink, tou, period, hedge_type, price_cents FROM clearing_prices"
            )
        }
        nodes = {(r[0], r[1]): r[2] for r in conn.execute("SELECT node, tou, price_e4 FROM clearing_nodes")}
    store.close()
    for r in records:
        price = paths[r.path]
        assert abs(price * 100 - (nodes[(r.sink, r.tou)] - nodes[(r.source, r.tou)])) <= 50
        curve = list(r.curve or ())
        got = won.get(r.record_id, 0)
        assert 0 <= got <= curve[-1][0]
        if got:
            assert price_at(curve, got) >= price, (r, got, price)
        if got < curve[-1][0]:
            assert price_at(curve, got + 1) <= price, (r, got, price)
