"""Store, clock, markets, holdings and plan, exercised on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.sandbox.domain import holdings, markets, network, plan
from harness.sandbox.domain.clock import Clock
from harness.sandbox.errors import CRRError
from harness.sandbox.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def test_wal_and_synchronous(store: Store):
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_write_rolls_back_on_error_and_ids_are_monotonic(store: Store):
    with store.write() as conn:
        assert [store.next_id(conn, "bid") for _ in range(3)] == [1, 2, 3]
    with pytest.raises(RuntimeError), store.write() as conn:
        store.next_id(conn, "bid")
        raise RuntimeError("boom")
    with store.write() as conn, store.write() as inner:  # nested writes join the outer one
        assert inner is conn
        assert store.next_id(conn, "bid") == 4
        assert store.next_id(conn, "crr", start=1000) == 1000


def test_clock_defaults_to_real_time_then_freezes(store: Store):
    clock = Clock(store)
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5 and not clock.is_simulated
    clock.set(datetime(2026, 2, 2, 8, tzinfo=UTC))
    assert clock.now() == datetime(2026, 2, 2, 8, tzinfo=UTC)
    assert clock.advance(timedelta(days=1)) == datetime(2026, 2, 3, 8, tzinfo=UTC)
    reopened = Clock(Store(store.path))  # persisted, shared by every process on the file
    assert reopened.now() == datetime(2026, 2, 3, 8, tzinfo=UTC)


def test_plan_markets_and_status(store: Store):
    clock = Clock(store)
    with store.write() as conn:
        plan.setup_plan(conn, clock)
        plan.setup_plan(conn, clock)  # idempotent
    with store.read() as conn:
        assert [m.status for m in markets.list_markets(conn)] == ["PREP"] * 4
        seeded = [c for c in holdings.holdings_of(conn, "ECAL") if c.market == plan.SEED_MARKET]
        expected = [h for h in plan.SEED_HOLDINGS if h[0] == "ECAL"]
        assert len(seeded) == len(expected) == 4  # seeded once although the plan was set up twice
        with pytest.raises(CRRError) as err:
            markets.require_open(conn, clock, plan.AUC_MN, markets.AUCTION)
        assert err.value.code == "MKT0004"
        with pytest.raises(CRRError) as err:
            markets.require_market(conn, "NOPE")
        assert err.value.code == "MKT0001"
    clock.set(datetime(2026, 2, 4, 18, tzinfo=UTC))
    with store.read() as conn:
        assert markets.require_open(conn, clock, plan.AUC_MN, markets.AUCTION).name == plan.AUC_MN
        assert markets.require_market(conn, plan.AUC_MN).status == "OPEN"  # clock read from the store


def test_period_bounds_follow_pacific_time():
    assert plan.period_bounds("2026_M03") == (
        datetime(2026, 3, 1, 8, tzinfo=UTC),
        datetime(2026, 4, 1, 6, 59, 59, tzinfo=UTC),
    )
    assert plan.period_bounds("2026_S04")[1] == datetime(2027, 1, 1, 7, 59, 59, tzinfo=UTC)
    assert plan.SIM_WEEK1_MONDAY.weekday() == 0


def test_transfer_splits_exactly(store: Store):
    start, end = plan.period_bounds("2026_M03")
    with store.write() as conn:
        crr = holdings.grant(
            conn,
            "ECAL",
            "TH_NP15_GEN-APND",
            "DLAP_PGAE-APND",
            "10",
            "OBL",
            "ON",
            "2026_M03",
            "AUC",
            "X",
            start,
            end,
        )
        part = holdings.transfer(conn, crr, "3.333", "WCAL")
        assert holdings.get_crr(conn, crr).mw == 6.667
        assert holdings.get_crr(conn, part).owner == "WCAL" and holdings.get_crr(conn, part).parent_id == crr
        with pytest.raises(CRRError):
            holdings.transfer(conn, crr, "6.668", "WCAL")
        holdings.transfer(conn, crr, "6.667", "NCAL")
        assert [c.crr_id for c in holdings.holdings_of(conn, "ECAL")] == []


def test_network_nodes():
    assert network.is_node("DLAP_PGAE-APND") and network.is_node("TH_ZP26_GEN-APND")
    assert not network.is_node("NOWHERE") and len(network.NODES) >= 20
    assert not network.biddable("SONGS_2_N101")
