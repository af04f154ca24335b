"""CRR Nomination service: allocation portfolios of LSE / OBAALSE nominations.

The lifecycle is ``portfolios``'s; what is particular to allocation markets:

* Windows are per tier: each tier is its own allocation market (``ALLOC_MN_2026_M03_T1``), so a
  nomination to a tier whose window is not open fails like any closed market: MKT0004 on
  upload, and the nomination contract's own codes for the other operations -- NOM0128 on
  submission, NOM0129 on retraction, SER0016 ("not allowed to remove") on deletion.
* Nomination caps bound what a participant may nominate per (sink, TOU, period, CRR type) in a
  market (``nomination_caps``; the Market Sim plan's "dummy MEQ/SEQ"). They are checked at
  submission over all the participant's submitted portfolios in the market, because that is
  when the total is known; going over turns the portfolio INVALID with one sentence per
  exceeded cap (the shape of the contract's own errorMessage example) and a 400 SER0030.
  A participant without any cap in the market is not eligible: NOM0128.
* An upload with invalid nominations is refused whole (the contract: an INVALID portfolio
  uploaded by API is not saved): SER0015 first, then one SER0030 per bad nomination.

Default caps (seeded for every allocation market on ``plan.setup``, or on first use of a
market that has none): LSE 100 MW per LAP sink, TOU and period for every plan participant;
OBAALSE 40 MW per LAP sink for SCAL only (the plan's one OBAA LSE). Other sinks have no cap,
i.e. 0 MW."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from harness.sandbox.domain import network, portfolios
from harness.sandbox.domain.markets import ALLOCATION, Market, get_market, list_markets
from harness.sandbox.domain.portfolios import CreateContext, PortfolioRules, Record, milli
from harness.sandbox.errors import CRRError

PLAN_PARTICIPANTS = ("ECAL", "WCAL", "NCAL", "SCAL", "YCAL")


DEFAULT_LSE_CAP_MW = 100


DEFAULT_OBAALSE_CAP_MW = 40


OBAALSE_PARTICIPANTS = ("SCAL",)


CapKey = tuple[str, str, str, str]  # (sink, tou, period, crr_type)


def set_cap(
    conn: sqlite3.Connection,
    market: str,
    participant: str,
    sink: str,
    tou: str,
    period: str,
    crr_type: str,
    mw: float,
) -> None:
    """Create or change one cap (for the control plane and tests)."""
    conn.execute(
        "INSERT INTO nomination_caps VALUES (?,?,?,?,?,?,?) ON CONFLICT(market, participant, sink, tou, period,"
        " crr_type) DO UPDATE SET cap_milli = excluded.cap_milli",
        (market, participant, sink, tou, period, crr_type, milli(mw)),
    )


def seed_default_caps(
    conn: sqlite3.Connection, market: Market, scs: Iterable[str] = PLAN_PARTICIPANTS
) -> None:
    sinks = [n.name for n in network.NODES if n.type == "LAP" and n.biddable]
    rows = []
    for sc in scs:
        for sink in sinks:
            for period in market.periods:
                for tou in market.tous:
                    rows.append((market.name, sc, sink, tou, period.name, "LSE", DEFAULT_LSE_CAP_MW * 1000))
                    if sc in OBAALSE_PARTICIPANTS:
                        rows.append(
                            (
                                market.name,
                                sc,
                                sink,
                                tou,
                                period.name,
                                "OBAALSE",
                                DEFAULT_OBAALSE_CAP_MW * 1000,
                            )
                        )
    conn.executemany("INSERT OR IGNORE INTO nomination_caps VALUES (?,?,?,?,?,?,?)", rows)


def ensure_caps(conn: sqlite3.Connection, market: Market) -> None:
    if (
        conn.execute("SELECT 1 FROM nomination_caps WHERE market = ? LIMIT 1", (market.name,)).fetchone()
        is None
    ):
        seed_default_caps(conn, market)


def caps_of(conn: sqlite3.Connection, market: str, participant: str) -> dict[CapKey, int]:
    rows = conn.execute(
        "SELECT sink, tou, period, crr_type, cap_milli FROM nomination_caps WHERE market = ? AND participant = ?",
        (market, participant),
    )
    return {(r[0], r[1], r[2], r[3]): int(r[4]) for r in rows}


def cap_problems(caps: dict[CapKey, int], totals: dict[CapKey, int], participant: str) -> list[str]:
    """One sentence per (sink, TOU, period, CRR type) whose nominated total is over the cap."""
    problems = []
    for (sink, tou, period, crr_type), total in sorted(totals.items()):
        cap = caps.get((sink, tou, period, crr_type), 0)
        if total > cap:
            problems.append(
                f"{participant} nominates {total / 1000:g} MW of {crr_type} to sink {sink} for period {period}"
                f" TOU {tou}, above its cap of {cap / 1000:g} MW"
            )
    return problems


def seed_plan(conn: sqlite3.Connection) -> None:
    """Default caps for every participant of the plan in each allocation market."""
    for market in list_markets(conn, ALLOCATION):
        seed_default_caps(conn, market)


class NominationRules(PortfolioRules):
    service = "nomination"
    market_type = ALLOCATION
    collections = (("NOMINATION", "newNominations", "nominations"),)
    id_field = "nominationId"
    record_fields = {
        "NOMINATION": (
            "assetOwner",
            "source",
            "sink",
            "hedgeType",
            "tou",
            "period",
            "crrType",
            "mw",
            "description",
        )
    }
    closed_codes = {"create": "MKT0004", "submit": "NOM0128", "retract": "NOM0129", "delete": "SER0016"}
    in_error_code = "NOM0101"
    creation_failed_code = "SER0015"
    key_properties = ("assetOwner", "source", "sink", "hedgeType", "tou", "period", "crrType", "mw")

    def parse(self, side: str, raw: dict[str, Any], ctx: CreateContext) -> tuple[Record | None, list[str]]:
        problems = self.location_problems(raw, ctx, side)
        mw = milli(raw.get("mw", 0))
        if mw <= 0:
            problems.append("mw must be more than 0")
        if raw.get("crrType") not in ("LSE", "OBAALSE"):
            problems.append(f"crrType {raw.get('crrType')} cannot be nominated; use LSE or OBAALSE")
        if problems:
            return None, problems
        return Record(
            side=side,
            asset_owner=raw["assetOwner"],
            source=raw["source"],
            sink=raw["sink"],
            hedge_type=raw["hedgeType"],
            tou=raw["tou"],
            period=raw["period"],
            crr_type=raw["crrType"],
            mw_milli=mw,
        ), []

    def refuse_submission(self, conn: sqlite3.Connection, portfolio: sqlite3.Row) -> None:
        market = get_market(conn, portfolio["market"])
        if market is not None:
            ensure_caps(conn, market)
        if not caps_of(conn, portfolio["market"], portfolio["participant"]):
            raise CRRError("NOM0128", portfolio["name"])

    def submission_errors(
        self, conn: sqlite3.Connection, portfolio: sqlite3.Row, records: list[Record]
    ) -> list[str]:
        participant = portfolio["participant"]
        totals: dict[CapKey, int] = defaultdict(int)
        already = portfolios.submitted_records(
            conn, self.service, portfolio["market"], "p.participant = ?", (participant,)
        )
        for r in (*already, *records):
            totals[(r.sink, r.tou, r.period, r.crr_type)] += r.mw_milli
        touched = {(r.sink, r.tou, r.period, r.crr_type) for r in records}
        return cap_problems(
            caps_of(conn, portfolio["market"], participant),
            {k: v for k, v in totals.items() if k in touched},
            participant,
        )


RULES = NominationRules()
