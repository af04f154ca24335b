"""Load migration: monthly load migration markets, UDC uploads (number of customers, DASR
summaries, customer rates), load percentages, the allocated CRRs that move between LSEs, and
N-hour data. The rules behind the load_migration service, on plain values."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from harness.sandbox.domain.load import PACIFIC, local_midnight
from harness.sandbox.domain.messages import publish
from harness.sandbox.domain.windows import scheduled_status
from harness.sandbox.errors import CRRError, raise_all
from harness.sandbox.timefmt import iso, parse

SERVICE = "load_migration"


ALLOCATED_TYPES = ("LSE", "OBAALSE")


UDCS: dict[str, tuple[str, str]] = {  # UDC -> (owning SC, its default load aggregation point)
    "UPGAE": ("ECAL", "DLAP_PGAE-APND"),
    "USCE": ("WCAL", "DLAP_SCE-APND"),
    "USDGE": ("NCAL", "DLAP_SDGE-APND"),
}


LSES: dict[str, tuple[str, str]] = {  # DUNS -> (LSE name, SC acting for it)
    "111111111": ("LSE_ECAL", "ECAL"),
    "222222222": ("LSE_WCAL", "WCAL"),
    "333333333": ("LSE_NCAL", "NCAL"),
    "444444444": ("LSE_SCAL", "SCAL"),
    "555555555": ("LSE_YCAL", "YCAL"),
}


@dataclass(frozen=True)
class LMMarket:
    name: str
    effective: datetime
    open_date: datetime
    close_date: datetime
    nhour_posting: str
    nhour_post_date: datetime | None
    status_override: str | None
    posted_at: datetime | None

    def status(self, now: datetime) -> str:
        return scheduled_status(
            now,
            ((self.open_date, "PREP"), (self.close_date, "OPEN")),
            "CLOSED",
            self.status_override,
            self.posted_at,
        )

    def to_contract(self, now: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {
            "marketName": self.name,
            "effectiveDate": iso(self.effective),
            "nHourDataPosting": self.nhour_posting,
        }
        if self.nhour_post_date is not None:
            out["nHourDataPostDate"] = iso(self.nhour_post_date)
        out["submissionWindow"] = {"openDate": iso(self.open_date), "closeDate": iso(self.close_date)}
        out["marketStatus"] = self.status(now)
        return out


def _market(row: sqlite3.Row) -> LMMarket:
    return LMMarket(
        row["name"],
        parse(row["effective_date"]),
        parse(row["open_date"]),
        parse(row["close_date"]),
        row["nhour_posting"],
        parse(row["nhour_post_date"]) if row["nhour_post_date"] else None,
        row["status_override"],
        parse(row["posted_at"]) if row["posted_at"] else None,
    )


def save_market(conn: sqlite3.Connection, m: LMMarket) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO lm_markets VALUES (?,?,?,?,?,?,?,?)",
        (
            m.name,
            iso(m.effective),
            iso(m.open_date),
            iso(m.close_date),
            m.nhour_posting,
            iso(m.nhour_post_date) if m.nhour_post_date else None,
            m.status_override,
            iso(m.posted_at) if m.posted_at else None,
        ),
    )


def all_markets(conn: sqlite3.Connection) -> list[LMMarket]:
    return [_market(r) for r in conn.execute("SELECT * FROM lm_markets ORDER BY effective_date, name")]


def require_market(conn: sqlite3.Connection, name: str) -> LMMarket:
    row = conn.execute("SELECT * FROM lm_markets WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise CRRError("LMV1003", name)
    return _market(row)


def set_market_status(conn: sqlite3.Connection, name: str, status: str | None) -> None:
    require_market(conn, name)
    conn.execute("UPDATE lm_markets SET status_override = ? WHERE name = ?", (status, name))


def calendar(conn: sqlite3.Connection, now: datetime) -> list[tuple[str, datetime, str]]:
    """(event key, instant, notice) for every transition of the load migration windows (domain.calendar)."""
    events = []
    for m in all_markets(conn):
        events.append(
            (f"lm:{m.name}:opened", m.open_date, f"Load migration market {m.name} is open for UDC data.")
        )
        events.append(
            (f"lm:{m.name}:closed", m.close_date, f"Load migration market {m.name} is closed for UDC data.")
        )
        if m.posted_at is not None:
            events.append(
                (f"lm:{m.name}:posted", m.posted_at, f"Load migration results of {m.name} are posted.")
            )
    return events


def udc_of(sc: str) -> str:
    for udc, (owner, _) in UDCS.items():
        if owner == sc:
            return udc
    raise CRRError("SEC0001", sc)


def check_udc(sc: str, udc: str) -> None:
    if UDCS.get(udc, ("", ""))[0] != sc:
        raise CRRError("LMV024", udc)


def lse_errors(records: list[dict[str, Any]], *fields: str) -> list[CRRError]:
    errors = []
    for n, rec in enumerate(records, start=1):
        for f in fields:
            if rec[f] not in LSES:
                errors.append(
                    CRRError("SER0030", f"Record {n}: LSE {rec[f]} is not registered in the CRR system.")
                )
    return errors


def season_of(instant: datetime) -> int:
    return (instant.astimezone(PACIFIC).month - 1) // 3 + 1


def compute_transfers(
    conn: sqlite3.Connection, market: str
) -> list[tuple[str, str, str, int, str, float, float]]:
    """(udc, fromDUNS, toDUNS, season, tou, percentage, MW) from the UDC data of a market."""
    rates: dict[tuple[str, str, str, int], float] = {
        (r["udc"], r["class"], r["tou"], r["season"]): r["kw_milli"] / 1000
        for r in conn.execute("SELECT * FROM lm_rates WHERE market = ?", (market,))
    }
    customers: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for r in conn.execute("SELECT * FROM lm_customers WHERE market = ?", (market,)):
        customers[(r["udc"], r["lse"])][r["class"]] = r["num"]
    moved: dict[tuple[str, str, str, int, str], float] = defaultdict(float)
    base_load: dict[tuple[str, str, int, str], float] = {}
    for d in conn.execute("SELECT * FROM lm_dasr WHERE market = ? ORDER BY record_id", (market,)):
        for season in (1, 2, 3, 4):
            for tou in ("ON", "OFF"):
                rate = rates.get((d["udc"], d["class"], tou, season))
                if rate is None:
                    continue
                moved[(d["udc"], d["from_lse"], d["to_lse"], season, tou)] += d["num"] * rate / 1000
                key = (d["udc"], d["from_lse"], season, tou)
                if key not in base_load:
                    base_load[key] = sum(
                        n * rates.get((d["udc"], cls, tou, season), 0.0) / 1000
                        for cls, n in customers.get((d["udc"], d["from_lse"]), {}).items()
                    )
    out = []
    for (udc, f, t, season, tou), mw in sorted(moved.items()):
        base = base_load.get((udc, f, season, tou), 0.0)
        pct = 100.0 if base <= 0 else min(100.0, 100.0 * mw / base)
        out.append((udc, f, t, season, tou, round(pct, 6), round(mw, 6)))
    return out


def post_market(conn: sqlite3.Connection, name: str, now: datetime) -> None:
    """Post a load-migration market: percentages, load-migration CRRs, notices."""
    from harness.sandbox.domain import holdings

    market = require_market(conn, name)
    if market.posted_at is not None:
        raise CRRError("SER0030", f"Load migration market {name} is already posted.")
    conn.execute("DELETE FROM lm_percentages WHERE market = ?", (name,))
    involved: set[str] = set()
    for udc, f, t, season, tou, pct, mw in compute_transfers(conn, name):
        from_name, from_ao = LSES[f]
        to_name, to_ao = LSES[t]
        involved |= {from_ao, to_ao}
        conn.execute(
            "INSERT INTO lm_percentages(market, udc, from_lse, to_lse, from_ao, to_ao, season, tou, pct, mw)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (name, udc, from_name, to_name, from_ao, to_ao, season, tou, pct, mw),
        )
        dlap = UDCS[udc][1]
        for crr in holdings.holdings_of(conn, from_ao):
            if (
                crr.sink != dlap
                or crr.tou != tou
                or crr.crr_type not in ALLOCATED_TYPES
                or crr.end <= market.effective
                or season_of(crr.start) != season
            ):
                continue
            milli = int(crr.mw * 1000 * pct / 100)
            if milli < 1:
                continue
            start = max(crr.start, market.effective)
            for owner, src, snk, ctype in (
                (to_ao, crr.source, crr.sink, "LSE_LMT"),
                (from_ao, crr.sink, crr.source, "LMT_CNT"),
            ):
                crr_id = holdings.grant(
                    conn,
                    owner,
                    src,
                    snk,
                    milli / 1000,
                    crr.hedge_type,
                    tou,
                    crr.period,
                    ctype,
                    name,
                    start,
                    crr.end,
                    parent_id=crr.crr_id,
                )
                conn.execute(
                    "INSERT INTO lm_crrs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        name,
                        crr_id,
                        crr.crr_id,
                        owner,
                        src,
                        snk,
                        tou,
                        iso(start),
                        iso(crr.end),
                        ctype,
                        milli / 1000,
                    ),
                )
    conn.execute(
        "UPDATE lm_markets SET posted_at = ?, status_override = NULL WHERE name = ?", (iso(now), name)
    )
    if involved:
        publish(
            conn,
            now,
            f"Load migration results of {name} include transfers for you.",
            to=sorted(involved),
            event_key=f"lm:{name}:results",
        )


def _first_of_month(today: date, months_ahead: int) -> datetime:
    m = today.month - 1 + months_ahead
    return local_midnight(date(today.year + m // 12, m % 12 + 1, 1))


def _name(effective: datetime) -> str:
    local = effective.astimezone(PACIFIC)
    return f"LOAD_MIGRATION_{local.year}_M{local.month:02d}"


def plan_markets(now: datetime) -> list[LMMarket]:
    today = now.astimezone(PACIFIC).date()
    day = timedelta(days=1)
    this, nxt, later = (_first_of_month(today, k) for k in (0, 1, 2))
    return [
        LMMarket(_name(this), this, now - 30 * day, now - 15 * day, "No", None, None, None),
        LMMarket(_name(nxt), nxt, now - day, now + 5 * day, "Yes", now - 2 * day, None, None),
        LMMarket(_name(later), later, now + 20 * day, now + 30 * day, "No", None, None, None),
    ]


SEED_MARKET = "ALLOC_LT_2026_SEED"  # where the seeded allocated CRR says it came from


def seed_allocated_crr(conn: sqlite3.Connection, market: LMMarket) -> None:
    """ECAL holds an allocated CRR at its UDC's DLAP so posting the open market migrates something."""
    from harness.sandbox.domain import holdings

    if conn.execute("SELECT 1 FROM crr_holdings WHERE market = ? LIMIT 1", (SEED_MARKET,)).fetchone():
        return
    local = market.effective.astimezone(PACIFIC)
    period = f"{local.year}_M{local.month:02d}"
    end = local_midnight(date(local.year + (local.month == 12), local.month % 12 + 1, 1))
    holdings.grant(
        conn,
        "ECAL",
        "TH_NP15_GEN-APND",
        UDCS["UPGAE"][1],
        40,
        "OBL",
        "ON",
        period,
        "LSE",
        SEED_MARKET,
        market.effective,
        end,
    )


