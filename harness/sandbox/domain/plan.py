"""The Market Sim plan as data: its markets on a calendar of structured weeks.

Week 1 runs the monthly process for March 2026 (tier-1 allocation closing Wednesday, auction
closing Thursday); week 2 the annual process, as in CAISO's deck: the tier-1 allocation opens
after Monday's CRR-team setup and closes Wednesday, the annual auction opens Wednesday and stays
open through Thursday's participant-requested scenarios. Windows are 09:00-17:00 Pacific, like
CAISO's. Everything is relative to ``base`` (the week-1 Monday at
00:00 Pacific) so a team can rehearse the same plan on any dates.

``setup_plan`` also sets the simulated clock to ``base`` (frozen: every market is PREP), gives
each participant the Market Sim credit limit, seeds holdings so sell offers and secondary
trades are possible from day one, and seeds what the other rules need for the plan: load
submission windows, load migration markets, TOR conversion windows and nomination caps.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from harness.sandbox.domain import holdings, load, load_migration, nomination, participants, tor
from harness.sandbox.domain.clock import Clock
from harness.sandbox.domain.markets import ALLOCATION, ANNUAL, AUCTION, MONTHLY, Market, Period, create_market

PACIFIC = ZoneInfo("America/Los_Angeles")
SIM_WEEK1_MONDAY = datetime(2026, 2, 2, 0, 0, tzinfo=PACIFIC).astimezone(UTC)
TOUS = ("ON", "OFF")
PLAN_PARTICIPANTS = ("ECAL", "WCAL", "NCAL", "SCAL", "YCAL")
SEED_MARKET = "AUC_LT_2026_SEED"  # where seeded holdings say they came from (not a plan market)


@dataclass(frozen=True)
class PlanMarket:
    name: str
    market_type: str
    term: str
    tier: int | None
    periods: tuple[str, ...]
    publish: tuple[int, int]  # (day offset from base, hour Pacific)
    open: tuple[int, int]
    close: tuple[int, int]


ALLOC_MN = "ALLOC_MN_2026_M03_T1"
AUC_MN = "AUC_MN_2026_M03"
ALLOC_AN = "ALLOC_AN_2026_T1"
AUC_AN = "AUC_AN_2026"

PLAN_MARKETS: tuple[PlanMarket, ...] = (
    PlanMarket(ALLOC_MN, ALLOCATION, MONTHLY, 1, ("2026_M03",), (0, 7), (0, 9), (2, 17)),
    PlanMarket(AUC_MN, AUCTION, MONTHLY, None, ("2026_M03",), (1, 7), (1, 9), (3, 17)),
    PlanMarket(
        ALLOC_AN,
        ALLOCATION,
        ANNUAL,
        1,
        ("2026_S01", "2026_S02", "2026_S03", "2026_S04"),
        (7, 7),
        (7, 9),
        (9, 17),
    ),
    PlanMarket(
        AUC_AN,
        AUCTION,
        ANNUAL,
        None,
        ("2026_S01", "2026_S02", "2026_S03", "2026_S04"),
        (8, 7),
        (9, 9),
        (10, 17),
    ),
)

# (owner, source, sink, MW, TOU, period): monthly CRRs to sell in week 1, seasonal ones (from
# an earlier long-term process) to sell in the week-2 annual auction
SEED_HOLDINGS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("ECAL", "TH_NP15_GEN-APND", "DLAP_PGAE-APND", "25", "ON", "2026_M03"),
    ("ECAL", "TH_SP15_GEN-APND", "DLAP_SCE-APND", "10.5", "OFF", "2026_M03"),
    ("WCAL", "TH_SP15_GEN-APND", "DLAP_SDGE-APND", "15", "ON", "2026_M03"),
    ("WCAL", "TH_ZP26_GEN-APND", "SLAP_PGST-APND", "8", "OFF", "2026_M03"),
    ("NCAL", "TH_NP15_GEN-APND", "SLAP_PGST-APND", "20", "ON", "2026_M03"),
    ("NCAL", "DIABLO_7_N001", "DLAP_PGAE-APND", "12.25", "OFF", "2026_M03"),
    ("ECAL", "TH_NP15_GEN-APND", "DLAP_PGAE-APND", "30", "ON", "2026_S01"),
    ("ECAL", "TH_SP15_GEN-APND", "DLAP_SCE-APND", "12", "OFF", "2026_S02"),
    ("WCAL", "TH_SP15_GEN-APND", "DLAP_SDGE-APND", "18", "ON", "2026_S01"),
    ("WCAL", "TH_ZP26_GEN-APND", "SLAP_PGST-APND", "9.5", "OFF", "2026_S03"),
    ("NCAL", "TH_NP15_GEN-APND", "SLAP_PGST-APND", "22", "ON", "2026_S02"),
)


def period_bounds(name: str) -> tuple[datetime, datetime]:
    """``2026_M03`` / ``2026_S02`` -> (start, end) in UTC; end is the last second, CAISO style."""
    year, kind = int(name[:4]), name[5]
    n = int(name[6:])
    first_month = n if kind == "M" else 3 * (n - 1) + 1
    months = 1 if kind == "M" else 3
    start = datetime(year, first_month, 1, tzinfo=PACIFIC)
    end_month = first_month + months
    end = datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1, tzinfo=PACIFIC)
    return start.astimezone(UTC), end.astimezone(UTC) - timedelta(seconds=1)


def _at(base: datetime, day_hour: tuple[int, int]) -> datetime:
    local = base.astimezone(PACIFIC) + timedelta(days=day_hour[0])
    return local.replace(hour=day_hour[1]).astimezone(UTC)


def plan_market(pm: PlanMarket, base: datetime = SIM_WEEK1_MONDAY) -> Market:
    return Market(
        name=pm.name,
        market_type=pm.market_type,
        term=pm.term,
        periods=tuple(Period(p, *period_bounds(p)) for p in pm.periods),
        tous=TOUS,
        open_date=_at(base, pm.open),
        close_date=_at(base, pm.close),
        data_publish_date=_at(base, pm.publish),
        tier=pm.tier,
    )


def setup_plan(conn: sqlite3.Connection, clock: Clock, base: datetime | None = None) -> list[Market]:
    """(Re)create the plan's markets, set the clock to week 1 Monday, seed credit and holdings.

    Idempotent: re-running resets the plan markets' windows and posting, and does not seed
    holdings twice.
    """
    base = base or SIM_WEEK1_MONDAY
    clock.set(base)
    markets = [create_market(conn, plan_market(pm, base)) for pm in PLAN_MARKETS]
    for sc in PLAN_PARTICIPANTS:
        participants.set_credit_limit(conn, sc)
    already = conn.execute("SELECT 1 FROM crr_holdings WHERE market = ? LIMIT 1", (SEED_MARKET,)).fetchone()
    if not already:
        for owner, source, sink, mw, tou, period in SEED_HOLDINGS:
            start, end = period_bounds(period)
            holdings.grant(conn, owner, source, sink, mw, "OBL", tou, period, "AUC", SEED_MARKET, start, end)
    now = clock.now()
    load.seed_plan(conn, now)
    load_migration.seed_plan(conn, now)
    tor.seed_plan(conn, now)
    nomination.seed_plan(conn)
    return markets


def reset_plan(conn: sqlite3.Connection, clock: Clock, base: datetime | None = None) -> list[Market]:
    """Empty every table, then set the plan up: the state a rehearsal starts from.

    Scenarios use it so each one sets up what it needs and passes alone, in any selection and
    in any order; nothing one scenario leaves behind can make another pass (or fail).
    """
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for table in tables:
        conn.execute(f'DELETE FROM "{table}"')  # noqa: S608 - names from sqlite_master
    return setup_plan(conn, clock, base)
