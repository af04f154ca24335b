"""CRRs held by scheduling coordinators: granted by clearing and the plan, traded in the
secondary market, and offered for sale in auctions.

MW are stored as integer thousandths (the contract's ``multipleOf: 0.001``) so splitting a
CRR never leaves floating-point dust: 10 MW minus 3.333 is exactly 6.667.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from harness.sandbox.errors import CRRError
from harness.sandbox.store import next_id, next_ids
from harness.sandbox.timefmt import iso, parse

CRR_ID_KIND = "crr"


def to_milli(mw: float | int | str | Decimal) -> int:
    """MW -> integer thousandths, exactly (refuses finer resolution)."""
    value = Decimal(str(mw)) * 1000
    if value != value.to_integral_value():
        raise ValueError(f"MW {mw} has more than 3 decimals")
    return int(value)


def from_milli(milli: int) -> float:
    return milli / 1000


@dataclass(frozen=True)
class CRR:
    crr_id: int
    owner: str
    source: str
    sink: str
    mw: float
    hedge_type: str
    tou: str
    period: str
    crr_type: str
    market: str
    start: datetime
    end: datetime
    parent_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"], d["end"] = iso(self.start), iso(self.end)
        return d


def _crr(row: sqlite3.Row) -> CRR:
    return CRR(
        crr_id=row["crr_id"],
        owner=row["owner"],
        source=row["source"],
        sink=row["sink"],
        mw=from_milli(row["mw_milli"]),
        hedge_type=row["hedge_type"],
        tou=row["tou"],
        period=row["period"],
        crr_type=row["crr_type"],
        market=row["market"],
        start=parse(row["start_date"]),
        end=parse(row["end_date"]),
        parent_id=row["parent_id"],
    )


def grant(
    conn: sqlite3.Connection,
    owner: str,
    source: str,
    sink: str,
    mw: float | int | str | Decimal,
    hedge_type: str,
    tou: str,
    period: str,
    crr_type: str,
    market: str,
    start: datetime,
    end: datetime,
    parent_id: int | None = None,
) -> int:
    """Give ``owner`` a new CRR; returns its id (the same sequence as ``Store.next_id(conn, "crr")``)."""
    crr_id = next_id(conn, CRR_ID_KIND)
    conn.execute(
        "INSERT INTO crr_holdings(crr_id, owner, source, sink, mw_milli, hedge_type, tou, period,"
        " crr_type, market, start_date, end_date, parent_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            crr_id,
            owner,
            source,
            sink,
            to_milli(mw),
            hedge_type,
            tou,
            period,
            crr_type,
            market,
            iso(start),
            iso(end),
            parent_id,
        ),
    )
    return crr_id


GrantRow = tuple[str, str, str, int, str, str, str, str, str, datetime, datetime, int | None]
"""(owner, source, sink, milli-MW, hedge type, TOU, period, CRR type, market, start, end, parent)."""


def grant_many(conn: sqlite3.Connection, rows: list[GrantRow]) -> list[int]:
    """``grant`` for many CRRs in one statement (a cleared auction grants tens of thousands);
    returns their ids, in order."""
    ids = next_ids(conn, CRR_ID_KIND, len(rows))
    conn.executemany(
        "INSERT INTO crr_holdings(crr_id, owner, source, sink, mw_milli, hedge_type, tou, period,"
        " crr_type, market, start_date, end_date, parent_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(i, *r[:9], iso(r[9]), iso(r[10]), r[11]) for i, r in zip(ids, rows, strict=True)],
    )
    return ids


def get_crr(conn: sqlite3.Connection, crr_id: int) -> CRR | None:
    row = conn.execute("SELECT * FROM crr_holdings WHERE crr_id = ?", (int(crr_id),)).fetchone()
    return None if row is None else _crr(row)


def holdings_of(conn: sqlite3.Connection, sc: str, period: str | None = None) -> list[CRR]:
    """The SC's CRRs with MW left (fully transferred ones are kept for history, not listed)."""
    sql = "SELECT * FROM crr_holdings WHERE owner = ? AND mw_milli > 0"
    args: list[Any] = [sc]
    if period is not None:
        sql += " AND period = ?"
        args.append(period)
    return [_crr(r) for r in conn.execute(sql + " ORDER BY crr_id", args)]


def held_for(conn: sqlite3.Connection, periods: list[str]) -> list[CRR]:
    """Every CRR with MW left for one of ``periods``: what baseloads a market's network."""
    marks = ",".join("?" * len(periods))
    sql = f"SELECT * FROM crr_holdings WHERE mw_milli > 0 AND period IN ({marks}) ORDER BY crr_id"
    return [_crr(r) for r in conn.execute(sql, periods)] if periods else []


def retire(conn: sqlite3.Connection, crr_id: int, milli: int) -> None:
    """Take ``milli`` thousandths of MW off a CRR: sold back to the network in an auction."""
    conn.execute(
        "UPDATE crr_holdings SET mw_milli = MAX(mw_milli - ?, 0) WHERE crr_id = ?", (int(milli), int(crr_id))
    )


def transfer(conn: sqlite3.Connection, crr_id: int, mw: float | int | str | Decimal, to_sc: str) -> int:
    """Move ``mw`` of a CRR to ``to_sc`` as a new CRR (parent = the original, which keeps the rest).

    Raises CRRError SER0030 if the CRR does not exist or holds less than ``mw``.
    """
    crr = get_crr(conn, crr_id)
    milli = to_milli(mw)
    if crr is None:
        raise CRRError("SER0030", f"CRR {crr_id} does not exist.")
    if milli <= 0 or milli > to_milli(crr.mw):
        raise CRRError("SER0030", f"CRR {crr_id} holds {crr.mw} MW; cannot transfer {mw} MW.")
    conn.execute("UPDATE crr_holdings SET mw_milli = mw_milli - ? WHERE crr_id = ?", (milli, crr.crr_id))
    return grant(
        conn,
        to_sc,
        crr.source,
        crr.sink,
        from_milli(milli),
        crr.hedge_type,
        crr.tou,
        crr.period,
        crr.crr_type,
        crr.market,
        crr.start,
        crr.end,
        parent_id=crr.crr_id,
    )