def seed_plan(conn: sqlite3.Connection, now: datetime) -> None:
    markets = plan_markets(now)
    for m in markets:
        save_market(conn, m)
    posted, open_ = markets[0], markets[1]
    stamp = iso(now - timedelta(days=20))
    # a posted market with a small transfer so percentages are non-empty
    conn.execute(
        "INSERT OR REPLACE INTO lm_customers VALUES (?,?,?,?,?,?)",
        (posted.name, "UPGAE", "111111111", "RESIDENTIAL", 1000, stamp),
    )
    conn.execute(
        "INSERT OR REPLACE INTO lm_dasr VALUES (?,?,?,?,?,?,?,?)",
        (posted.name, "UPGAE", "PLAN-1", "RESIDENTIAL", "111111111", "222222222", 50, stamp),
    )
    for season in (1, 2, 3, 4):
        for tou, kw in (("ON", 1500), ("OFF", 900)):
            conn.execute(
                "INSERT OR REPLACE INTO lm_rates VALUES (?,?,?,?,?,?,?,?,?)",
                (posted.name, "UPGAE", "RESIDENTIAL", tou, season, now.year - 1, kw, stamp, stamp),
            )
    post_market(conn, posted.name, now - timedelta(days=10))
    seed_allocated_crr(conn, open_)
    # N-hour data for the open market: the top load hours per DLAP, season and TOU
    season = season_of(open_.effective)
    conn.execute("DELETE FROM lm_nhour WHERE market = ?", (open_.name,))
    for _, dlap in UDCS.values():
        for offset, (tou, he) in enumerate((("ON", 17), ("ON", 18), ("OFF", 23))):
            eff = open_.effective - timedelta(days=365 - 7 * offset)
            conn.execute(
                "INSERT INTO lm_nhour VALUES (?,?,?,?,?,?,?)",
                (
                    open_.name,
                    dlap,
                    season,
                    tou,
                    iso(local_midnight(eff.astimezone(PACIFIC).date())),
                    he,
                    iso(now - 2 * timedelta(days=1)),
                ),
            )


