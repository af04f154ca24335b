"""CRR markets and their lifecycle, driven by the simulated clock.

A market's status is computed, not stored, so advancing the clock moves every market at once:
PREP before its window opens, OPEN inside it, CLOSED after it, POSTED once results are posted.
The operator may pin a status (``status_override``) for scripted exceptions; posting always
wins.
"""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from harness.sandbox.domain.windows import scheduled_status
from harness.sandbox.errors import CRRError
from harness.sandbox.store import dumps, loads
from harness.sandbox.timefmt import iso, parse

if TYPE_CHECKING:
    from harness.sandbox.domain.clock import Clock

ALLOCATION = "ALLOCATION"
AUCTION = "AUCTION"
MONTHLY = "MONTHLY"
ANNUAL = "ANNUAL"
STATUSES = ("PREP", "OPEN", "CLOSED", "POSTED")
MARKET_TYPES = (ALLOCATION, AUCTION)
MARKET_TERMS = (MONTHLY, ANNUAL)


@dataclass(frozen=True)
class Period:
    name: str
    start: datetime
    end: datetime

    def to_contract(self) -> dict[str, str]:
        return {"name": self.name, "startDate": iso(self.start), "endDate": iso(self.end)}


@dataclass(frozen=True)
class Market:
    name: str
    market_type: str  # ALLOCATION | AUCTION
    term: str  # MONTHLY | ANNUAL
    periods: tuple[Period, ...]
    tous: tuple[str, ...]
    open_date: datetime
    close_date: datetime
    data_publish_date: datetime
    tier: int | None = None
    status_override: str | None = None
    posted_at: datetime | None = None
    status: str = field(default="PREP", compare=False)  # computed against the clock at load time

    def status_at(self, now: datetime) -> str:
        """The same rule as every other scheduled window (``windows.scheduled_status``)."""
        return scheduled_status(
            now,
            ((self.open_date, "PREP"), (self.close_date, "OPEN")),
            "CLOSED",
            self.status_override,
            self.posted_at,
        )

    def period(self, name: str) -> Period | None:
        return next((p for p in self.periods if p.name == name), None)

    def to_contract(self) -> dict[str, Any]:
        """The contract's ``Market`` object, with exactly its properties."""
        return {
            "name": self.name,
            "marketType": self.market_type,
            "marketTerm": self.term,
            "dataPublishDate": iso(self.data_publish_date),
            "submissionWindow": {"openDate": iso(self.open_date), "closeDate": iso(self.close_date)},
            "products": [{"period": p.to_contract(), "tou": tou} for p in self.periods for tou in self.tous],
        }


def _row_to_market(row: sqlite3.Row, now: datetime) -> Market:
    """The row as a Market with its status at ``now``.

    Parsing the row (JSON periods, six timestamps) was a sixth of a portfolio list request, so the
    parsed market is memoised on the row's values: any change to the row (window, override,
    posting, by this process, another worker or the control plane) is a different key, so there
    is nothing to invalidate. The status is computed afresh each time (the clock moves).
    """
    key = tuple(row)
    base = _PARSED.get(key)
    if base is None:
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        base = _PARSED[key] = _parse_row(row)
    market = copy.copy(base)
    object.__setattr__(market, "status", market.status_at(now))
    return market


_PARSED: dict[tuple[Any, ...], Market] = {}
_PARSED_LIMIT = 1024


def _parse_row(row: sqlite3.Row) -> Market:
    return Market(
        name=row["name"],
        market_type=row["market_type"],
        term=row["term"],
        periods=tuple(Period(n, parse(s), parse(e)) for n, s, e in loads(row["periods"])),
        tous=tuple(loads(row["tous"])),
        open_date=parse(row["open_date"]),
        close_date=parse(row["close_date"]),
        data_publish_date=parse(row["data_publish_date"]),
        tier=row["tier"],
        status_override=row["status_override"],
        posted_at=parse(row["posted_at"]) if row["posted_at"] else None,
    )