# -- what the service's operations do, on plain values ----------------------------------------


def open_for_udc(conn: sqlite3.Connection, sc: str, market_name: str, udc: str, now: datetime) -> LMMarket:
    """The market ``sc`` submits ``udc``'s data to: known, the UDC ``sc``'s own, its window open
    (LMV0102 otherwise)."""
    market = require_market(conn, market_name)
    check_udc(sc, udc)
    if market.status(now) != "OPEN":
        raise CRRError("LMV0102", market.name)
    return market


def submit_customers(
    conn: sqlite3.Connection, market: LMMarket, udc: str, records: list[dict[str, Any]], now: datetime
) -> None:
    """Upsert by LSE and class; a count of 0 removes the record. Unknown LSEs refuse the batch."""
    raise_all(lse_errors(records, "lse"))
    for rec in records:
        key = (market.name, udc, rec["lse"], rec["class"])
        if int(rec["numberOfCustomers"]) == 0:
            conn.execute("DELETE FROM lm_customers WHERE market=? AND udc=? AND lse=? AND class=?", key)
        else:
            conn.execute(
                "INSERT OR REPLACE INTO lm_customers VALUES (?,?,?,?,?,?)",
                (*key, int(rec["numberOfCustomers"]), iso(now)),
            )


def submit_dasr(
    conn: sqlite3.Connection,
    market: LMMarket,
    udc: str,
    effective: datetime,
    records: list[dict[str, Any]],
    now: datetime,
) -> None:
    """A DASR set for the market's effective date (LMV023), upserted by record id; known LSEs,
    each transfer between two different ones."""
    if effective != market.effective:
        raise CRRError("LMV023", iso(effective), iso(market.effective))
    errors = lse_errors(records, "fromLse", "toLse")
    errors += [
        CRRError("SER0030", f"Record {n}: fromLse and toLse are the same LSE.")
        for n, r in enumerate(records, start=1)
        if r["fromLse"] == r["toLse"]
    ]
    raise_all(errors)
    for rec in records:
        conn.execute(
            "INSERT OR REPLACE INTO lm_dasr VALUES (?,?,?,?,?,?,?,?)",
            (
                market.name,
                udc,
                rec["recordId"],
                rec["class"],
                rec["fromLse"],
                rec["toLse"],
                int(rec["numCustomerTransfer"]),
                iso(now),
            ),
        )