def _now(conn: sqlite3.Connection, clock: Clock | None) -> datetime:
    """Status is always computed against the simulated clock stored alongside the markets."""
    from harness.sandbox.domain.clock import now_from

    return clock.now() if clock is not None else now_from(conn)


def create_market(conn: sqlite3.Connection, market: Market, replace: bool = True) -> Market:
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    if market.market_type not in MARKET_TYPES or market.term not in MARKET_TERMS:
        raise ValueError(f"bad market type/term {market.market_type}/{market.term}")
    conn.execute(
        f"{verb} INTO markets(name, market_type, term, periods, tous, open_date, close_date,"
        " data_publish_date, tier, status_override, posted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            market.name,
            market.market_type,
            market.term,
            dumps([[p.name, iso(p.start), iso(p.end)] for p in market.periods]),
            dumps(list(market.tous)),
            iso(market.open_date),
            iso(market.close_date),
            iso(market.data_publish_date),
            market.tier,
            market.status_override,
            iso(market.posted_at) if market.posted_at else None,
        ),
    )
    return market


def get_market(conn: sqlite3.Connection, name: str, clock: Clock | None = None) -> Market | None:
    row = conn.execute("SELECT * FROM markets WHERE name = ?", (name,)).fetchone()
    return None if row is None else _row_to_market(row, _now(conn, clock))


def list_markets(
    conn: sqlite3.Connection,
    market_type: str | None = None,
    statuses: Iterable[str] | None = None,
    clock: Clock | None = None,
) -> list[Market]:
    """Markets of a type (all if None), optionally only those whose status is in ``statuses``."""
    if market_type:
        rows = conn.execute(
            "SELECT * FROM markets WHERE market_type = ? ORDER BY open_date, name", (market_type,)
        )
    else:
        rows = conn.execute("SELECT * FROM markets ORDER BY open_date, name")
    now = _now(conn, clock)
    markets = [_row_to_market(r, now) for r in rows]
    if statuses is not None:
        wanted = set(statuses)
        markets = [m for m in markets if m.status in wanted]
    return markets


def require_market(conn: sqlite3.Connection, name: str, clock: Clock | None = None) -> Market:
    market = get_market(conn, name, clock)
    if market is None:
        raise CRRError("MKT0001", name)
    return market


def require_open(conn: sqlite3.Connection, clock: Clock, name: str, market_type: str | None = None) -> Market:
    """The market, if it exists, is of ``market_type`` and its submission window is open now."""
    market = require_market(conn, name, clock)
    if market_type is not None and market.market_type != market_type:
        raise CRRError("SER0005", name)
    if market.status != "OPEN":
        raise CRRError("MKT0004", name)
    return market


def set_window(
    conn: sqlite3.Connection,
    name: str,
    open_date: datetime | None = None,
    close_date: datetime | None = None,
    status_override: str | None = None,
    clear_override: bool = True,
) -> None:
    sets: list[str] = []
    args: list[str | None] = []
    if open_date is not None:
        sets.append("open_date = ?")
        args.append(iso(open_date))
    if close_date is not None:
        sets.append("close_date = ?")
        args.append(iso(close_date))
    if status_override is not None or clear_override:
        sets.append("status_override = ?")
        args.append(status_override)
    if sets:
        conn.execute(f"UPDATE markets SET {', '.join(sets)} WHERE name = ?", (*args, name))


def post_results(conn: sqlite3.Connection, name: str, when: datetime | None = None) -> None:
    """Mark results posted (at ``when``, default the simulated now); the market reads POSTED."""
    conn.execute("UPDATE markets SET posted_at = ? WHERE name = ?", (iso(when or _now(conn, None)), name))


def unpost(conn: sqlite3.Connection, name: str) -> None:
    conn.execute("UPDATE markets SET posted_at = NULL WHERE name = ?", (name,))