def submit_rates(
    conn: sqlite3.Connection, market: LMMarket, udc: str, records: list[dict[str, Any]], now: datetime
) -> None:
    """Upsert by class, TOU and season; the first upload date is kept."""
    for rec in records:
        conn.execute(
            "INSERT INTO lm_rates VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(market, udc, class, tou, season)"
            " DO UPDATE SET year=excluded.year, kw_milli=excluded.kw_milli, last_modified=excluded.last_modified",
            (
                market.name,
                udc,
                rec["class"],
                rec["tou"],
                int(rec["seasonNumber"]),
                int(rec["year"]),
                round(float(rec["kwRate"]) * 1000),
                iso(now),
                iso(now),
            ),
        )


Submitted = Literal["customers", "dasr", "rates"]
# what a UDC has submitted: the table and its order, per kind of data
SUBMITTED = {
    "customers": ("lm_customers", "lse, class"),
    "dasr": ("lm_dasr", "record_id"),
    "rates": ("lm_rates", "class, season, tou"),
}


def submitted(conn: sqlite3.Connection, kind: Submitted, market: LMMarket, udc: str) -> list[sqlite3.Row]:
    table, order_by = SUBMITTED[kind]
    return conn.execute(
        f"SELECT * FROM {table} WHERE market=? AND udc=? ORDER BY {order_by}", (market.name, udc)
    ).fetchall()


def configured_market(conn: sqlite3.Connection, name: str, now: datetime) -> LMMarket:
    """A market past PREP (LMV1002: not configured yet)."""
    market = require_market(conn, name)
    if market.status(now) == "PREP":
        raise CRRError("LMV1002")
    return market


def posted_market(conn: sqlite3.Connection, name: str, now: datetime) -> LMMarket:
    """A POSTED market (LMV0103 otherwise): its percentages and CRRs exist."""
    market = require_market(conn, name)
    if market.status(now) != "POSTED":
        raise CRRError("LMV0103", market.name)
    return market


def percentages_for(conn: sqlite3.Connection, market: LMMarket, sc: str) -> list[sqlite3.Row]:
    """The load percentages ``sc`` is party to: as losing or gaining asset owner, or at its UDCs."""
    udcs = [u for u, (owner, _) in UDCS.items() if owner == sc]
    marks = ",".join("?" * len(udcs)) or "''"
    return conn.execute(
        f"SELECT * FROM lm_percentages WHERE market = ? AND (from_ao = ? OR to_ao = ? OR udc IN ({marks}))"
        " ORDER BY id",
        (market.name, sc, sc, *udcs),
    ).fetchall()


def crrs_for(conn: sqlite3.Connection, market: LMMarket, sc: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM lm_crrs WHERE market = ? AND owner = ? ORDER BY crr_id", (market.name, sc)
    ).fetchall()


def nhour_data(conn: sqlite3.Connection, market: LMMarket, now: datetime) -> list[sqlite3.Row]:
    """N-hour data, once the market says it is posted and its post date has passed (LMV0101)."""
    if market.nhour_posting != "Yes" or (market.nhour_post_date and now < market.nhour_post_date):
        raise CRRError("LMV0101")
    rows = conn.execute(
        "SELECT * FROM lm_nhour WHERE market = ? ORDER BY dlap, season, tou, effective_date, he",
        (market.name,),
    ).fetchall()
    if not rows:
        raise CRRError("LMV0101")
    return rows
